// Ofn's extensions to OpenFunction's schemas: fields OpenFunction does not
// have, for what Ofn adds (the `nats` and `webhook` event sources, an
// EventBus on any Dapr pub/sub component).
//
// The schema registry merges each into the kind's spec schema, so they are
// validated like any field; Validate() notes each one used, since
// OpenFunction on Kubernetes would prune it. A constant table; thread-safe.
#pragma once

#include <string_view>
#include <vector>

namespace ofn::api {

struct SchemaExtension {
  std::string_view group;
  std::string_view kind;
  std::string_view field;   // a member of spec
  std::string_view schema;  // its OpenAPI v3 schema, JSON
};

const std::vector<SchemaExtension>& OfnSchemaExtensions();

}  // namespace ofn::api

// Schema: a compiled OpenAPI v3 schema, of the subset Kubernetes CRDs use.
//
// Supported: type, format (int32, int64, duration), properties, required,
// items, additionalProperties, enum, minimum/maximum (and exclusive),
// min/maxLength, pattern, min/maxItems, min/maxProperties, nullable,
// x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string,
// x-kubernetes-list-type (set, map with x-kubernetes-list-map-keys),
// anyOf/oneOf/allOf/not. Other keywords (description, default,
// x-kubernetes-map-type...) do not constrain values and are skipped.
//
// Validation follows the API server: every error is reported, not just the
// first; a null field that is not nullable counts as absent (Kubernetes prunes
// it); a field the schema does not know is not an error but is listed as
// unknown (Kubernetes prunes it too), unless the schema preserves unknown
// fields there. Compiled schemas are immutable: any number of threads may
// validate with one at once.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/diagnostic.h"
#include "api/field_path.h"
#include "ofn/status.h"

namespace ofn::api {

class Schema {
 public:
  struct Outcome {
    std::vector<Diagnostic> errors;   // pointer, path and message set; no source or position
    std::vector<Diagnostic> unknown;  // fields the schema does not know (message empty)
  };

  // What the schema says about one field of a value.
  struct FieldInfo {
    enum class Kind {
      kUnknown,  // not in the schema: pruned by Kubernetes, ignored by Ofn
      kUntyped,  // kept as is (preserved unknown fields, or a schema without a type)
      kTyped,    // has a type (or is int-or-string): a value of another type is an error
    };
    Kind kind = Kind::kUnknown;
    std::string type;                   // "string", ..., "int-or-string"; "" when untyped
    std::vector<std::string> required;  // for objects
  };

  static Result<std::unique_ptr<Schema>> Compile(const nlohmann::json& openapi_v3_schema);
  ~Schema();
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  // Validates `value`, which sits at `at` in its document.
  void Validate(const nlohmann::json& value, const FieldPath& at, Outcome* out) const;
  // Describes the field at `pointer` (relative to `root`, which this schema
  // describes), following the values in root to pick list items and map keys.
  FieldInfo Lookup(const nlohmann::json& root, std::string_view pointer) const;

  struct Node;  // compiled form; defined in schema.cc

 private:
  explicit Schema(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

}  // namespace ofn::api

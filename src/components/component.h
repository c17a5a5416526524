// ComponentSpec: one Dapr component as Ofn's component host sees it.
//
// It comes either from a standalone `dapr.io/v1alpha1` Component document or
// from a Function's inline `serving.bindings|pubsub|states.<name>` entry; both
// carry Dapr's {type, version, metadata[{name, value}]} shape. The registry
// (registry.h) turns a spec into live backends by its type name.
#pragma once

#include <string>

#include "components/metadata.h"
#include "ofn/status.h"

namespace ofn::components {

struct ComponentSpec {
  std::string name;     // metadata.name, or the key of an inline entry
  std::string ns;       // namespace ("default" when unset)
  std::string type;     // Dapr type name, e.g. "pubsub.redis"
  std::string version;  // e.g. "v1"
  Metadata metadata;
  std::string app_id;    // the app using it: consumerID's default and {appID}
  std::string data_dir;  // a directory the component may own (embedded backends keep their files here)

  // "pubsub.redis component orders": how errors name the component.
  std::string Describe() const { return type + " component " + name; }
};

// Reads Dapr's component spec JSON ({type, version, metadata: [{name, value}]}).
// Values that are numbers or bools are stringified; an entry whose only value
// is a `secretKeyRef` or `envRef` is an error (Ofn has no secret stores yet),
// except the empty `secretKeyRef: {name: ""}` OpenFunction puts beside `value`.
// Template tags {uuid} and {appID} in values are replaced.
Result<ComponentSpec> ParseComponentSpec(std::string_view spec_json, std::string name, std::string ns,
                                         std::string app_id);

}  // namespace ofn::components

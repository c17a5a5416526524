// Object: one resource the user applied, as the store keeps it.
//
// A row of the state of record: an OpenFunction Function, a Gateway, later
// EventSources and the rest, identified by (kind, ns, name). The caller owns
// api_version, the names and the three JSON documents; the store assigns uid,
// generation, resource_version and created_at, and stores the JSON in
// canonical form (compact, object keys sorted) so that "did the spec change?"
// compares meaning, not formatting. A plain value: copy it freely; not
// thread-safe to mutate concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ofn::store {

struct Object {
  std::string api_version;  // "core.openfunction.io/v1beta2"
  std::string kind;         // "Function"
  std::string ns;           // the namespace; "" for a cluster-scoped kind
  std::string name;
  std::string uid;                // UUID v4 given on create; a re-created object gets a new one
  int64_t generation = 0;         // 1 on create, +1 whenever spec_json changes (like Kubernetes)
  int64_t resource_version = 0;   // the store version of this object's last change
  std::string spec_json;          // a JSON object ("" is taken as {})
  std::string status_json;        // a JSON object, written by controllers through UpdateStatus
  std::string metadata_json;      // labels, annotations: a JSON object
  std::string created_at;         // RFC 3339, UTC, whole seconds
};

// `Function "default/hello"`, or `ClusterEventBus "default"` when ns is empty:
// how every store error names an object.
std::string DisplayName(std::string_view kind, std::string_view ns, std::string_view name);
inline std::string DisplayName(const Object& o) { return DisplayName(o.kind, o.ns, o.name); }

}  // namespace ofn::store

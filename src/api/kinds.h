// The kinds of object the CLI knows by name: how `ofn get fn` turns "fn" into
// Function, and how a kind prints the way kubectl prints it
// ("function.core.openfunction.io/hello").
//
// The server accepts the same aliases (docs/api.md); the CLI resolves them
// itself so it can print kubectl's names and reject a typo before any request.
// A static table; every function is pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ofn::api {

struct KindName {
  std::string_view kind;      // "Function"
  std::string_view group;     // "core.openfunction.io"
  std::string_view version;   // preferred version, "v1beta2"
  std::string_view singular;  // "function"
  std::string_view plural;    // "functions"
  std::vector<std::string_view> short_names;  // "fn"
  bool namespaced = true;

  // "function.core.openfunction.io": kubectl's name for the resource in messages.
  std::string Qualified() const;
  std::string ApiVersion() const;  // "core.openfunction.io/v1beta2"
};

// Every known kind, in the order `ofn get` with no type prints them.
const std::vector<KindName>& KnownKinds();

// Resolves a kind, plural, singular, short name or group-qualified name
// ("functions.core.openfunction.io"), case-insensitively. Null if unknown.
const KindName* LookupKind(std::string_view name);

// kubectl's name for an object's resource from its apiVersion and kind, even
// for a kind this table does not know: "function.core.openfunction.io",
// "configmap" for the core group.
std::string QualifiedResource(std::string_view api_version, std::string_view kind);

}  // namespace ofn::api

// The resource kinds Ofn reads, and their schemas, embedded in the library.
//
// The schemas are OpenFunction's CRD schemas (plus the Dapr Component, whose
// spec OpenFunction embeds), generated into embedded_crd_schemas.cc by
// scripts/gen-crd-schemas.sh, so Ofn needs no files at run time. The bundle
// is parsed on first use and each schema compiled on first use; every
// function here is thread-safe and returns pointers valid for the life of the
// process.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ofn::api {

class Schema;

struct KindInfo {
  std::string group;   // "core.openfunction.io"
  std::string kind;    // "Function"
  std::string plural;  // "functions"
  bool namespaced = true;
  std::vector<std::string> versions;  // served, oldest first
  std::string storage_version;        // the version Ofn stores ("v1beta2")
};

// All kinds in the bundle, in a stable order.
const std::vector<KindInfo>& Kinds();
// nullptr when the group has no such kind.
const KindInfo* FindKind(std::string_view group, std::string_view kind);
// The compiled schema of one version; nullptr when unknown.
const Schema* FindSchema(std::string_view group, std::string_view version, std::string_view kind);
// The same schema as JSON (descriptions stripped); nullptr when unknown.
const nlohmann::json* FindSchemaJson(std::string_view group, std::string_view version, std::string_view kind);
// Where the schemas come from (the OpenFunction commit), for `ofn version`.
const std::string& SchemaSource();

}  // namespace ofn::api

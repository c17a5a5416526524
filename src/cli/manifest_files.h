// The manifests named by -f: files, directories (their *.yaml, *.yml and
// *.json files, sorted, not recursive — as kubectl without -R), and "-" for
// stdin. And, for `delete -f`, which objects a manifest names.
//
// Reads the filesystem; otherwise stateless and thread-safe.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "ofn/status.h"

namespace ofn::cli {

struct ManifestInput {
  std::string source;  // the path as given (or "<stdin>"): names the file in errors
  std::string text;
};

// In the order given, each directory expanded in sorted order. INVALID_ARGUMENT
// ("the path \"x\" does not exist") for a path that is not there, NOT_FOUND for
// an unreadable file.
Result<std::vector<ManifestInput>> ReadManifests(const std::vector<std::string>& paths, std::istream& in);

struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;  // empty when the manifest gives none
  std::string name;
};

// Every object in a manifest (YAML or JSON, several documents, `kind: List`
// expanded). INVALID_ARGUMENT naming the source and line for a syntax error or
// a document without kind or metadata.name.
Result<std::vector<ObjectRef>> ObjectRefs(const ManifestInput& input);

}  // namespace ofn::cli

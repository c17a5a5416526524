// For tests only: where OpenFunction's CRDs and sample manifests are.
//
// They live in ../shared/specs beside the repository (here and in CI), not in
// it. The path comes from the OFN_SPECS_DIR environment variable, else the
// OFN_SPECS_DIR compile definition, else is derived from this file's own
// path. Tests that need the files fail (never skip) when they are missing.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ofn::api::specs {

inline std::filesystem::path SpecsDir() {
  if (const char* env = std::getenv("OFN_SPECS_DIR"); env != nullptr && *env != '\0') return env;
#ifdef OFN_SPECS_DIR
  return OFN_SPECS_DIR;
#else
  // This file is <repo>/src/api/testing_specs.h; the specs are <repo>/../shared/specs.
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "shared" / "specs";
#endif
}

inline std::string MissingSpecsMessage() {
  return "OpenFunction specs not found at " + SpecsDir().string() +
         " (expected ../shared/specs beside the repository; set OFN_SPECS_DIR to override)";
}

// Every *.yaml / *.yml / *.json under the sample directories, sorted.
inline std::vector<std::filesystem::path> SampleManifests() {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"openfunction-samples", "openfunction-config-samples"}) {
    std::filesystem::path root = SpecsDir() / dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
      auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ofn::api::specs

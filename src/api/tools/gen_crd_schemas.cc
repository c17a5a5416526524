// Generates src/api/embedded_crd_schemas.cc from OpenFunction's CRD files.
// Built and run by scripts/gen-crd-schemas.sh:
//   gen-crd-schemas SOURCE_FILE CRD.yaml... > embedded_crd_schemas.cc
// SOURCE_FILE holds the upstream commit the CRDs come from.
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/crd_bundle.h"
#include "api/manifest.h"

namespace {

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " SOURCE_FILE CRD.yaml...\n";
    return 2;
  }
  std::string note;
  if (!ReadFile(argv[1], &note)) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  while (!note.empty() && (note.back() == '\n' || note.back() == '\r')) note.pop_back();
  note = "OpenFunction commit " + note;
  std::vector<ofn::api::Document> crds;
  for (int i = 2; i < argc; ++i) {
    std::string text;
    if (!ReadFile(argv[i], &text)) {
      std::cerr << "cannot read " << argv[i] << "\n";
      return 1;
    }
    std::string name = argv[i];
    name = name.substr(name.rfind('/') + 1);
    auto docs = ofn::api::ParseManifests(text, name);
    if (!docs.ok()) {
      std::cerr << docs.status().message() << "\n";
      return 1;
    }
    for (auto& d : *docs) crds.push_back(std::move(d));
  }
  auto bundle = ofn::api::BuildCrdBundle(crds, note);
  if (!bundle.ok()) {
    std::cerr << bundle.status().message() << "\n";
    return 1;
  }
  auto source = ofn::api::RenderCrdBundleSource(*bundle);
  if (!source.ok()) {
    std::cerr << source.status().message() << "\n";
    return 1;
  }
  std::cout << *source;
  return 0;
}

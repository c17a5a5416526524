#include "api/crd_bundle.h"

#include <gtest/gtest.h>

#include "api/embedded_crd_schemas.h"
#include "api/testing_specs.h"

namespace ofn::api {
namespace {

using nlohmann::json;

json BundleFromSpecs() {
  auto dir = specs::SpecsDir() / "openfunction-crds";
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << specs::MissingSpecsMessage();
  std::vector<Document> crds;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto docs = ParseManifests(specs::ReadFile(f), f.filename().string());
    EXPECT_TRUE(docs.ok()) << docs.status().message();
    if (docs.ok()) {
      for (auto& d : *docs) crds.push_back(std::move(d));
    }
  }
  std::string note = specs::ReadFile(dir / "SOURCE");
  while (!note.empty() && note.back() == '\n') note.pop_back();
  auto bundle = BuildCrdBundle(crds, "OpenFunction commit " + note);
  EXPECT_TRUE(bundle.ok()) << bundle.status().message();
  return bundle.ok() ? *bundle : json();
}

// The embedded schemas are what scripts/gen-crd-schemas.sh makes of the CRDs
// in ../shared/specs; when this fails, run the script.
TEST(CrdBundle, EmbeddedMatchesTheCrdFiles) {
  json embedded = json::parse(EmbeddedCrdSchemas());
  json fresh = BundleFromSpecs();
  ASSERT_TRUE(fresh.is_object());
  EXPECT_EQ(embedded["source"], fresh["source"]);
  ASSERT_EQ(embedded["kinds"].size(), fresh["kinds"].size());
  for (std::size_t i = 0; i < fresh["kinds"].size(); ++i) {
    EXPECT_TRUE(embedded["kinds"][i] == fresh["kinds"][i])
        << fresh["kinds"][i]["kind"] << " differs: run scripts/gen-crd-schemas.sh";
  }
}

TEST(CrdBundle, StripsDescriptionsAndFixesDynamicValue) {
  json fresh = BundleFromSpecs();
  std::string text = fresh.dump();
  EXPECT_EQ(text.find("\"description\""), std::string::npos);
  EXPECT_LT(text.size(), 200u * 1024) << "keep the embedded schemas compact";
  const json& fn = fresh["kinds"][0];
  ASSERT_EQ(fn["kind"], "Function");
  const json& value = fn["versions"]["v1beta2"]["properties"]["spec"]["properties"]["serving"]["properties"]["bindings"]
                        ["additionalProperties"]["properties"]["metadata"]["items"]["properties"]["value"];
  EXPECT_FALSE(value.contains("type"));
  EXPECT_EQ(value["x-kubernetes-preserve-unknown-fields"], true);
}

TEST(CrdBundle, RendersCompilableSource) {
  json bundle = {{"source", "test"}, {"kinds", json::array({{{"kind", std::string(9000, 'x')}}})}};
  auto source = RenderCrdBundleSource(bundle);
  ASSERT_TRUE(source.ok());
  EXPECT_NE(source->find("SOURCE: test"), std::string::npos);
  EXPECT_NE(source->find("std::string EmbeddedCrdSchemas()"), std::string::npos);
  EXPECT_EQ(std::count(source->begin(), source->end(), '\n') > 3, true);
  json bad = {{"source", "x"}, {"kinds", json::array({"ends with )ofn"})}};
  EXPECT_FALSE(RenderCrdBundleSource(bad).ok());
  EXPECT_FALSE(BuildCrdBundle({}, "x").ok()) << "the Function CRD is required";
}

}  // namespace
}  // namespace ofn::api

#include "server/build_controller.h"

#include <gtest/gtest.h>

#include "api/load.h"

namespace ofn::server {
namespace {

api::Function Fn(const std::string& build_yaml, const std::string& image = "local/f:v1") {
  std::string text = "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: f\nspec:\n"
                     "  version: v1.0.0\n  image: " + image + "\n  build:\n" + build_yaml +
                     "  serving:\n    triggers:\n      http:\n        port: 8080\n";
  auto loaded = api::LoadManifests(text, "f.yaml");
  EXPECT_TRUE(loaded.ok() && !loaded->empty() && loaded->front().function);
  if (loaded.ok() && !loaded->empty()) {
    EXPECT_TRUE(loaded->front().ok()) << api::FormatDiagnostics(loaded->front().errors);
  }
  return *loaded->front().function;
}

TEST(BuildRequestForTest, ReadsOpenFunctionsFields) {
  auto r = BuildRequestFor(Fn("    builder: openfunction/builder-node:latest\n    env:\n      FUNC_NAME: hello\n"
                              "    srcRepo:\n      url: https://example.com/r.git\n      revision: main\n"
                              "      sourceSubPath: fn/hello\n    timeout: 90s\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source.url, "https://example.com/r.git");
  EXPECT_EQ(r->source.revision, "main");
  EXPECT_EQ(r->source.source_sub_path, "fn/hello");
  EXPECT_EQ(r->builder, "openfunction/builder-node:latest");
  EXPECT_EQ(r->env.at("FUNC_NAME"), "hello");
  EXPECT_EQ(r->timeout, std::chrono::seconds(90));
  EXPECT_EQ(r->image, "local/f:v1");
}

TEST(BuildRequestForTest, ShipwrightStrategyAndTimeoutAreTheFallbacks) {
  auto r = BuildRequestFor(Fn("    shipwright:\n      strategy:\n        name: cpp\n        kind: ClusterBuildStrategy\n"
                              "      timeout: 5m\n    srcRepo:\n      url: /src\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->builder, "cpp");
  EXPECT_EQ(r->timeout, std::chrono::minutes(5));
}

TEST(BuildRequestForTest, BadFieldsAreNamed) {
  // What apply already rejects (no url, a bad duration) cannot reach a build; a builder Ofn lacks can.
  api::Function fn = Fn("    builder: openfunction/builder-go:v2\n    srcRepo:\n      url: /src\n");
  fn.build["timeout"] = "soon";
  fn.build["srcRepo"].erase("url");
  auto r = BuildRequestFor(fn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("spec.build.srcRepo.url: required"), std::string::npos) << m;
  EXPECT_NE(m.find("spec.build.builder: unknown builder \"openfunction/builder-go:v2\""), std::string::npos) << m;
  EXPECT_NE(m.find("spec.build.timeout: \"soon\" is not a positive duration"), std::string::npos) << m;
}

}  // namespace
}  // namespace ofn::server

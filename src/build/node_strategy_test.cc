// The node strategy end to end: package.json -> npm -> an image that serves
// the function with Google's functions framework. Needs node, npm (and the
// npm registry or a warm npm cache), skopeo, umoci and root.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "build/builder.h"
#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::RunTool;
using ofn::build::testing::ServeImage;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class NodeStrategyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"node", "npm", "skopeo", "umoci"}) {
      std::string missing = NeedTool(tool);
      ASSERT_TRUE(missing.empty()) << missing;
    }
  }

  void WriteFunction(const std::string& dir, const std::string& package, const std::string& index) {
    fs::create_directories(dir);
    ASSERT_TRUE(WriteFile(dir + "/package.json", package).ok());
    ASSERT_TRUE(WriteFile(dir + "/index.js", index).ok());
  }
  BuildRequest Request(const std::string& dir, OciLayout* layout) {
    BuildRequest r;
    r.source.url = dir;
    r.layout = layout;
    r.image = "hello";
    r.env = {{"FUNC_NAME", "helloWorld"}, {"FUNC_TYPE", "http"}};
    r.work_root = dir_.Sub("work");
    r.log_path = dir_.Sub("build.log");
    r.timeout = 300s;
    return r;
  }
  std::string Log() const { return ReadFile(dir_.Sub("build.log")).value_or(""); }
  OciLayout Layout(const std::string& name) {
    auto l = OciLayout::Open(dir_.Sub(name));
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return std::move(*l);
  }
  std::string Serve(const std::string& layout) {
    std::string body;
    ServeImage(dir_.Sub(layout), "hello", dir_.Sub("bundle-" + std::to_string(bundles_++)), &body);
    return body;
  }

  TempDir dir_{"ofn-node"};
  int bundles_ = 0;
};

constexpr char kCommonJsPackage[] = R"({"name": "hello", "version": "1.0.0", "main": "index.js"})";

TEST_F(NodeStrategyTest, CommonJsFunctionServesAndRebuildsFromTheCache) {
  WriteFunction(dir_.Sub("fn"), kCommonJsPackage, "exports.helloWorld = (req, res) => res.send('Hello from Node');\n");
  // Written with umask 077: the image's user (not root) must still read it.
  fs::permissions(dir_.Sub("fn"), fs::perms(0700));
  fs::permissions(dir_.Sub("fn/index.js"), fs::perms(0600));
  OciLayout layout = Layout("oci");
  auto first = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  ASSERT_TRUE(first.ok()) << first.status().ToString() << "\n" << Log();
  EXPECT_EQ(first->strategy, "node");
  EXPECT_FALSE(first->cached);
  EXPECT_NE(Log().find("[build] installing dependencies (npm install)"), std::string::npos) << Log();
  EXPECT_NE(Log().find("[build] adding @google-cloud/functions-framework@^3"), std::string::npos) << Log();

  auto inspect = RunTool({"skopeo", "inspect", "--config", "oci:" + dir_.Sub("oci") + ":hello"});
  ASSERT_TRUE(inspect.ok()) << inspect.Describe();
  const json config = json::parse(inspect.out, nullptr, false);
  ASSERT_TRUE(config.is_object()) << inspect.out;
  const json& c = config["config"];
  EXPECT_EQ(c["Entrypoint"],
            json::array({"/usr/bin/node", "/app/node_modules/@google-cloud/functions-framework/build/src/main.js"}));
  for (const char* e :
       {"FUNCTION_TARGET=helloWorld", "FUNCTION_SIGNATURE_TYPE=http", "PORT=8080", "NODE_ENV=production"}) {
    EXPECT_NE(std::find(c["Env"].begin(), c["Env"].end(), e), c["Env"].end()) << e << " " << c["Env"].dump();
  }
  EXPECT_EQ(c["WorkingDir"], "/app");
  EXPECT_EQ(c["User"], "65532:65532");
  EXPECT_EQ(c["ExposedPorts"], json::parse(R"({"8080/tcp":{}})"));
  EXPECT_EQ(config["rootfs"]["diff_ids"].size(), 2u) << "the node runtime, then the app";

  EXPECT_EQ(Serve("oci"), "Hello from Node");

  // Unchanged: from the cache, no npm.
  const auto start = Clock::now();
  auto again = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->manifest.digest, first->manifest.digest);
  EXPECT_LE(wall.count(), 300) << "an unchanged rebuild takes <= 300 ms";

  // A clean build elsewhere (no cache): the same image, byte for byte.
  OciLayout other = Layout("other");
  auto clean = Build(Request(dir_.Sub("fn"), &other), CancelToken());
  ASSERT_TRUE(clean.ok()) << clean.status().ToString() << "\n" << Log();
  EXPECT_FALSE(clean->cached);
  EXPECT_EQ(clean->manifest.digest, first->manifest.digest);
  std::cout << "[ INFO     ] node hello: build " << first->duration.count() << " ms, clean rebuild "
            << clean->duration.count() << " ms, cached " << wall.count() << " ms\n";
}

TEST_F(NodeStrategyTest, EsmFunctionWithALockfileAndTheFrameworkPinned) {
  // A package that depends on the framework itself, with a lockfile: npm ci.
  const std::string fn = dir_.Sub("esm");
  WriteFunction(fn,
                R"({"name": "hello-esm", "version": "1.0.0", "type": "module", "main": "index.js",
                    "dependencies": {"@google-cloud/functions-framework": "^3.3.0"}})",
                "export const helloWorld = (req, res) => res.send('Hello from ESM');\n");
  auto lock = RunTool({"npm", "install", "--package-lock-only", "--no-audit", "--no-fund", "--prefer-offline",
                       "--prefix", fn},
                      180s);
  ASSERT_TRUE(lock.ok()) << lock.Describe();
  ASSERT_TRUE(fs::exists(fn + "/package-lock.json"));
  OciLayout layout = Layout("oci");
  auto r = Build(Request(fn, &layout), CancelToken());
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << Log();
  EXPECT_NE(Log().find("[build] installing dependencies (npm ci)"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("[build] adding "), std::string::npos) << Log();
  EXPECT_EQ(Serve("oci"), "Hello from ESM");
}

TEST_F(NodeStrategyTest, NpmFailureAndMissingEntryPointAreClearErrors) {
  OciLayout layout = Layout("oci");
  // A dependency on a tarball that is not there: npm's own words.
  WriteFunction(dir_.Sub("bad"),
                R"({"name": "bad", "version": "1.0.0", "dependencies": {"ofn-test": "file:./missing.tgz"}})",
                "exports.helloWorld = (req, res) => res.send('x');\n");
  auto bad = Build(Request(dir_.Sub("bad"), &layout), CancelToken());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition) << bad.status().ToString();
  EXPECT_EQ(bad.status().message().rfind("npm install failed (exit ", 0), 0u) << bad.status().message();
  EXPECT_NE(bad.status().message().find("ENOENT"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("missing.tgz"), std::string::npos) << bad.status().message();
  EXPECT_NE(Log().find("[build] failed: npm install failed"), std::string::npos) << Log();

  // main names a file that is not there.
  WriteFunction(dir_.Sub("nomain"), R"({"name": "x", "main": "server.js"})", "");
  auto nomain = Build(Request(dir_.Sub("nomain"), &layout), CancelToken());
  EXPECT_EQ(nomain.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nomain.status().message(),
            "node builder: package.json's main \"server.js\" is not a file in the build context");

  // An unknown FUNC_TYPE.
  WriteFunction(dir_.Sub("type"), kCommonJsPackage, "");
  BuildRequest req = Request(dir_.Sub("type"), &layout);
  req.env["FUNC_TYPE"] = "grpc";
  auto type = Build(req, CancelToken());
  EXPECT_EQ(type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(type.status().message(), "node builder: FUNC_TYPE \"grpc\" is not one of http, event, cloudevent");
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

}  // namespace
}  // namespace ofn::build

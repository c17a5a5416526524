// Builds on `ofn server`: a Function's spec.build turned into an image in the
// server's image store, with status, logs, the cache, cancel, bad input and
// the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "platform/server_fixture.h"
#include "common/encoding.h"
#include "support/brokers.h"
#include "support/process.h"
#include "support/raw_http.h"
#include "support/sdk.h"

namespace ofn::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

// A compile takes seconds; on a loaded machine, many.
constexpr auto kBuildTime = 120s;

std::string BuildManifest(const std::string& name, const std::string& url, const std::string& build_extra = "",
                          const std::string& builder = "cpp") {
  return "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
         "\nspec:\n  version: v1.0.0\n  image: local/" + name + ":v1\n  build:\n    builder: " + builder + "\n" +
         build_extra + "    srcRepo:\n      url: " + url +
         "\n  serving:\n    triggers:\n      http:\n        port: 8080\n";
}

class Build : public ServerTest {
 protected:
  void SetUp() override {
    const std::string& sdk = InstalledSdk(OFN_BUILD_DIR);
    ASSERT_FALSE(sdk.empty());
    extra_args_ = {"--sdk-prefix", sdk};
    ServerTest::SetUp();
  }

  // examples/hello (a standalone CMake project) copied to dir_/NAME.
  std::string HelloSource(const std::string& name) {
    std::string dst = dir_.Sub(name);
    fs::copy(std::string(OFN_SOURCE_DIR) + "/examples/hello", dst, fs::copy_options::recursive);
    return dst;
  }

  Json WaitForBuild(const std::string& name) {
    return WaitForStatus(
        name, [](const Json& s) { return s["build"]["state"] != "Building" && s["build"]["state"] != "Skipped"; },
        kBuildTime);
  }

  Result<RawResponse> BuildLog(const std::string& name) { return Api("GET", "/v1/logs/default/" + name + "?build=true"); }
};

TEST_F(Build, ACppFunctionIsBuiltWithItsLogRebuiltFromTheCacheAndKeptOverARestart) {
  ASSERT_EQ(Apply(BuildManifest("hello", HelloSource("src")))->status, 200);
  Json obj = WaitForBuild("hello");
  ASSERT_EQ(obj["status"]["build"]["state"], "Succeeded") << obj.dump(2);
  std::string digest = obj["status"]["revision"]["imageDigest"];
  EXPECT_EQ(digest.rfind("sha256:", 0), 0u) << digest;
  EXPECT_FALSE(obj["status"]["build"]["buildDuration"].get<std::string>().empty());

  auto log = BuildLog("hello");
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->status, 200) << log->Describe();
  EXPECT_NE(log->body.find("[build] strategy cpp"), std::string::npos) << log->body;
  EXPECT_NE(log->body.find("[build] image " + digest), std::string::npos) << log->body;
  EXPECT_EQ(log->Header("X-Ofn-Log-Ended"), "true");

  // What the store holds is a standard image: skopeo reads the same digest.
  auto skopeo = Process::Start({.argv = {"/usr/bin/skopeo", "inspect", "--format", "{{.Digest}}",
                                         "oci:" + dir_.Sub("data/images") + ":local/hello:v1"},
                                .output_file = dir_.Sub("skopeo.txt")});
  ASSERT_TRUE(skopeo.ok());
  (*skopeo)->Wait(After(30s));
  EXPECT_EQ(ReadFile(dir_.Sub("skopeo.txt")).value_or(""), digest + "\n");

  // Built again: unchanged source is a cache hit.
  auto again = Api("POST", "/v1/builds/default/hello");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 202) << again->Describe();
  std::string cached_log;
  for (auto d = After(kBuildTime); std::chrono::steady_clock::now() < d;) {
    auto l = BuildLog("hello");
    if (l.ok() && l->Header("X-Ofn-Log-Ended") == "true" && l->body.find("[build] cached image") != std::string::npos) {
      cached_log = l->body;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(cached_log.find("[build] cached image " + digest), std::string::npos) << cached_log;
  obj = WaitForBuild("hello");
  EXPECT_EQ(obj["status"]["revision"]["imageDigest"], digest);

  // A restart keeps the image: no new build runs (the log stays as it was).
  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  ASSERT_TRUE(server_->Wait(After(20s)).has_value());
  StartServer();
  obj = WaitForBuild("hello");
  EXPECT_EQ(obj["status"]["build"]["state"], "Succeeded");
  EXPECT_EQ(obj["status"]["revision"]["imageDigest"], digest);
  EXPECT_EQ(BuildLog("hello")->body, cached_log);
}

// The pid of the process the OCI runtime started for a container whose
// bundle is under `dir`, or 0.
int ContainerInit(const std::string& dir) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile("/proc/" + pid + "/cmdline").value_or("");
    if (cmdline.rfind("crun", 0) != 0 && cmdline.find("/crun") == std::string::npos &&
        cmdline.find("runc") == std::string::npos) {
      continue;
    }
    if (cmdline.find(dir) == std::string::npos) continue;
    std::string children = ReadFile("/proc/" + pid + "/task/" + pid + "/children").value_or("");
    if (!children.empty()) return std::atoi(children.c_str());
  }
  return 0;
}

TEST_F(Build, ABuiltFunctionIsServedFromZeroAsAnIsolatedContainer) {
  std::string m = BuildManifest("boxed", HelloSource("src"));
  m.insert(m.find("spec:"), "  annotations:\n    ofn.io/readiness: socket\n");
  ASSERT_EQ(Apply(m)->status, 200);
  Json obj = WaitForBuild("boxed");
  ASSERT_EQ(obj["status"]["build"]["state"], "Succeeded") << obj.dump(2);
  obj = WaitForStatus("boxed", [](const Json& s) { return s["serving"]["state"] == "Running"; });

  auto r = Call("/default/boxed/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->Describe() << server_->Output();
  EXPECT_EQ(r->body, "Hello, World!\n");

  // It runs in a container: the image's user, its own network namespace.
  int pid = ContainerInit(dir_.Sub("data/containers"));
  ASSERT_GT(pid, 0) << "no container process under " << dir_.Sub("data/containers");
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status").value_or("");
  EXPECT_NE(status.find("\nUid:\t65532\t"), std::string::npos) << status;
  EXPECT_NE(status.find("\nNoNewPrivs:\t1"), std::string::npos) << status;
  std::error_code ec;
  EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/net", ec), fs::read_symlink("/proc/self/ns/net"));

  // Another Function runs the same image, as containers although it has a command (which replaces the
  // image's entrypoint), on the server's network; a bad annotation value is named.
  ASSERT_EQ(Apply("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: same-image\n"
                  "  annotations:\n    ofn.io/runtime: container\n    ofn.io/network: host\nspec:\n"
                  "  version: v1.0.0\n  image: local/boxed:v1\n  serving:\n    triggers:\n      http:\n"
                  "        port: 8080\n    template:\n      containers:\n        - name: function\n"
                  "          command: [\"/app/hello\"]\n")
                ->status,
            200);
  auto same = Call("/default/same-image/");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->status, 200) << same->Describe() << server_->Output();
  ASSERT_EQ(Apply("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: sideways\n"
                  "  annotations:\n    ofn.io/network: sideways\nspec:\n  version: v1.0.0\n  image: local/boxed:v1\n"
                  "  serving:\n    triggers:\n      http:\n        port: 8080\n")
                ->status,
            200);
  obj = WaitForStatus("sideways", [](const Json& s) { return s["serving"]["state"] == "Failed"; });
  EXPECT_EQ(obj["status"]["serving"]["reason"], "InvalidAnnotation");
  EXPECT_NE(obj["status"]["serving"]["message"].get<std::string>().find("ofn.io/network: \"sideways\""),
            std::string::npos);

  // Deleted: the container goes with it.
  ASSERT_EQ(Api("DELETE", "/v1/objects/function/default/same-image")->status, 200);
  ASSERT_EQ(Api("DELETE", "/v1/objects/function/default/boxed")->status, 200);
  bool gone = false;
  for (auto d = After(10s); !gone && std::chrono::steady_clock::now() < d;) {
    gone = ContainerInit(dir_.Sub("data/containers")) == 0 && !fs::exists("/proc/" + std::to_string(pid));
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "container process " << pid << " still runs";
}

TEST_F(Build, OpenFunctionsNodeSampleIsBuiltAndServedAsAContainer) {
  // The sample's manifest (functions/knative/hello-world-node) with its source here.
  std::string src = dir_.Sub("node");
  fs::create_directories(src);
  ASSERT_TRUE(WriteFile(src + "/index.js", "exports.helloWorld = (req, res) => res.send('Hello from Node');\n").ok());
  ASSERT_TRUE(WriteFile(src + "/package.json", R"({"name": "hello", "version": "1.0.0", "main": "index.js"})").ok());
  ASSERT_EQ(Apply("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: node-sample\nspec:\n"
                  "  version: v1.0.0\n  image: local/sample-node-func:v1\n  build:\n"
                  "    builder: openfunction/builder-node:latest\n    env:\n      FUNC_NAME: helloWorld\n"
                  "      FUNC_TYPE: http\n    srcRepo:\n      url: " + src + "\n  serving:\n    template:\n"
                  "      containers:\n        - name: function\n          imagePullPolicy: IfNotPresent\n"
                  "    triggers:\n      http:\n        port: 8080\n")
                ->status,
            200);
  Json obj = WaitForBuild("node-sample");
  ASSERT_EQ(obj["status"]["build"]["state"], "Succeeded") << obj.dump(2) << BuildLog("node-sample")->body;
  auto r = Call("/default/node-sample/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->Describe() << server_->Output();
  EXPECT_EQ(r->body, "Hello from Node");
}

TEST_F(Build, AKilledServersContainersAreDeletedWhenItStartsAgain) {
  std::string m = BuildManifest("left", HelloSource("src"));
  m.insert(m.find("spec:"), "  annotations:\n    ofn.io/readiness: socket\n");
  ASSERT_EQ(Apply(m)->status, 200);
  ASSERT_EQ(WaitForBuild("left")["status"]["build"]["state"], "Succeeded");
  WaitForStatus("left", [](const Json& s) { return s["serving"]["state"] == "Running"; });
  ASSERT_EQ(Call("/default/left/")->status, 200);
  int pid = ContainerInit(dir_.Sub("data/containers"));
  ASSERT_GT(pid, 0);

  // kill -9 takes `crun run` along but not its container (the OCI runtimes' way) ...
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  ASSERT_TRUE(server_->Wait(After(10s)).has_value());
  // ... which the next start deletes.
  StartServer();
  bool gone = false;
  for (auto d = After(10s); !gone && std::chrono::steady_clock::now() < d;) {
    gone = !fs::exists("/proc/" + std::to_string(pid));
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "the old container's process " << pid << " still runs";
  auto r = Call("/default/left/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << "served again, from a new container";
}

TEST_F(Build, BadBuildsFailWithTheReasonInStatusAndLogAndTheServerKeepsServing) {
  ASSERT_EQ(Apply("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: up\nspec:\n"
                  "  version: v1.0.0\n  image: local/up:v1\n  serving:\n    triggers:\n      http:\n        port: 8080\n"
                  "    template:\n      containers:\n        - name: function\n          command: [\"" OFN_HELLO "\"]\n")
                ->status,
            200);
  std::string src = HelloSource("src");

  // Not even fetched: the builder is unknown.
  ASSERT_EQ(Apply(BuildManifest("go", src, "", "openfunction/builder-go:latest"))->status, 200);
  // The context climbs out of the source.
  std::string climb = BuildManifest("climb", src);
  climb.insert(climb.find("      url:"), "      sourceSubPath: ../..\n");
  ASSERT_EQ(Apply(climb)->status, 200);
  // A symlink in the context points outside it.
  std::string linked = HelloSource("linked");
  fs::create_symlink("/etc/passwd", linked + "/passwd");
  ASSERT_EQ(Apply(BuildManifest("linked", linked))->status, 200);
  // The source does not compile.
  std::string broken = HelloSource("broken");
  ASSERT_TRUE(WriteFile(broken + "/hello.cc", "int main() { return undeclared_name; }\n").ok());
  ASSERT_EQ(Apply(BuildManifest("broken", broken))->status, 200);
  // There is no source.
  ASSERT_EQ(Apply(BuildManifest("nowhere", dir_.Sub("missing")))->status, 200);

  struct Expect {
    std::string name, reason, in_message;
  };
  for (const Expect& e : {Expect{"go", "InvalidBuild", "unknown builder \"openfunction/builder-go:latest\""},
                          Expect{"climb", "InvalidBuild", "sourceSubPath"},
                          Expect{"linked", "InvalidBuild", "passwd"},
                          Expect{"broken", "BuildFailed", "undeclared_name"},
                          Expect{"nowhere", "SourceNotFound", "missing"}}) {
    Json obj = WaitForBuild(e.name);
    EXPECT_EQ(obj["status"]["build"]["state"], "Failed") << e.name << ": " << obj.dump(2);
    EXPECT_EQ(obj["status"]["build"]["reason"], e.reason) << e.name << ": " << obj.dump(2);
    std::string message = obj["status"]["build"].value("message", "");
    EXPECT_NE(message.find(e.in_message), std::string::npos) << e.name << ": " << message;
  }
  // The compiler's words are in the build log too.
  auto log = BuildLog("broken");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->body.find("undeclared_name"), std::string::npos) << log->body;
  EXPECT_NE(log->body.find("[build] failed: "), std::string::npos) << log->body;

  auto up = Call("/default/up/");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->status, 200) << "the server keeps serving";
}

TEST_F(Build, ImagesArePushedToAndPulledFromTheRegistryTheyNameWithTheirCredentials) {
  auto registry = StartRegistry(dir_.Sub("registry"), "alice", "s3cret");
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  fs::create_directories(dir_.Sub("data/credentials"));
  auto docker_config = [&](const std::string& password) {
    return "{\"auths\": {\"" + registry->address + "\": {\"auth\": \"" + enc::Base64Encode("alice:" + password) +
           "\"}}}";
  };
  ASSERT_TRUE(WriteFile(dir_.Sub("data/credentials/reg.json"), docker_config("s3cret")).ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("data/credentials/wrong.json"), docker_config("guess")).ok());
  std::string src = HelloSource("src");
  for (const auto& [name, creds] : {std::pair{"pushed", "reg"}, std::pair{"refused", "wrong"}}) {
    std::string m = BuildManifest(name, src);
    m.replace(m.find("local/"), 6, registry->address + "/demo/");
    m.insert(m.find("  build:"), std::string("  imageCredentials:\n    name: ") + creds + "\n");
    ASSERT_EQ(Apply(m)->status, 200);
  }

  Json obj = WaitForBuild("pushed");
  ASSERT_EQ(obj["status"]["build"]["state"], "Succeeded") << obj.dump(2);
  std::string digest = obj["status"]["revision"]["imageDigest"];
  // skopeo reads back what was pushed, with the same digest.
  auto skopeo = Process::Start({.argv = {"/usr/bin/skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret",
                                         "--format", "{{.Digest}}", "docker://" + registry->address + "/demo/pushed:v1"},
                                .output_file = dir_.Sub("skopeo.txt")});
  ASSERT_TRUE(skopeo.ok());
  (*skopeo)->Wait(After(30s));
  EXPECT_EQ(ReadFile(dir_.Sub("skopeo.txt")).value_or(""), digest + "\n");
  EXPECT_NE(BuildLog("pushed")->body.find("[build] pushed " + registry->address + "/demo/pushed:v1@" + digest),
            std::string::npos)
      << BuildLog("pushed")->body;

  // An image only the registry has (copied there by skopeo) is pulled for a Function that names it.
  auto copy = Process::Start({.argv = {"/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "--dest-creds",
                                       "alice:s3cret", "oci:" + dir_.Sub("data/images") + ":" + registry->address +
                                           "/demo/pushed:v1",
                                       "docker://" + registry->address + "/demo/copied:v2"},
                              .output_file = dir_.Sub("copy.txt")});
  ASSERT_TRUE(copy.ok());
  auto copied = (*copy)->Wait(After(60s));
  ASSERT_TRUE(copied && copied->ok()) << (*copy)->Output();
  auto apply_pulling = [&](const std::string& name, const std::string& creds) {
    return Apply("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
                 "\nspec:\n  version: v1.0.0\n  image: " + registry->address + "/demo/copied:v2\n"
                 "  imageCredentials:\n    name: " + creds + "\n  serving:\n    triggers:\n      http:\n"
                 "        port: 8080\n")
        ->status;
  };
  // Refused first: once pulled, the image is in the store for every Function that names it.
  ASSERT_EQ(apply_pulling("not-pulled", "wrong"), 200);
  obj = WaitForStatus("not-pulled", [](const Json& s) { return s["serving"]["state"] == "Failed"; }, 60s);
  EXPECT_EQ(obj["status"]["serving"]["reason"], "ImagePullFailed");
  EXPECT_NE(obj["status"]["serving"]["message"].get<std::string>().find("authentication failed for user alice"),
            std::string::npos)
      << obj.dump(2);
  ASSERT_EQ(apply_pulling("pulled", "reg"), 200);
  WaitForStatus("pulled", [](const Json& s) { return s["serving"]["state"] == "Running"; }, 60s);
  auto pulled = Call("/default/pulled/");
  ASSERT_TRUE(pulled.ok());
  EXPECT_EQ(pulled->status, 200) << pulled->Describe();

  obj = WaitForBuild("refused");
  EXPECT_EQ(obj["status"]["build"]["state"], "Failed") << obj.dump(2);
  EXPECT_EQ(obj["status"]["build"]["reason"], "PushFailed") << obj.dump(2);
  std::string message = obj["status"]["build"].value("message", "");
  EXPECT_NE(message.find("authentication failed for user alice"), std::string::npos) << message;
  EXPECT_EQ(message.find("guess"), std::string::npos) << "the password never shows: " << message;
}

TEST_F(Build, ABuildIsCancelledOnRequest) {
  std::string src = dir_.Sub("slow");
  fs::create_directories(src);
  ASSERT_TRUE(WriteFile(src + "/CMakeLists.txt",
                        "cmake_minimum_required(VERSION 3.22)\nproject(slow CXX)\nadd_executable(slow slow.cpp)\n")
                  .ok());
  // The compiler works on this for minutes.
  ASSERT_TRUE(WriteFile(src + "/slow.cpp",
                        "constexpr long Spin(long n) { long s = 0; for (long i = 0; i < n; ++i)\n"
                        "  for (long j = 0; j < 200000; ++j) s += i ^ j; return s; }\n"
                        "static_assert(Spin(200000) != 1);\nint main() {}\n")
                  .ok());
  ASSERT_EQ(Apply(BuildManifest("slow", src))->status, 200);
  bool compiling = false;
  for (auto d = After(60s); !compiling && std::chrono::steady_clock::now() < d;) {
    auto log = BuildLog("slow");
    compiling = log.ok() && log->body.find("[build] compiling") != std::string::npos;
    if (!compiling) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(compiling) << BuildLog("slow")->body;
  auto cancelled = Api("DELETE", "/v1/builds/default/slow");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, 200) << cancelled->Describe();
  Json obj = WaitForStatus("slow", [](const Json& s) { return s["build"]["state"] == "Failed"; }, 10s);
  EXPECT_EQ(obj["status"]["build"]["reason"], "Cancelled") << obj.dump(2);
  EXPECT_EQ(Api("DELETE", "/v1/builds/default/slow")->status, 404) << "nothing left to cancel";
}

TEST_F(Build, TheCliBuildsShowsTheLogAndExitsWithTheResult) {
  std::string data = dir_.Sub("data");
  std::string file = dir_.Sub("hello.yaml");
  ASSERT_TRUE(WriteFile(file, BuildManifest("cli", HelloSource("src"))).ok());
  auto [built, out] = RunOfn(data, {"build", "-f", file}, dir_, kBuildTime);
  EXPECT_EQ(built, 0) << out;
  EXPECT_NE(out.find("function.core.openfunction.io/cli created"), std::string::npos) << out;
  EXPECT_NE(out.find("[build] strategy cpp"), std::string::npos) << out;
  EXPECT_NE(out.find("function/cli built: local/cli:v1@sha256:"), std::string::npos) << out;

  auto [logs, log_out] = RunOfn(data, {"logs", "cli", "--build"}, dir_);
  EXPECT_EQ(logs, 0) << log_out;
  EXPECT_NE(log_out.find("[build] image sha256:"), std::string::npos) << log_out;

  std::string broken = HelloSource("broken");
  ASSERT_TRUE(WriteFile(broken + "/hello.cc", "int main() { return undeclared_name; }\n").ok());
  ASSERT_TRUE(WriteFile(file, BuildManifest("cli", broken)).ok());
  auto [failed, fail_out] = RunOfn(data, {"build", "-f", file, "-q"}, dir_, kBuildTime);
  EXPECT_EQ(failed, 1) << fail_out;
  EXPECT_NE(fail_out.find("error: function/cli build Failed (BuildFailed)"), std::string::npos) << fail_out;
  EXPECT_EQ(fail_out.find("[build] "), std::string::npos) << "-q prints the result only: " << fail_out;
}

}  // namespace
}  // namespace ofn::testing

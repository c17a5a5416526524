#include "build/builder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "build/strategy.h"
#include "build/testing_tools.h"
#include "support/process.h"
#include "support/raw_http.h"
#include "support/sdk.h"

namespace ofn::build {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::ProcessWith;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The SDK, installed once per test binary run from this build tree.
const std::string& Sdk() { return ofn::testing::InstalledSdk(OFN_BUILD_DIR); }

constexpr char kProject[] = R"(cmake_minimum_required(VERSION 3.22)
project(hello_function CXX)
find_package(ofn REQUIRED)
ofn_add_function(hello SOURCES hello.cc)
)";

// examples/hello as a project built against the installed SDK (the example's
// own CMakeLists.txt is in-tree only).
void WriteHelloProject(const std::string& dir, const std::string& replace_world = "") {
  fs::create_directories(dir);
  ASSERT_TRUE(WriteFile(dir + "/CMakeLists.txt", kProject).ok());
  std::string hello = ReadFile(std::string(OFN_SOURCE_DIR) + "/examples/hello/hello.cc").value_or("");
  ASSERT_FALSE(hello.empty());
  if (!replace_world.empty()) hello.replace(hello.find("World"), 5, replace_world);
  ASSERT_TRUE(WriteFile(dir + "/hello.cc", hello).ok());
}


json ReadJsonBlob(const OciLayout& layout, const Digest& d) {
  auto text = layout.ReadBlob(d);
  return text.ok() ? json::parse(*text, nullptr, false) : json();
}

json ImageConfig(const OciLayout& layout, const Descriptor& manifest) {
  json m = ReadJsonBlob(layout, manifest.digest);
  auto d = Digest::Parse(m["config"]["digest"].get<std::string>());
  return d.ok() ? ReadJsonBlob(layout, *d) : json();
}

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(Sdk().empty()) << "cmake --install of " << OFN_BUILD_DIR << " failed"; }

  BuildRequest Request(const std::string& url, OciLayout* layout, const std::string& image = "fn:latest") {
    BuildRequest r;
    r.source.url = url;
    r.layout = layout;
    r.image = image;
    r.sdk_prefix = Sdk();
    r.work_root = dir_.Sub("work");
    r.log_path = dir_.Sub("build.log");
    return r;
  }
  std::string Log() const { return ReadFile(dir_.Sub("build.log")).value_or(""); }
  OciLayout Layout(const std::string& name) {
    auto l = OciLayout::Open(dir_.Sub(name));
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return std::move(*l);
  }

  // The image served from its unpacked rootfs; GET / and its body.
  void RunImage(const std::string& layout_dir, const std::string& tag, std::string* body) {
    ofn::build::testing::ServeImage(layout_dir, tag, dir_.Sub("bundle-" + std::to_string(bundles_++)), body);
  }

  TempDir dir_{"ofn-builder"};
  int bundles_ = 0;
};

TEST_F(BuilderTest, LocalProjectBuildsRunsAndRebuildsFromTheCache) {
  WriteHelloProject(dir_.Sub("fn"));
  OciLayout layout = Layout("oci");
  auto first = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  ASSERT_TRUE(first.ok()) << first.status().ToString() << "\n" << Log();
  EXPECT_FALSE(first->cached);
  EXPECT_EQ(first->strategy, "cpp");
  EXPECT_TRUE(first->revision.empty());
  const std::string log = Log();
  for (const char* line : {"[build] fetching source\n", "[build] strategy cpp (CMakeLists.txt)\n",
                           "[build] compiling\n", "[build] image " }) {
    EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
  }
  EXPECT_NE(log.find("[build] image " + first->manifest.digest.str() + " (2 layers, "), std::string::npos) << log;
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work"))) << "work dirs are removed";
  auto tagged = layout.Resolve("fn:latest");
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->digest, first->manifest.digest);
  const json config = ImageConfig(layout, first->manifest);
  EXPECT_EQ(config["config"]["ExposedPorts"], json::parse(R"({"8080/tcp":{}})"));
  EXPECT_EQ(config["config"]["Entrypoint"], json::array({"/app/hello"}));

  std::string body;
  RunImage(dir_.Sub("oci"), "fn:latest", &body);
  EXPECT_EQ(body, "Hello, World!\n");

  // Unchanged: from the cache, same digest, no tool run.
  const auto start = Clock::now();
  auto again = Build(Request(dir_.Sub("fn"), &layout, "fn:v2"), CancelToken());
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->manifest.digest, first->manifest.digest);
  EXPECT_LE(wall.count(), 300) << "issue 5: an unchanged rebuild takes <= 300 ms";
  EXPECT_EQ(layout.Resolve("fn:v2")->digest, first->manifest.digest);
  std::cout << "[ INFO     ] hello: full build " << first->duration.count() << " ms; unchanged rebuild "
            << again->duration.count() << " ms (" << wall.count() << " ms wall)\n";

  // One changed byte: built again, another image.
  WriteHelloProject(dir_.Sub("fn"), "Wprld");
  auto changed = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_FALSE(changed->cached);
  EXPECT_NE(changed->manifest.digest, first->manifest.digest);
  EXPECT_NE(changed->cache_key, first->cache_key);
}

TEST_F(BuilderTest, TwoCleanBuildsGiveTheSameDigest) {
  WriteHelloProject(dir_.Sub("fn"));
  OciLayout a = Layout("a");
  OciLayout b = Layout("b");
  auto first = Build(Request(dir_.Sub("fn"), &a), CancelToken());
  ASSERT_TRUE(first.ok()) << first.status().ToString() << "\n" << Log();
  auto second = Build(Request(dir_.Sub("fn"), &b), CancelToken());
  ASSERT_TRUE(second.ok()) << second.status().ToString() << "\n" << Log();
  EXPECT_FALSE(second->cached);
  std::cout << "[ INFO     ] two clean builds of hello: " << first->manifest.digest.str() << " and "
            << second->manifest.digest.str() << (first->manifest.digest == second->manifest.digest ? " (identical)\n" : " (DIFFER)\n");
  EXPECT_EQ(first->manifest.digest, second->manifest.digest);
}

class GitBuilderTest : public BuilderTest {
 protected:
  void Git(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::vector<std::string> argv = {"git", "-C", dir_.Sub("repo"), "-c", "user.name=t", "-c", "user.email=t@t"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunTool(argv, 30s);
    ASSERT_TRUE(r.ok()) << r.Describe();
    if (out != nullptr) *out = r.out.substr(0, r.out.find('\n'));
  }
};

TEST_F(GitBuilderTest, GitRepoAtATagAndACommitWithASubPath) {
  WriteHelloProject(dir_.Sub("repo/functions/hello"));
  ASSERT_TRUE(WriteFile(dir_.Sub("repo/README"), "one\n").ok());
  Git({"init", "-q", "-b", "main"});
  Git({"add", "."});
  Git({"commit", "-q", "-m", "hello"});
  Git({"tag", "v1"});
  std::string commit;
  Git({"rev-parse", "HEAD"}, &commit);
  ASSERT_TRUE(WriteFile(dir_.Sub("repo/README"), "two\n").ok());
  Git({"commit", "-q", "-am", "readme"});

  OciLayout layout = Layout("oci");
  BuildRequest req = Request("file://" + dir_.Sub("repo"), &layout);
  req.source.revision = "v1";
  req.source.source_sub_path = "functions/hello";
  auto tag = Build(req, CancelToken());
  ASSERT_TRUE(tag.ok()) << tag.status().ToString() << "\n" << Log();
  EXPECT_EQ(tag->revision, commit);
  EXPECT_FALSE(tag->cached);
  EXPECT_EQ(ImageConfig(layout, tag->manifest)["config"]["Labels"]["org.opencontainers.image.revision"], commit);

  req.source.revision = commit;  // the same commit by its id: the same inputs
  auto sha = Build(req, CancelToken());
  ASSERT_TRUE(sha.ok()) << sha.status().ToString() << "\n" << Log();
  EXPECT_TRUE(sha->cached);
  EXPECT_EQ(sha->manifest.digest, tag->manifest.digest);

  std::string body;
  RunImage(dir_.Sub("oci"), "fn:latest", &body);
  EXPECT_EQ(body, "Hello, World!\n");
}

TEST_F(BuilderTest, SingleFileWithTwoFunctionsServesFuncName) {
  fs::create_directories(dir_.Sub("fn"));
  ASSERT_TRUE(WriteFile(dir_.Sub("fn/fns.cpp"), R"(#include <ofn/ofn.h>
OFN_REGISTER(ofn::HttpFunction("one", [](const ofn::HttpRequest&) { return ofn::HttpResponse(200, "one\n"); }));
OFN_REGISTER(ofn::HttpFunction("two", [](const ofn::HttpRequest&) { return ofn::HttpResponse(200, "two\n"); }));
)").ok());
  OciLayout layout = Layout("oci");
  BuildRequest req = Request(dir_.Sub("fn"), &layout);
  req.env = {{"FUNC_NAME", "two"}};
  auto r = Build(req, CancelToken());
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << Log();
  EXPECT_NE(Log().find("[build] strategy cpp (single file fns.cpp)"), std::string::npos) << Log();
  const json config = ImageConfig(layout, r->manifest);
  EXPECT_EQ(config["config"]["Entrypoint"], json::array({"/app/two"}));
  const json& env = config["config"]["Env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "FUNCTION_TARGET=two"), env.end()) << env.dump();
  std::string body;
  RunImage(dir_.Sub("oci"), "fn:latest", &body);
  EXPECT_EQ(body, "two\n");
}

TEST_F(BuilderTest, PrebuiltExecutable) {
  fs::create_directories(dir_.Sub("fn"));
  fs::copy_file(OFN_HELLO_BINARY, dir_.Sub("fn/server"));
  ASSERT_TRUE(WriteFile(dir_.Sub("fn/README.md"), "notes\n").ok());
  OciLayout layout = Layout("oci");
  BuildRequest req = Request(dir_.Sub("fn"), &layout);
  req.env = {{"FUNC_NAME", "hello"}};
  auto r = Build(req, CancelToken());
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << Log();
  EXPECT_EQ(r->strategy, "executable");
  EXPECT_EQ(Log().find("[build] compiling"), std::string::npos);
  const json config = ImageConfig(layout, r->manifest);
  EXPECT_EQ(config["config"]["Entrypoint"], json::array({"/app/server"}));
  req.builder = "executable";
  req.env["BINARY"] = "README.md";  // not ELF
  auto bad = Build(req, CancelToken());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
}

TEST_F(BuilderTest, BadInputsAreClearErrors) {
  OciLayout layout = Layout("oci");
  WriteHelloProject(dir_.Sub("fn"));
  // '..' in sourceSubPath.
  BuildRequest req = Request(dir_.Sub("fn"), &layout);
  req.source.source_sub_path = "../..";
  auto dots = Build(req, CancelToken());
  EXPECT_EQ(dots.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Log().find("[build] failed: sourceSubPath \"../..\" must not contain '..'"), std::string::npos) << Log();
  // A symlink out of the context.
  ASSERT_EQ(::mkdir(dir_.Sub("fn/src").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../../etc", dir_.Sub("fn/src/x").c_str()), 0);
  auto link = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  EXPECT_EQ(link.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(link.status().message(), "build context: src/x -> ../../etc: escapes the context");
  ASSERT_EQ(::unlink(dir_.Sub("fn/src/x").c_str()), 0);
  // An unknown builder, named with the known ones.
  req = Request(dir_.Sub("fn"), &layout);
  req.builder = "openfunction/golang";
  auto unknown = Build(req, CancelToken());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "unknown builder \"openfunction/golang\" (known builders: cpp, dockerfile, executable, node)");
  // A Dockerfile without buildah (a PATH without it, whatever the machine has).
  fs::create_directories(dir_.Sub("docker"));
  fs::create_directories(dir_.Sub("emptybin"));
  ASSERT_TRUE(WriteFile(dir_.Sub("docker/Dockerfile"), "FROM scratch\n").ok());
  req = Request(dir_.Sub("docker"), &layout);
  req.tool_path = dir_.Sub("emptybin");
  auto docker = Build(req, CancelToken());
  EXPECT_EQ(docker.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(docker.status().message(),
            "the dockerfile builder needs buildah, which is not installed (apt-get install buildah)");
  // Node: a package.json without main or index.js.
  fs::create_directories(dir_.Sub("node"));
  ASSERT_TRUE(WriteFile(dir_.Sub("node/package.json"), "{}").ok());
  auto node = Build(Request(dir_.Sub("node"), &layout), CancelToken());
  EXPECT_EQ(node.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(node.status().message().find("no index.js"), std::string::npos) << node.status().message();
  // Nothing to build.
  fs::create_directories(dir_.Sub("empty"));
  auto empty = Build(Request(dir_.Sub("empty"), &layout), CancelToken());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Build(Request(dir_.Sub("fn"), &layout, "bad tag"), CancelToken()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

TEST_F(BuilderTest, CompileErrorShowsTheCompilerOutput) {
  WriteHelloProject(dir_.Sub("fn"));
  std::string src = ReadFile(dir_.Sub("fn/hello.cc")).value_or("");
  ASSERT_TRUE(WriteFile(dir_.Sub("fn/hello.cc"), src + "int broken = ;\n").ok());
  OciLayout layout = Layout("oci");
  auto r = Build(Request(dir_.Sub("fn"), &layout), CancelToken());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("compile failed", 0), 0u) << m;
  const std::string line = std::to_string(std::count(src.begin(), src.end(), '\n') + 1);
  EXPECT_NE(m.find("hello.cc:" + line + ":14: error: expected primary-expression"), std::string::npos) << m;
  EXPECT_NE(Log().find("[build] failed: compile failed"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

// A compile that takes minutes: nested constexpr loops under GCC's limits.
constexpr char kSlowProject[] = R"(cmake_minimum_required(VERSION 3.22)
project(slow CXX)
add_executable(slow slow.cpp)
)";
constexpr char kSlowSource[] = R"(constexpr long Spin(long n) {
  long s = 0;
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < 200000; ++j) s += i ^ j;
  return s;
}
static_assert(Spin(200000) != 1);
int main() {}
)";

TEST_F(BuilderTest, CancelWhileCompilingEndsQuicklyAndLeavesNoProcess) {
  fs::create_directories(dir_.Sub("slow"));
  ASSERT_TRUE(WriteFile(dir_.Sub("slow/CMakeLists.txt"), kSlowProject).ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("slow/slow.cpp"), kSlowSource).ok());
  OciLayout layout = Layout("oci");
  CancelToken cancel;
  Clock::time_point cancelled_at{};
  bool compiling = false;
  std::thread canceller([&] {
    const auto until = Clock::now() + 60s;
    // cc1plus also runs in cmake's configure (compiler checks), and other
    // tests compile slow.cpp too: wait for this build's.
    const std::initializer_list<std::string> ours = {"cc1plus", dir_.Sub("work"), "/slow.cpp"};
    while (Clock::now() < until && !ProcessWith(ours)) std::this_thread::sleep_for(10ms);
    compiling = ProcessWith(ours);
    std::this_thread::sleep_for(200ms);
    cancelled_at = Clock::now();
    cancel.Cancel();
  });
  auto r = Build(Request(dir_.Sub("slow"), &layout), cancel);
  const auto ended = Clock::now();
  canceller.join();
  EXPECT_TRUE(compiling) << "the compiler never ran\n" << Log();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "build cancelled");
  EXPECT_LT(ended - cancelled_at, 2s);
  EXPECT_NE(Log().find("[build] compiling"), std::string::npos);
  for (int i = 0; i < 100 && ProcessWith({dir_.Sub("work")}); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessWith({dir_.Sub("work")})) << "a process of the cancelled build is still running";
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

TEST_F(BuilderTest, TimeoutOnASlowBuild) {
  fs::create_directories(dir_.Sub("slow"));
  ASSERT_TRUE(WriteFile(dir_.Sub("slow/CMakeLists.txt"), kSlowProject).ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("slow/slow.cpp"), kSlowSource).ok());
  OciLayout layout = Layout("oci");
  BuildRequest req = Request(dir_.Sub("slow"), &layout);
  req.timeout = 1s;
  const auto start = Clock::now();
  auto r = Build(req, CancelToken());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "build timed out after 1s");
  EXPECT_LT(Clock::now() - start, 3s);
  for (int i = 0; i < 100 && ProcessWith({dir_.Sub("work")}); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessWith({dir_.Sub("work")}));
}

TEST(StrategyTest, BuilderNamesMatchLoosely) {
  auto name = [](std::string_view b) -> std::string {
    auto s = StrategyForBuilder(b);
    return s.ok() ? std::string((*s)->name()) : s.status().message();
  };
  EXPECT_EQ(name("cpp"), "cpp");
  EXPECT_EQ(name("openfunction-cpp-builder"), "cpp");
  EXPECT_EQ(name("C++"), "cpp");
  EXPECT_EQ(name("openfunction/builder-node:v2"), "node");
  EXPECT_EQ(name("buildah"), "dockerfile");
  EXPECT_EQ(name("kaniko"), "dockerfile");
  EXPECT_EQ(name("Dockerfile"), "dockerfile");
  EXPECT_EQ(name("executable"), "executable");
  EXPECT_EQ(name("go"), "unknown builder \"go\" (known builders: cpp, dockerfile, executable, node)");
}

TEST(StrategyTest, DetectionPrefersTheStrongestSignal) {
  TempDir dir("ofn-detect");
  auto detect = [&](const std::vector<std::string>& files) -> std::string {
    TempDir d("ofn-detect");
    for (const auto& f : files) {
      if (f == "ELF") {
        fs::copy_file(OFN_HELLO_BINARY, d.Sub("server"));
      } else {
        EXPECT_TRUE(WriteFile(d.Sub(f), "x").ok());
      }
    }
    auto r = DetectStrategy(d.path(), {});
    return r.ok() ? std::string(r->strategy->name()) + " (" + r->reason + ")" : "none";
  };
  EXPECT_EQ(detect({"CMakeLists.txt", "a.cpp", "package.json"}), "cpp (CMakeLists.txt)");
  EXPECT_EQ(detect({"package.json", "Dockerfile"}), "node (package.json)");
  EXPECT_EQ(detect({"Dockerfile", "a.cpp"}), "dockerfile (Dockerfile)");
  EXPECT_EQ(detect({"f.cpp"}), "cpp (single file f.cpp)");
  EXPECT_EQ(detect({"a.cpp", "b.cc"}), "none");
  EXPECT_EQ(detect({"ELF", "README"}), "executable (prebuilt server)");
  EXPECT_EQ(detect({"run.sh"}), "none");
}

}  // namespace
}  // namespace ofn::build

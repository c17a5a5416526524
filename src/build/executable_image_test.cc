#include "build/executable_image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "build/image.h"
#include "build/testing_tools.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::build {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

// The example function examples/hello of this build tree (CMake passes its path).
std::string HelloBinary() { return OFN_HELLO_BINARY; }

ExecutableImageSpec HelloSpec(const std::string& binary) {
  ExecutableImageSpec spec;
  spec.executable = binary;
  spec.env = {"FUNC_NAME=hello"};
  spec.labels = {{"org.opencontainers.image.revision", "abc123"}};
  spec.exposed_port = "8080";
  spec.extra_files.push_back(LayerEntry::File("/app/README", "hello\n"));
  return spec;
}

json ReadJsonBlob(const OciLayout& layout, const std::string& digest) {
  auto d = Digest::Parse(digest);
  if (!d.ok()) return {};
  auto text = layout.ReadBlob(*d);
  return text.ok() ? json::parse(*text, nullptr, false) : json();
}

class ExecutableImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hello_ = HelloBinary();
    ASSERT_EQ(::access(hello_.c_str(), X_OK), 0)
        << "no hello binary at " << hello_ << ": build it first (ninja -C <build dir> hello)";
  }
  TempDir dir_{"ofn-exe-image"};
  std::string hello_;
};

TEST_F(ExecutableImageTest, SameExecutableSameDigest) {
  auto a_layout = OciLayout::Open(dir_.Sub("a"));
  auto b_layout = OciLayout::Open(dir_.Sub("b"));
  ASSERT_TRUE(a_layout.ok() && b_layout.ok());
  auto a = WriteExecutableImage(*a_layout, HelloSpec(hello_), "hello");
  auto b = WriteExecutableImage(*b_layout, HelloSpec(hello_), "hello");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->digest, b->digest);
  auto again = WriteExecutableImage(*a_layout, HelloSpec(hello_), "hello");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, a->digest);
}

TEST_F(ExecutableImageTest, ConfigAndLayers) {
  auto layout = OciLayout::Open(dir_.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto desc = WriteExecutableImage(*layout, HelloSpec(hello_), "hello");
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  json manifest = ReadJsonBlob(*layout, desc->digest.str());
  ASSERT_EQ(manifest["layers"].size(), 2u) << manifest.dump();
  json config = ReadJsonBlob(*layout, manifest["config"]["digest"]);
  json c = config["config"];
  EXPECT_EQ(c["Entrypoint"], json::array({"/app/hello"}));
  EXPECT_EQ(c["Env"], json::array({"PATH=/usr/local/bin:/usr/bin:/bin", "FUNC_NAME=hello"}));
  EXPECT_EQ(c["User"], "65532:65532");
  EXPECT_EQ(c["WorkingDir"], "/app");
  EXPECT_EQ(c["ExposedPorts"], json::parse(R"({"8080/tcp":{}})"));
  EXPECT_EQ(c["Labels"]["org.opencontainers.image.revision"], "abc123");
  EXPECT_EQ(config["architecture"], HostArchitecture());
  EXPECT_EQ(config["history"][0]["created_by"], "ofn build: shared-library closure of hello");
  EXPECT_EQ(config["history"][1]["created_by"], "ofn build: app hello");

  ExecutableImageSpec custom = HelloSpec(hello_);
  custom.image_path = "/srv/fn";
  custom.entrypoint = {"/srv/fn", "--port", "9090"};
  custom.env = {"PATH=/srv"};
  auto d2 = WriteExecutableImage(*layout, custom, "custom");
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  const json m2 = ReadJsonBlob(*layout, d2->digest.str());
  const json c2 = ReadJsonBlob(*layout, m2["config"]["digest"])["config"];
  EXPECT_EQ(c2["Entrypoint"], json::array({"/srv/fn", "--port", "9090"}));
  EXPECT_EQ(c2["Env"], json::array({"PATH=/srv"}));
}

TEST_F(ExecutableImageTest, BadInputsAreClearErrors) {
  auto layout = OciLayout::Open(dir_.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("script"), "#!/bin/sh\necho hi\n").ok());
  ExecutableImageSpec spec;
  spec.executable = dir_.Sub("script");
  auto r = WriteExecutableImage(*layout, spec, "x");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not an ELF file"), std::string::npos) << r.status().ToString();
  spec.executable = dir_.Sub("none");
  EXPECT_EQ(WriteExecutableImage(*layout, spec, "x").status().code(), StatusCode::kNotFound);
  ExecutableImageSpec port = HelloSpec(hello_);
  port.exposed_port = "http";
  EXPECT_EQ(WriteExecutableImage(*layout, port, "x").status().code(), StatusCode::kInvalidArgument);
}

// umoci unpack (as root, so owners and modes are real) and run the function
// inside a chroot of the rootfs as the image's user: if the closure missed a
// library, the loader fails there.
class ExecutableImageRunTest : public ExecutableImageTest {
 protected:
  void SetUp() override {
    ExecutableImageTest::SetUp();
    std::string missing = NeedTool("umoci");
    ASSERT_TRUE(missing.empty()) << missing;
    ASSERT_EQ(::geteuid(), 0u) << "this test unpacks an image and chroots into it: run it as root (CI does)";
  }

  // Writes `spec`'s image, unpacks it; the bundle directory.
  std::string Unpack(const ExecutableImageSpec& spec, int64_t* compressed = nullptr, std::string* sizes = nullptr) {
    auto layout = OciLayout::Open(dir_.Sub("oci"));
    EXPECT_TRUE(layout.ok());
    auto desc = WriteExecutableImage(*layout, spec, "img");
    EXPECT_TRUE(desc.ok()) << desc.status().ToString();
    if (!desc.ok()) return "";
    if (compressed != nullptr) {
      *compressed = 0;
      const json manifest = ReadJsonBlob(*layout, desc->digest.str());
      for (const auto& l : manifest["layers"]) {
        *compressed += l["size"].get<int64_t>();
        if (sizes != nullptr) *sizes += (sizes->empty() ? "" : " + ") + std::to_string(l["size"].get<int64_t>());
      }
    }
    const std::string bundle = dir_.Sub("bundle");
    auto unpack = RunTool({"umoci", "unpack", "--image", dir_.Sub("oci") + ":img", bundle}, 120s);
    EXPECT_TRUE(unpack.ok()) << unpack.Describe();
    return bundle;
  }
};

TEST_F(ExecutableImageRunTest, HelloRunsFromItsRootfs) {
  int64_t compressed = 0;
  std::string sizes;
  const std::string bundle = Unpack(HelloSpec(hello_), &compressed, &sizes);
  ASSERT_FALSE(bundle.empty());
  struct stat hello_st {};
  ASSERT_EQ(::stat(hello_.c_str(), &hello_st), 0);
  std::cout << "[ INFO     ] hello image: " << compressed << " bytes compressed (layers " << sizes << "; "
            << compressed / 1e6 << " MB; the executable is " << hello_st.st_size / 1e6 << " MB uncompressed)\n";
  EXPECT_LE(compressed, 15'000'000) << "issue 5: the C++ hello image <= 15 MB compressed";

  const std::string rootfs = bundle + "/rootfs";
  struct stat st {};
  ASSERT_EQ(::stat((rootfs + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_NE(ReadFile(rootfs + "/etc/passwd").value_or("").find("app:x:65532:65532:"), std::string::npos);
  EXPECT_NE(ReadFile(rootfs + "/etc/group").value_or("").find("app:x:65532:"), std::string::npos);
  EXPECT_EQ(ReadFile(rootfs + "/app/README"), "hello\n");
  auto config = json::parse(ReadFile(bundle + "/config.json").value_or(""), nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["process"]["user"]["uid"], 65532);
  EXPECT_EQ(config["process"]["cwd"], "/app");

  auto help = RunTool({"chroot", "--userspec=65532:65532", rootfs, "/app/hello", "--help"}, 20s);
  ASSERT_TRUE(help.ok()) << help.Describe();
  EXPECT_NE((help.out + help.err).find("--target"), std::string::npos) << help.Describe();

  // Served from the chroot (same network namespace): GET / answers.
  const int port = ofn::testing::FreePort();
  ofn::testing::ProcessOptions o;
  o.argv = {ofn::build::testing::FindTool("chroot"), "--userspec=65532:65532", rootfs, "/app/hello"};
  o.env = {{"PORT", std::to_string(port)}};
  o.unset_env = {"FUNCTION_TARGET", "FUNC_CONTEXT", "OFN_LOG_FORMAT", "LD_LIBRARY_PATH", "LD_PRELOAD"};
  o.output_file = dir_.Sub("hello.log");
  auto proc = ofn::testing::Process::Start(o);
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  Status up = (*proc)->WaitForPort(port, ofn::testing::After(20s));
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << (*proc)->Output();
  auto r = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), ofn::testing::After(10s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "Hello, World!\n");
}

TEST_F(ExecutableImageRunTest, StaticExecutableNeedsNoLibraries) {
  ASSERT_TRUE(WriteFile(dir_.Sub("s.cc"), "#include <cstdio>\nint main() { std::puts(\"static ok\"); }\n").ok());
  auto cc = RunTool({"g++", "-static", "-O1", "-o", dir_.Sub("s"), dir_.Sub("s.cc")}, 120s);
  ASSERT_TRUE(cc.ok()) << cc.Describe();
  ExecutableImageSpec spec;
  spec.executable = dir_.Sub("s");
  const std::string bundle = Unpack(spec);
  ASSERT_FALSE(bundle.empty());
  EXPECT_FALSE(std::filesystem::exists(bundle + "/rootfs/lib"));
  auto run = RunTool({"chroot", "--userspec=65532:65532", bundle + "/rootfs", "/app/s"}, 20s);
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_EQ(run.out, "static ok\n");
}

TEST_F(ExecutableImageRunTest, LibraryFromLdSoConfIsFoundInTheImage) {
  ASSERT_EQ(::mkdir(dir_.Sub("lib").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(dir_.Sub("bar.cc"), "int bar() { return 7; }\n").ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("app.cc"), "#include <cstdio>\nint bar();\nint main() { std::printf(\"%d\\n\", bar()); }\n").ok());
  auto so = RunTool({"g++", "-shared", "-fPIC", "-o", dir_.Sub("lib/libbar.so"), dir_.Sub("bar.cc")}, 120s);
  ASSERT_TRUE(so.ok()) << so.Describe();
  auto app = RunTool({"g++", "-o", dir_.Sub("app"), dir_.Sub("app.cc"), "-L" + dir_.Sub("lib"), "-lbar"}, 120s);
  ASSERT_TRUE(app.ok()) << app.Describe();
  ASSERT_TRUE(WriteFile(dir_.Sub("ld.so.conf"), dir_.Sub("lib") + "\n").ok());
  ExecutableImageSpec spec;
  spec.executable = dir_.Sub("app");
  spec.closure.ld_so_conf = dir_.Sub("ld.so.conf");
  const std::string bundle = Unpack(spec);
  ASSERT_FALSE(bundle.empty());
  auto config = json::parse(ReadFile(bundle + "/config.json").value_or(""), nullptr, false);
  ASSERT_TRUE(config.is_object());
  std::vector<std::string> env = config["process"]["env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "LD_LIBRARY_PATH=" + dir_.Sub("lib")), env.end())
      << config["process"]["env"].dump();
  std::vector<std::string> argv = {"env", "-i"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(ofn::build::testing::FindTool("chroot"));  // the image's PATH has no sbin
  argv.push_back("--userspec=65532:65532");
  argv.push_back(bundle + "/rootfs");
  argv.push_back("/app/app");
  auto run = RunTool(argv, 20s);
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_EQ(run.out, "7\n");
}

}  // namespace
}  // namespace ofn::build

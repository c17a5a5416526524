#include "build/image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "build/layer.h"
#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;

constexpr char kHello[] = "#!/bin/sh\necho hello from ofn\n";

ImageConfig HelloConfig() {
  ImageConfig c;
  c.entrypoint = {"/app/hello"};
  c.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hi"};
  c.labels = {{"io.ofn.source-revision", "abc123"}};
  c.exposed_ports = {"8080"};
  c.working_dir = "/app";
  return c;
}

// The test image: one layer with /app/hello, written into `dir`.
Result<Descriptor> WriteHello(const std::string& dir, const std::string& tag = "hello") {
  auto layout = OciLayout::Open(dir);
  if (!layout.ok()) return layout.status();
  LayerSpec spec;
  spec.entries.push_back(LayerEntry::File("/app/hello", kHello, 0755));
  spec.created_by = "ofn build: app";
  auto layer = WriteLayer(*layout, spec);
  if (!layer.ok()) return layer.status();
  return WriteImage(*layout, {*layer}, HelloConfig(), tag);
}

class ImageTest : public ::testing::Test {
 protected:
  TempDir dir_{"ofn-image"};
};

TEST_F(ImageTest, SameInputsSameManifestDigest) {
  auto a = WriteHello(dir_.Sub("a"));
  auto b = WriteHello(dir_.Sub("b"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(a->size, b->size);
  std::cout << "[ INFO     ] hello image manifest digest: " << a->digest.str() << "\n";

  // Rewriting into the same layout changes nothing.
  auto again = WriteHello(dir_.Sub("a"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->digest, a->digest);
  auto index = json::parse(ReadFile(dir_.Sub("a/index.json")).value_or(""));
  EXPECT_EQ(index["manifests"].size(), 1u);
}

TEST_F(ImageTest, ManifestAndConfigFollowTheSpec) {
  auto desc = WriteHello(dir_.Sub("a"));
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  auto layout = OciLayout::Open(dir_.Sub("a"));
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(desc->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(desc->annotations.at("org.opencontainers.image.ref.name"), "hello");
  auto resolved = layout->Resolve("hello");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->digest, desc->digest);

  auto manifest_text = layout->ReadBlob(desc->digest);
  ASSERT_TRUE(manifest_text.ok());
  EXPECT_EQ(static_cast<int64_t>(manifest_text->size()), desc->size);
  auto manifest = json::parse(*manifest_text);
  EXPECT_EQ(manifest["schemaVersion"], 2);
  EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
  ASSERT_EQ(manifest["layers"].size(), 1u);
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(manifest.dump(), *manifest_text) << "keys sorted, no whitespace";

  auto config_digest = Digest::Parse(manifest["config"]["digest"].get<std::string>());
  ASSERT_TRUE(config_digest.ok());
  auto config_text = layout->ReadBlob(*config_digest);
  ASSERT_TRUE(config_text.ok());
  auto config = json::parse(*config_text);
  EXPECT_EQ(config["architecture"], HostArchitecture());
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["created"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(config["config"]["Entrypoint"], json::array({"/app/hello"}));
  EXPECT_FALSE(config["config"].contains("Cmd"));
  EXPECT_EQ(config["config"]["Env"][1], "GREETING=hi");
  EXPECT_EQ(config["config"]["WorkingDir"], "/app");
  EXPECT_EQ(config["config"]["ExposedPorts"], json::parse(R"({"8080/tcp":{}})"));
  EXPECT_EQ(config["config"]["Labels"]["io.ofn.source-revision"], "abc123");
  EXPECT_EQ(config["rootfs"]["type"], "layers");
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 1u);
  EXPECT_EQ(config["history"][0]["created"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(config["history"][0]["created_by"], "ofn build: app");
}

TEST_F(ImageTest, BadConfigIsRejected) {
  auto layout = OciLayout::Open(dir_.Sub("a"));
  ASSERT_TRUE(layout.ok());
  ImageConfig env = HelloConfig();
  env.env.push_back("NOVALUE");
  EXPECT_EQ(WriteImage(*layout, {}, env, "x").status().code(), StatusCode::kInvalidArgument);
  for (const char* port : {"0", "65536", "80/xtp", "http", "8080/"}) {
    ImageConfig c = HelloConfig();
    c.exposed_ports = {port};
    EXPECT_EQ(WriteImage(*layout, {}, c, "x").status().code(), StatusCode::kInvalidArgument) << port;
  }
  ImageConfig utf = HelloConfig();
  utf.labels["bad"] = "\xff\xfe";
  EXPECT_EQ(WriteImage(*layout, {}, utf, "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteImage(*layout, {}, HelloConfig(), "no spaces").status().code(), StatusCode::kInvalidArgument);
}

class ImageToolsTest : public ImageTest {
 protected:
  void SetUp() override {
    for (const char* tool : {"skopeo", "umoci"}) {
      std::string missing = NeedTool(tool);
      ASSERT_TRUE(missing.empty()) << missing;
    }
    auto d = WriteHello(dir_.Sub("oci"));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    manifest_ = d->digest.str();
    auto layout = OciLayout::Open(dir_.Sub("oci"));
    ASSERT_TRUE(layout.ok());
    auto bytes = layout->ReadBlob(d->digest);
    ASSERT_TRUE(bytes.ok());
    manifest_bytes_ = *bytes;
  }
  std::string Ref(const std::string& dir) const { return "oci:" + dir + ":hello"; }

  std::string manifest_;
  std::string manifest_bytes_;
};

TEST_F(ImageToolsTest, SkopeoInspectsIt) {
  auto raw = RunTool({"skopeo", "inspect", "--raw", Ref(dir_.Sub("oci"))});
  ASSERT_TRUE(raw.ok()) << raw.Describe();
  EXPECT_EQ(raw.out, manifest_bytes_);

  auto inspect = RunTool({"skopeo", "inspect", Ref(dir_.Sub("oci"))});
  ASSERT_TRUE(inspect.ok()) << inspect.Describe();
  auto j = json::parse(inspect.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << inspect.out;
  EXPECT_EQ(j["Digest"], manifest_);
  EXPECT_EQ(j["Labels"]["io.ofn.source-revision"], "abc123") << inspect.out;
  EXPECT_EQ(j["Env"], json::array({"PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hi"})) << inspect.out;
  EXPECT_EQ(j["Architecture"], HostArchitecture());
  EXPECT_EQ(j["Os"], "linux");
}

TEST_F(ImageToolsTest, UmociUnpacksARunnableBundle) {
  const std::string bundle = dir_.Sub("bundle");
  auto unpack = RunTool({"umoci", "unpack", "--rootless", "--image", dir_.Sub("oci") + ":hello", bundle});
  ASSERT_TRUE(unpack.ok()) << unpack.Describe();
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/hello"), kHello);
  struct stat st {};
  ASSERT_EQ(::stat((bundle + "/rootfs/app/hello").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  auto config = json::parse(ReadFile(bundle + "/config.json").value_or(""), nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["process"]["args"], json::array({"/app/hello"})) << config["process"].dump();
  EXPECT_EQ(config["process"]["cwd"], "/app");
  // The script runs (with this machine's /bin/sh).
  auto run = RunTool({bundle + "/rootfs/app/hello"}, std::chrono::seconds(10));
  ASSERT_TRUE(run.ok()) << run.Describe();
  EXPECT_EQ(run.out, "hello from ofn\n");
}

TEST_F(ImageToolsTest, SkopeoCopyKeepsTheDigest) {
  const std::string copy = dir_.Sub("copy");
  auto cp = RunTool({"skopeo", "copy", Ref(dir_.Sub("oci")), Ref(copy)}, std::chrono::seconds(120));
  ASSERT_TRUE(cp.ok()) << cp.Describe();
  auto raw = RunTool({"skopeo", "inspect", "--raw", Ref(copy)});
  ASSERT_TRUE(raw.ok()) << raw.Describe();
  EXPECT_EQ(Digest::Of(raw.out).str(), manifest_);
  // And Ofn reads skopeo's layout back.
  auto layout = OciLayout::Open(copy);
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  auto resolved = layout->Resolve("hello");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->digest.str(), manifest_);
}

}  // namespace
}  // namespace ofn::build

#include "container/oci_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/process.h"

namespace ofn::container {
namespace {

using nlohmann::json;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

class OciSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(root_ + "/etc");
    ASSERT_TRUE(WriteFile(root_ + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:65532:65532::/app:/bin/false\n").ok());
    ASSERT_TRUE(WriteFile(root_ + "/etc/group", "root:x:0:\napp:x:65532:\nstaff:x:50:app\n").ok());
  }
  TempDir dir_{"ofn-ocispec"};
  std::string root_ = dir_.Sub("rootfs");
};

TEST_F(OciSpecTest, ResolvesUsersAgainstTheRootfs) {
  auto ids = [&](const std::string& u) {
    auto r = ResolveUser(root_, u);
    EXPECT_TRUE(r.ok()) << u << ": " << r.status().ToString();
    return r.ok() ? std::make_pair(r->uid, r->gid) : std::make_pair(~0u, ~0u);
  };
  EXPECT_EQ(ids(""), std::make_pair(0u, 0u));
  EXPECT_EQ(ids("app"), std::make_pair(65532u, 65532u));
  EXPECT_EQ(ids("65532"), std::make_pair(65532u, 65532u));
  EXPECT_EQ(ids("app:staff"), std::make_pair(65532u, 50u));
  EXPECT_EQ(ids("1234:5"), std::make_pair(1234u, 5u));
  EXPECT_EQ(ids("1234"), std::make_pair(1234u, 0u));
  auto missing = ResolveUser(root_, "nobody");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nobody"), std::string::npos);
  EXPECT_EQ(ResolveUser(root_, "app:wheel").status().code(), StatusCode::kNotFound);
}

TEST_F(OciSpecTest, AnImagesPasswdSymlinkCannotReadTheHostsFile) {
  ASSERT_EQ(::unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../etc/passwd", (root_ + "/etc/passwd").c_str()), 0);
  // The host's /etc/passwd names root; resolved inside the rootfs the link
  // points at rootfs/etc/passwd again (a loop) or nothing.
  auto r = ResolveUser(root_, "root");
  EXPECT_FALSE(r.ok()) << "read the host's /etc/passwd through a symlink";
}

TEST_F(OciSpecTest, NonRootGetsNoCapabilitiesAndTheLockedDownDefaults) {
  ContainerSpec spec;
  spec.rootfs = root_;
  spec.args = {"/app/hello"};
  spec.env = {"PORT=8080"};
  spec.user = "app";
  spec.netns_path = "/run/ofn/netns/x";
  spec.memory_bytes = 64 << 20;
  spec.cpu_millis = 250;
  auto j = OciSpecJson(spec);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["root"]["readonly"], true);
  EXPECT_EQ((*j)["process"]["user"]["uid"], 65532);
  EXPECT_EQ((*j)["process"]["noNewPrivileges"], true);
  EXPECT_TRUE((*j)["process"]["capabilities"]["bounding"].empty());
  EXPECT_EQ((*j)["linux"]["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ((*j)["linux"]["resources"]["cpu"]["quota"], 25000);
  EXPECT_EQ((*j)["linux"]["resources"]["cpu"]["period"], 100000);
  bool netns = false;
  for (const auto& ns : (*j)["linux"]["namespaces"]) {
    if (ns["type"] == "network") netns = ns.value("path", "") == "/run/ofn/netns/x";
  }
  EXPECT_TRUE(netns);
  auto denied = (*j)["linux"]["seccomp"]["syscalls"][0]["names"].get<std::vector<std::string>>();
  for (const char* call : {"mount", "ptrace", "bpf", "setns", "unshare", "kexec_load", "init_module"}) {
    EXPECT_NE(std::find(denied.begin(), denied.end(), call), denied.end()) << call;
  }
  bool tmp_writable = false;
  for (const auto& m : (*j)["mounts"]) {
    if (m["destination"] == "/tmp") tmp_writable = m["type"] == "tmpfs";
  }
  EXPECT_TRUE(tmp_writable);

  spec.user = "";
  j = OciSpecJson(spec);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["process"]["capabilities"]["bounding"].get<std::vector<std::string>>(), kRootCapabilities);

  spec.env = {"NOEQUALS"};
  EXPECT_EQ(OciSpecJson(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OciSpecTest, ImageArgsAndBundle) {
  EXPECT_EQ(ImageArgs({"/app/f"}, {"--x"}), (std::vector<std::string>{"/app/f", "--x"}));
  EXPECT_EQ(ImageArgs({"/app/f"}, {"--x"}, {}, {"--y"}), (std::vector<std::string>{"/app/f", "--y"}));
  EXPECT_EQ(ImageArgs({"/app/f"}, {"--x"}, {"/bin/g"}), (std::vector<std::string>{"/bin/g"}));
  EXPECT_EQ(ImageArgs({"/app/f"}, {"--x"}, {"/bin/g"}, {"--y"}), (std::vector<std::string>{"/bin/g", "--y"}));
  ContainerSpec spec;
  spec.rootfs = root_;
  spec.args = {"/bin/true"};
  auto path = WriteBundle(dir_.Sub("bundle"), spec);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, dir_.Sub("bundle") + "/config.json");
  auto text = ofn::testing::ReadFile(*path);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(json::parse(*text)["process"]["args"][0], "/bin/true");
}

}  // namespace
}  // namespace ofn::container

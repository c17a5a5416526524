#include "container/rootfs_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "build/executable_image.h"
#include "container/testing_images.h"
#include "support/process.h"

namespace ofn::container {
namespace {

using ofn::container::testing::Gzip;
using ofn::container::testing::ImageOf;
using ofn::container::testing::RawTar;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;

class RootfsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = build::OciLayout::Open(dir_.Sub("oci"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    layout_.emplace(std::move(*l));
  }
  build::Descriptor Image(const std::vector<std::string>& tars, const std::string& tag = "t") {
    auto d = ImageOf(*layout_, tars, tag);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return *d;
  }
  TempDir dir_{"ofn-rootfs"};
  std::optional<build::OciLayout> layout_;
  RootfsStore store_{dir_.Sub("store")};
};

struct stat Lstat(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}
bool Exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

TEST_F(RootfsStoreTest, UnpacksTheHelloImageOnce) {
  build::ExecutableImageSpec spec;
  spec.executable = OFN_HELLO_BINARY;
  spec.exposed_port = "8080";
  auto desc = build::WriteExecutableImage(*layout_, spec, "hello");
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  auto rootfs = store_.Unpack(*layout_, *desc);
  ASSERT_TRUE(rootfs.ok()) << rootfs.status().ToString();
  EXPECT_TRUE(rootfs->unpacked);
  EXPECT_EQ(rootfs->path, store_.dir() + "/" + std::string(desc->digest.hex()) + "/rootfs");
  std::string hello = rootfs->path + "/app/" + std::filesystem::path(OFN_HELLO_BINARY).filename().string();
  EXPECT_EQ(Lstat(hello).st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(hello).st_size, Lstat(OFN_HELLO_BINARY).st_size);
  EXPECT_EQ(Lstat(rootfs->path + "/tmp").st_mode & 07777, 01777u);
  EXPECT_NE(ReadFile(rootfs->path + "/etc/passwd").value_or("").find(":65532:"), std::string::npos);
  for (const char* mp : {"proc", "sys", "dev"}) EXPECT_TRUE(S_ISDIR(Lstat(rootfs->path + "/" + mp).st_mode)) << mp;
  EXPECT_EQ(rootfs->config.entrypoint, std::vector<std::string>{"/app/hello"});
  EXPECT_EQ(rootfs->config.user, "65532:65532");
  EXPECT_EQ(rootfs->config.working_dir, "/app");
  EXPECT_EQ(rootfs->config.exposed_ports, std::vector<std::string>{"8080/tcp"});
  EXPECT_FALSE(rootfs->config.env.empty());

  auto again = store_.Unpack(*layout_, *desc);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->unpacked);
  EXPECT_EQ(again->path, rootfs->path);
}

TEST_F(RootfsStoreTest, ConcurrentUnpacksOfOneImageUnpackOnce) {
  std::string big(4 << 20, 'b');
  auto desc = Image({RawTar().File("big1", big).File("big2", big).Bytes()});
  std::vector<Result<Rootfs>> results(4, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = store_.Unpack(*layout_, desc); });
  }
  for (auto& t : threads) t.join();
  int unpacked = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    unpacked += r->unpacked ? 1 : 0;
    EXPECT_EQ(Lstat(r->path + "/big2").st_size, static_cast<off_t>(big.size()));
  }
  EXPECT_EQ(unpacked, 1);
  // No temporary directories are left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(store_.dir())) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().rfind(".unpack", 0), std::string::npos) << e.path();
  }
  EXPECT_EQ(entries, 2);  // <hex> and <hex>.lock
}

TEST_F(RootfsStoreTest, LayersApplyInOrderWithWhiteoutsOwnersAndLinks) {
  std::string lower = RawTar()
                          .Dir("a/")
                          .File("a/x", "x")
                          .File("a/y", "y")
                          .Dir("b/", 0750, 1000, 1000)
                          .File("b/z", "z")
                          .Dir("c/")
                          .File("c/f", "f")
                          .File("suid", "s", 04755, 1000, 2000)
                          .Symlink("link", "a/y")
                          .Hardlink("hard", "a/y")
                          .CharDevice("dev/evil")
                          .Bytes();
  std::string upper = RawTar().File("a/.wh.x", "").File("b/new", "n").File("b/.wh..wh..opq", "").File("link", "now a file").Bytes();
  auto desc = Image({lower, upper});
  auto r = store_.Unpack(*layout_, desc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string& root = r->path;
  EXPECT_FALSE(Exists(root + "/a/x"));
  EXPECT_FALSE(Exists(root + "/a/.wh.x"));
  EXPECT_EQ(ReadFile(root + "/a/y"), "y");
  EXPECT_FALSE(Exists(root + "/b/z")) << "the opaque whiteout empties what lower layers put in b";
  EXPECT_EQ(ReadFile(root + "/b/new"), "n") << "the opaque whiteout keeps its own layer's entries";
  EXPECT_FALSE(Exists(root + "/b/.wh..wh..opq"));
  struct stat b = Lstat(root + "/b");
  EXPECT_EQ(b.st_mode & 07777, 0750u);
  EXPECT_EQ(b.st_uid, 1000u);
  EXPECT_EQ(Lstat(root + "/c").st_mtime, 1000) << "directory mtimes are set after their contents";
  struct stat suid = Lstat(root + "/suid");
  EXPECT_EQ(suid.st_mode & 07777, 04755u);
  EXPECT_EQ(suid.st_uid, 1000u);
  EXPECT_EQ(suid.st_gid, 2000u);
  EXPECT_EQ(Lstat(root + "/hard").st_ino, Lstat(root + "/a/y").st_ino);
  EXPECT_TRUE(S_ISREG(Lstat(root + "/link").st_mode));
  EXPECT_EQ(ReadFile(root + "/link"), "now a file");
  EXPECT_FALSE(Exists(root + "/dev/evil")) << "devices are skipped";
}

TEST_F(RootfsStoreTest, NothingIsWrittenOutsideTheRootfs) {
  std::string outside = dir_.Sub("outside");
  std::filesystem::create_directories(outside);
  struct Case {
    std::vector<std::string> layers;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{RawTar().File("../x", "x").Bytes()}, "\"..\""},
      {{RawTar().File("a/../../x", "x").Bytes()}, "\"..\""},
      {{RawTar().Symlink("evil", outside).File("evil/pwned", "x").Bytes()}, "symlink"},
      {{RawTar().Symlink("evil", "../../../../../../" + outside).Bytes(), RawTar().File("evil/pwned", "x").Bytes()},
       "symlink"},
      {{RawTar().Symlink("evil", outside).Bytes(), RawTar().Dir("evil/sub/").Bytes()}, "symlink"},
      {{RawTar().Symlink("evil", outside).Bytes(), RawTar().File("evil/.wh.keep", "").Bytes()}, "symlink"},
      {{RawTar().Hardlink("h", "../../etc/passwd").Bytes()}, "\"..\""},
      {{RawTar().File("keep", "k").Bytes(), RawTar().File(".wh...", "").Bytes()}, "malformed whiteout"},
      {{RawTar().Dir("d/").Bytes(), RawTar().File("d/.wh...", "").Bytes()}, "malformed whiteout"},
  };
  std::filesystem::create_directories(outside + "/keep");
  int n = 0;
  for (const auto& c : cases) {
    auto desc = Image(c.layers, "case" + std::to_string(n++));
    auto r = store_.Unpack(*layout_, desc);
    ASSERT_FALSE(r.ok()) << "case " << n;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("entry \""), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(Exists(store_.dir() + "/" + std::string(desc.digest.hex()))) << "no partial rootfs";
  }
  EXPECT_FALSE(Exists(dir_.Sub("x")));
  EXPECT_FALSE(Exists(outside + "/pwned"));
  EXPECT_FALSE(Exists(outside + "/sub"));
  EXPECT_TRUE(Exists(outside + "/keep"));
}

TEST_F(RootfsStoreTest, ALayerThatDoesNotMatchItsDigestIsRejected) {
  auto desc = Image({RawTar().File("real", "real").Bytes()});
  // Replace the layer blob's bytes with another (valid) layer.
  auto manifest = nlohmann::json::parse(*layout_->ReadBlob(desc.digest));
  auto layer = build::Digest::Parse(manifest["layers"][0]["digest"].get<std::string>());
  ASSERT_TRUE(layer.ok());
  std::string path = layout_->BlobPath(*layer);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_TRUE(ofn::testing::WriteFile(path, Gzip(RawTar().File("forged", "forged").Bytes())).ok());
  auto r = store_.Unpack(*layout_, desc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(layer->str()), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(Exists(store_.dir() + "/" + std::string(desc.digest.hex())));

  // Garbage instead of gzip: still reported as the digest mismatch it is.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_TRUE(ofn::testing::WriteFile(path, "\x1f\x8bnot really gzip").ok());
  r = store_.Unpack(*layout_, desc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match"), std::string::npos) << r.status().ToString();
}

TEST_F(RootfsStoreTest, RemoveDeletesTheRootfs) {
  auto desc = Image({RawTar().File("f", "1").Bytes()});
  auto r = store_.Unpack(*layout_, desc);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(store_.Remove(desc.digest).ok());
  EXPECT_FALSE(Exists(r->path));
  auto again = store_.Unpack(*layout_, desc);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unpacked);
}

}  // namespace
}  // namespace ofn::container

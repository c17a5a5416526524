#include "build/layer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

namespace fs = std::filesystem;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

class LayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.Sub("src");
    fs::create_directories(src_ + "/bin");
    fs::create_directories(src_ + "/share/empty");
    ASSERT_TRUE(WriteFile(src_ + "/bin/hello", "#!/bin/sh\necho hello\n").ok());
    ::chmod((src_ + "/bin/hello").c_str(), 0755);
    ASSERT_TRUE(WriteFile(src_ + "/share/data.txt", std::string(100000, 'z')).ok());
    ::chmod((src_ + "/share/data.txt").c_str(), 0644);
    fs::create_symlink("bin/hello", src_ + "/run");
    fs::create_symlink("/etc/passwd", src_ + "/passwd");  // absolute: kept, not followed
    ::chmod(src_.c_str(), 0755);
    ::chmod((src_ + "/bin").c_str(), 0755);
    ::chmod((src_ + "/share").c_str(), 0755);
    ::chmod((src_ + "/share/empty").c_str(), 0700);
  }

  LayerSpec TreeSpec() const {
    LayerSpec spec;
    spec.trees.push_back({src_, "/app"});
    spec.entries.push_back(LayerEntry::File("/etc/ofn/version", "1\n"));
    spec.created_by = "ofn test";
    return spec;
  }

  Result<Layer> Write(const std::string& layout_dir, const LayerSpec& spec) {
    auto layout = OciLayout::Open(layout_dir);
    if (!layout.ok()) return layout.status();
    return WriteLayer(*layout, spec);
  }

  std::string Listing(const LayerSpec& spec) {
    std::string tar;
    Status s = WriteLayerTar(spec, [&tar](std::string_view b) {
      tar.append(b);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    const std::string file = dir_.Sub("listing.tar");
    EXPECT_TRUE(WriteFile(file, tar).ok());
    auto run = RunTool({"tar", "-tf", file});
    EXPECT_TRUE(run.ok()) << run.Describe();
    return run.out;
  }

  TempDir dir_{"ofn-layer"};
  std::string src_;
};

TEST_F(LayerTest, TreeIsSortedWithParentsAndSymlinksKept) {
  EXPECT_EQ(Listing(TreeSpec()),
            "app/\n"
            "app/bin/\n"
            "app/bin/hello\n"
            "app/passwd\n"
            "app/run\n"
            "app/share/\n"
            "app/share/data.txt\n"
            "app/share/empty/\n"
            "etc/\n"
            "etc/ofn/\n"
            "etc/ofn/version\n");

  auto layer = Write(dir_.Sub("oci"), TreeSpec());
  ASSERT_TRUE(layer.ok()) << layer.status().ToString();
  const std::string out = dir_.Sub("x");
  fs::create_directory(out);
  auto layout = OciLayout::Open(dir_.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto x = RunTool({"tar", "-xzf", layout->BlobPath(layer->blob.digest), "-C", out});
  ASSERT_TRUE(x.ok()) << x.Describe();
  EXPECT_EQ(ReadFile(out + "/app/bin/hello"), "#!/bin/sh\necho hello\n");
  EXPECT_EQ(fs::read_symlink(out + "/app/run").string(), "bin/hello");
  EXPECT_EQ(fs::read_symlink(out + "/app/passwd").string(), "/etc/passwd");
  struct stat st {};
  ASSERT_EQ(::stat((out + "/app/bin/hello").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((out + "/app/share/empty").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(LayerTest, SameTreeSameDigestsOneByteDifferent) {
  auto a = Write(dir_.Sub("oci-a"), TreeSpec());
  auto b = Write(dir_.Sub("oci-b"), TreeSpec());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->blob.digest, b->blob.digest);
  EXPECT_EQ(a->diff_id, b->diff_id);
  EXPECT_EQ(a->blob.size, b->blob.size);
  EXPECT_EQ(a->blob.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(a->created_by, "ofn test");

  // The descriptor tells the truth about the blob, and the diff_id about the
  // tar inside it (checked with gzip, not with our own code).
  auto layout = OciLayout::Open(dir_.Sub("oci-a"));
  ASSERT_TRUE(layout.ok());
  auto blob = ReadFile(layout->BlobPath(a->blob.digest));
  ASSERT_TRUE(blob.has_value());
  EXPECT_EQ(static_cast<int64_t>(blob->size()), a->blob.size);
  EXPECT_EQ(Digest::Of(*blob), a->blob.digest);
  auto gunzip = RunTool({"gzip", "-dc", layout->BlobPath(a->blob.digest)});
  ASSERT_TRUE(gunzip.ok()) << gunzip.Describe();
  EXPECT_EQ(Digest::Of(gunzip.out), a->diff_id);
  // The gzip header: magic, deflate, no flags, mtime 0, then XFL and OS=3.
  EXPECT_EQ(blob->substr(0, 8), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
  EXPECT_EQ((*blob)[9], '\x03');
  // Nothing else is left in the layout's blobs or as a temp file.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_.Sub("oci-a"))) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"blobs", "index.json", "oci-layout"}));

  // mtime of the host files does not matter; one byte of content does.
  fs::last_write_time(src_ + "/share/data.txt", fs::file_time_type::clock::now() - std::chrono::hours(5));
  auto c = Write(dir_.Sub("oci-a"), TreeSpec());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->blob.digest, a->blob.digest);
  std::string data(100000, 'z');
  data[50000] = 'y';
  ASSERT_TRUE(WriteFile(src_ + "/share/data.txt", data).ok());
  auto d = Write(dir_.Sub("oci-a"), TreeSpec());
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->blob.digest, a->blob.digest);
  EXPECT_NE(d->diff_id, a->diff_id);
}

TEST_F(LayerTest, EntryOrderDoesNotMatter) {
  LayerSpec one;
  one.entries = {LayerEntry::File("/b/x", "x"), LayerEntry::Directory("/a"), LayerEntry::Symlink("/a/l", "../b/x"),
                 LayerEntry::File("a.txt", "t", 0600)};
  LayerSpec two = one;
  std::reverse(two.entries.begin(), two.entries.end());
  std::string ta, tb;
  ASSERT_TRUE(WriteLayerTar(one, [&ta](std::string_view b) { ta.append(b); return Status::Ok(); }).ok());
  ASSERT_TRUE(WriteLayerTar(two, [&tb](std::string_view b) { tb.append(b); return Status::Ok(); }).ok());
  EXPECT_EQ(ta, tb);
  // Plain byte order: "a.txt" < "a/l" because '.' < '/'; parents still come first.
  EXPECT_EQ(Listing(one), "a/\na.txt\na/l\nb/\nb/x\n");
}

TEST_F(LayerTest, FifoIsAnErrorNamingThePath) {
  const std::string fifo = src_ + "/share/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  auto layer = Write(dir_.Sub("oci"), TreeSpec());
  ASSERT_FALSE(layer.ok());
  EXPECT_EQ(layer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(layer.status().message().find(fifo), std::string::npos) << layer.status().message();
  EXPECT_NE(layer.status().message().find("fifo"), std::string::npos) << layer.status().message();
  // A failed layer leaves no blob and no temp file behind.
  EXPECT_TRUE(fs::is_empty(dir_.Sub("oci/blobs/sha256")));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_.Sub("oci"))) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);  // oci-layout, index.json
}

TEST_F(LayerTest, EscapingEntriesAreErrorsNamingThePath) {
  for (const auto& entry : {LayerEntry::File("/app/../../etc/passwd", "x"), LayerEntry::File("../x", "x"),
                            LayerEntry::Directory("/a/b/.."), LayerEntry::Symlink("/app/up", "../../etc/shadow"),
                            LayerEntry::Symlink("/top", "..")}) {
    LayerSpec spec;
    spec.entries.push_back(entry);
    auto layer = Write(dir_.Sub("oci"), spec);
    ASSERT_FALSE(layer.ok()) << entry.path;
    EXPECT_EQ(layer.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(layer.status().message().find(entry.path), std::string::npos) << layer.status().message();
  }
  // A tree's symlink that climbs out is named by its host path.
  fs::create_symlink("../../../etc/shadow", src_ + "/bin/sneaky");
  auto layer = Write(dir_.Sub("oci"), TreeSpec());
  ASSERT_FALSE(layer.ok());
  EXPECT_NE(layer.status().message().find(src_ + "/bin/sneaky"), std::string::npos) << layer.status().message();
  // An image root with ".." is refused too.
  LayerSpec spec;
  spec.trees.push_back({src_, "/app/../.."});
  EXPECT_FALSE(Write(dir_.Sub("oci"), spec).ok());
}

TEST_F(LayerTest, InsideLinksAndAbsoluteTargetsAreFine) {
  LayerSpec spec;
  spec.entries = {LayerEntry::Symlink("/usr/lib/x", "../../etc/x"), LayerEntry::Symlink("/l", "/etc/passwd"),
                  LayerEntry::Symlink("/m", "./a/../b")};
  EXPECT_TRUE(Write(dir_.Sub("oci"), spec).ok());
}

TEST_F(LayerTest, DuplicatesAndFilesAsParentsAreErrors) {
  LayerSpec dup;
  dup.entries = {LayerEntry::File("/a", "1"), LayerEntry::File("a", "2")};
  auto r = Write(dir_.Sub("oci"), dup);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/a appears twice"), std::string::npos) << r.status().message();

  LayerSpec under;
  under.entries = {LayerEntry::File("/a", "1"), LayerEntry::File("/a/b", "2")};
  r = Write(dir_.Sub("oci"), under);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/a/b"), std::string::npos) << r.status().message();

  LayerSpec dirs;  // a directory named twice, and a tree under it, is fine
  dirs.entries = {LayerEntry::Directory("/app", 0750), LayerEntry::Directory("/app/")};
  dirs.trees.push_back({src_, "/app"});
  EXPECT_TRUE(Write(dir_.Sub("oci"), dirs).ok());

  LayerSpec missing;
  missing.trees.push_back({dir_.Sub("nope"), "/app"});
  EXPECT_EQ(Write(dir_.Sub("oci"), missing).status().code(), StatusCode::kNotFound);
}

TEST(NormalizeImagePath, Cases) {
  EXPECT_EQ(*NormalizeImagePath("/app//./bin/"), "app/bin");
  EXPECT_EQ(*NormalizeImagePath("app"), "app");
  EXPECT_EQ(*NormalizeImagePath("/"), "");
  EXPECT_EQ(*NormalizeImagePath(""), "");
  EXPECT_EQ(*NormalizeImagePath("a..b/..c"), "a..b/..c");
  EXPECT_FALSE(NormalizeImagePath("/a/../b").ok());
  EXPECT_FALSE(NormalizeImagePath("..").ok());
}

}  // namespace
}  // namespace ofn::build

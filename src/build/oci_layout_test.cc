#include "build/oci_layout.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace ofn::build {
namespace {

namespace fs = std::filesystem;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

Descriptor ManifestDesc(const Digest& d, int64_t size) {
  return Descriptor{kMediaTypeManifest, d, size, {}, std::nullopt};
}

TEST(OciLayout, CreatesAndReopens) {
  TempDir dir("ofn-layout");
  const std::string root = dir.Sub("a/b/oci");
  auto layout = OciLayout::Open(root);
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(ReadFile(root + "/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  auto index = nlohmann::json::parse(ReadFile(root + "/index.json").value_or(""));
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  EXPECT_TRUE(index["manifests"].empty());
  EXPECT_TRUE(fs::is_directory(root + "/blobs/sha256"));
  EXPECT_TRUE(OciLayout::Open(root).ok());

  // A directory that has something else in it is not taken over.
  fs::create_directories(dir.Sub("other"));
  ASSERT_TRUE(WriteFile(dir.Sub("other/file.txt"), "mine").ok());
  auto other = OciLayout::Open(dir.Sub("other"));
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WriteFile(root + "/oci-layout", R"({"imageLayoutVersion":"9.9.9"})").ok());
  EXPECT_EQ(OciLayout::Open(root).status().code(), StatusCode::kFailedPrecondition);
}

TEST(OciLayout, PutHasReadBlobs) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto d = layout->PutBlob("hello blob");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, Digest::Of("hello blob"));
  EXPECT_TRUE(layout->HasBlob(*d));
  EXPECT_FALSE(layout->HasBlob(Digest::Of("other")));
  EXPECT_EQ(layout->BlobPath(*d), dir.Sub("oci/blobs/sha256/") + std::string(d->hex()));
  EXPECT_EQ(ReadFile(layout->BlobPath(*d)), "hello blob");
  auto again = layout->PutBlob("hello blob");  // idempotent
  ASSERT_TRUE(again.ok());
  auto read = layout->ReadBlob(*d);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "hello blob");
  EXPECT_EQ(layout->ReadBlob(Digest::Of("other")).status().code(), StatusCode::kNotFound);
  // Corruption on disk is detected on read.
  ASSERT_TRUE(WriteFile(layout->BlobPath(*d), "hellO blob").ok());
  EXPECT_EQ(layout->ReadBlob(*d).status().code(), StatusCode::kInternal);
}

TEST(OciLayout, AdoptBlobVerifiesAndRejectsAWrongDigest) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());

  auto tmp = layout->CreateTemp();
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE(tmp->Write("layer bytes").ok());
  ASSERT_TRUE(tmp->Close().ok());
  const std::string path = tmp->path();
  Status s = layout->AdoptBlob(path, Digest::Of("something else"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(Digest::Of("something else").str()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(Digest::Of("layer bytes").str()), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.Sub("oci/blobs/sha256")));
  EXPECT_FALSE(layout->HasBlob(Digest::Of("something else")));

  auto good = layout->CreateTemp();
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->Write("layer bytes").ok());
  ASSERT_TRUE(good->Close().ok());
  ASSERT_TRUE(layout->AdoptBlob(good->path(), Digest::Of("layer bytes")).ok());
  EXPECT_FALSE(fs::exists(good->path()));
  EXPECT_EQ(ReadFile(layout->BlobPath(Digest::Of("layer bytes"))), "layer bytes");
  EXPECT_EQ(fs::status(layout->BlobPath(Digest::Of("layer bytes"))).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST(OciLayout, TempFileIsRemovedWhenNotAdopted) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  std::string path;
  {
    auto tmp = layout->CreateTemp();
    ASSERT_TRUE(tmp.ok());
    path = tmp->path();
    ASSERT_TRUE(tmp->Write("partial").ok());
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(OciLayout, TagReplacesResolveFinds) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto m1 = layout->PutBlob("manifest one");
  auto m2 = layout->PutBlob("manifest two!");
  ASSERT_TRUE(m1.ok() && m2.ok());

  EXPECT_EQ(layout->Resolve("v1").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(layout->Tag("v1", ManifestDesc(*m1, 12)).ok());
  ASSERT_TRUE(layout->Tag("keep", ManifestDesc(*m1, 12)).ok());
  auto stored = layout->Tag("v1", ManifestDesc(*m2, 13));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->annotations.at("org.opencontainers.image.ref.name"), "v1");

  auto v1 = layout->Resolve("v1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->digest, *m2);
  EXPECT_EQ(v1->size, 13);
  EXPECT_EQ(v1->media_type, kMediaTypeManifest);
  auto keep = layout->Resolve("keep");
  ASSERT_TRUE(keep.ok());
  EXPECT_EQ(keep->digest, *m1);

  auto index = nlohmann::json::parse(ReadFile(dir.Sub("oci/index.json")).value_or(""));
  ASSERT_EQ(index["manifests"].size(), 2u) << index.dump();

  // A manifest that is not in the layout, or a bad name, cannot be tagged.
  EXPECT_EQ(layout->Tag("x", ManifestDesc(Digest::Of("absent"), 6)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(layout->Tag("bad tag", ManifestDesc(*m1, 12)).status().code(), StatusCode::kInvalidArgument);
}

TEST(OciLayout, TagKeepsForeignEntriesAndFields) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto m = layout->PutBlob("m");
  ASSERT_TRUE(m.ok());
  const std::string foreign = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                              Digest::Of("x").str() +
                              R"(","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v7"}})";
  ASSERT_TRUE(WriteFile(dir.Sub("oci/index.json"),
                        R"({"schemaVersion":2,"manifests":[)" + foreign + "]}")
                  .ok());
  ASSERT_TRUE(layout->Tag("mine", ManifestDesc(*m, 1)).ok());
  auto index = nlohmann::json::parse(ReadFile(dir.Sub("oci/index.json")).value_or(""));
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][0], nlohmann::json::parse(foreign));
}

TEST(OciLayout, ConcurrentTagsAllLand) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  auto m = layout->PutBlob("m");
  ASSERT_TRUE(m.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(layout->Tag("t" + std::to_string(t) + "-" + std::to_string(i), ManifestDesc(*m, 1)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto index = nlohmann::json::parse(ReadFile(dir.Sub("oci/index.json")).value_or(""));
  EXPECT_EQ(index["manifests"].size(), 40u);
}

TEST(OciLayout, DigestsFromIndexAreParsedStrictly) {
  TempDir dir("ofn-layout");
  auto layout = OciLayout::Open(dir.Sub("oci"));
  ASSERT_TRUE(layout.ok());
  ASSERT_TRUE(WriteFile(dir.Sub("oci/index.json"),
                        R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../../etc/passwd",)"
                        R"("size":1,"annotations":{"org.opencontainers.image.ref.name":"evil"}}]})")
                  .ok());
  auto r = layout->Resolve("evil");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a sha256 digest"), std::string::npos) << r.status().message();
}

TEST(ValidTagName, Cases) {
  for (const char* ok : {"latest", "v1.0", "hello-world", "a--b", "ns/name:tag", "x@y", "1", "A_b.c+d"}) {
    EXPECT_TRUE(ValidTagName(ok)) << ok;
  }
  for (const char* bad : {"", "-a", "a-", "a b", "a/", "/a", "a//b", "a..b", "a---b", "a\nb", "../x", "a\\b"}) {
    EXPECT_FALSE(ValidTagName(bad)) << bad;
  }
  EXPECT_FALSE(ValidTagName(std::string(129, 'a')));
}

}  // namespace
}  // namespace ofn::build

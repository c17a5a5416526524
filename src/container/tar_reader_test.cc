#include "container/tar_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "build/tar_writer.h"
#include "build/testing_tools.h"
#include "container/testing_images.h"
#include "support/process.h"

namespace ofn::container {
namespace {

using ofn::container::testing::Gzip;
using ofn::container::testing::RawTar;
using ofn::testing::TempDir;

struct Read {
  std::vector<TarEntry> entries;
  std::map<std::string, std::string> contents;
  Status status;
};

Read ReadAll(const std::string& bytes) {
  size_t pos = 0;
  TarReader tar([&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, bytes.size() - pos);
    std::memcpy(buf, bytes.data() + pos, k);
    pos += k;
    return k;
  });
  Read r;
  while (true) {
    auto e = tar.Next();
    if (!e.ok()) {
      r.status = e.status();
      return r;
    }
    if (!e->has_value()) break;
    std::string content;
    char buf[100];
    while (true) {
      auto n = tar.Read(buf, sizeof buf);
      if (!n.ok()) {
        r.status = n.status();
        return r;
      }
      if (*n == 0) break;
      content.append(buf, *n);
    }
    r.contents[(*e)->path] = content;
    r.entries.push_back(**e);
  }
  r.status = tar.Drain();
  return r;
}

std::string WriterTar() {
  std::string out;
  build::TarWriter w([&](std::string_view b) {
    out.append(b);
    return Status::Ok();
  });
  EXPECT_TRUE(w.AddDirectory("app", 0755, 42).ok());
  EXPECT_TRUE(w.AddFile("app/hello", 0755, std::string(70000, 'h'), 42).ok());
  EXPECT_TRUE(w.AddSymlink("app/link", "hello").ok());
  EXPECT_TRUE(w.AddFile("app/" + std::string(150, 'n'), 0600, "long").ok());  // PAX path
  EXPECT_TRUE(w.Finish().ok());
  return out;
}

TEST(TarReaderTest, ReadsPlainAndGzippedLayers) {
  std::string tar = WriterTar();
  for (const std::string& bytes : {tar, Gzip(tar)}) {
    Read r = ReadAll(bytes);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.entries.size(), 4u);
    EXPECT_EQ(r.entries[0].type, TarEntry::Type::kDirectory);
    EXPECT_EQ(r.entries[0].path, "app/");
    EXPECT_EQ(r.entries[0].mtime, 42);
    EXPECT_EQ(r.entries[1].type, TarEntry::Type::kFile);
    EXPECT_EQ(r.entries[1].mode, 0755u);
    EXPECT_EQ(r.contents["app/hello"], std::string(70000, 'h'));
    EXPECT_EQ(r.entries[2].type, TarEntry::Type::kSymlink);
    EXPECT_EQ(r.entries[2].link_target, "hello");
    EXPECT_EQ(r.contents["app/" + std::string(150, 'n')], "long");
  }
}

TEST(TarReaderTest, ReadsGnuAndPaxArchivesOfGnuTar) {
  ASSERT_EQ(build::testing::NeedTool("tar"), "");
  TempDir dir;
  std::string deep = "d/" + std::string(120, 'a') + "/" + std::string(90, 'b');
  std::filesystem::create_directories(dir.Sub("src/" + deep.substr(0, deep.rfind('/'))));
  ASSERT_TRUE(ofn::testing::WriteFile(dir.Sub("src/" + deep), "deep").ok());
  std::string long_target = std::string(130, 't');
  ASSERT_EQ(::symlink(long_target.c_str(), dir.Sub("src/d/sym").c_str()), 0);
  ASSERT_EQ(::link(dir.Sub("src/" + deep).c_str(), dir.Sub("src/d/hard").c_str()), 0);
  for (const char* format : {"gnu", "pax"}) {
    std::string out = dir.Sub(std::string(format) + ".tar");
    auto run = build::testing::RunTool({"tar", "--format", format, "-C", dir.Sub("src"), "-cf", out, "d"});
    ASSERT_TRUE(run.ok()) << run.Describe();
    Read r = ReadAll(ofn::testing::ReadFile(out).value_or(""));
    ASSERT_TRUE(r.status.ok()) << format << ": " << r.status.ToString();
    std::map<std::string, TarEntry> by_path;
    for (const auto& e : r.entries) by_path[e.path] = e;
    // GNU tar stores the first of the two names as the file, the other as a hardlink.
    std::string first = by_path.count(deep) && by_path[deep].type == TarEntry::Type::kFile ? deep : "d/hard";
    std::string second = first == deep ? "d/hard" : deep;
    ASSERT_TRUE(by_path.count(first)) << format;
    EXPECT_EQ(r.contents[first], "deep") << format;
    ASSERT_TRUE(by_path.count(second)) << format;
    EXPECT_EQ(by_path[second].type, TarEntry::Type::kHardlink) << format;
    EXPECT_EQ(by_path[second].link_target, first) << format;
    ASSERT_TRUE(by_path.count("d/sym")) << format;
    EXPECT_EQ(by_path["d/sym"].link_target, long_target) << format;
  }
}

TEST(TarReaderTest, KeepsOwnersAndTypes) {
  Read r = ReadAll(RawTar().File("f", "x", 04755, 1000, 2000).Hardlink("h", "f").CharDevice("dev/null").Bytes());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].uid, 1000u);
  EXPECT_EQ(r.entries[0].gid, 2000u);
  EXPECT_EQ(r.entries[0].mode, 04755u);
  EXPECT_EQ(r.entries[1].type, TarEntry::Type::kHardlink);
  EXPECT_EQ(r.entries[2].type, TarEntry::Type::kCharDevice);
}

void ExpectError(const std::string& bytes, const std::string& entry, const std::string& what) {
  Read r = ReadAll(bytes);
  ASSERT_FALSE(r.status.ok()) << "expected: " << what;
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.ToString();
  EXPECT_NE(r.status.message().find("\"" + entry + "\""), std::string::npos) << r.status.ToString();
  EXPECT_NE(r.status.message().find(what), std::string::npos) << r.status.ToString();
}

TEST(TarReaderTest, MalformedArchivesAreErrorsNamingTheEntry) {
  std::string good = RawTar().File("ok", "1").File("victim", "abc").Bytes();
  std::string bad_sum = good;
  char& digit = bad_sum[1024 + 150];  // the checksum field of "victim"
  digit = digit == '1' ? '2' : '1';
  ExpectError(bad_sum, "victim", "checksum");

  std::string bad_magic = RawTar().File("ok", "1").Raw() + RawTar::HeaderBlock("m", '0', 0644, 0, "", 0, 0);
  bad_magic[1024 + 257] = 'X';
  // Fix the checksum so only the magic is wrong.
  std::memset(bad_magic.data() + 1024 + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 1024; i < 1536; ++i) sum += static_cast<unsigned char>(bad_magic[i]);
  std::snprintf(bad_magic.data() + 1024 + 148, 8, "%06o", sum);
  ExpectError(bad_magic + std::string(1024, '\0'), "m", "magic");

  std::string truncated = RawTar().File("big", std::string(2000, 'x')).Raw().substr(0, 512 + 1000);
  ExpectError(truncated, "big", "truncated");
  ExpectError(Gzip(RawTar().File("big", std::string(2000, 'x')).Bytes()).substr(0, 60), "big", "truncated");

  std::string pax_body = "99 path=x\n";
  std::string pax = RawTar::HeaderBlock("PaxHeaders/x", 'x', 0644, pax_body.size(), "", 0, 0) + pax_body +
                    std::string(512 - pax_body.size(), '\0') + RawTar().File("x", "1").Bytes();
  ExpectError(pax, "PaxHeaders/x", "PAX");

  ExpectError(RawTar::HeaderBlock("sparse", 'S', 0644, 0, "", 0, 0) + std::string(1024, '\0'), "sparse",
              "unsupported entry type 'S'");
  std::string garbage_after = RawTar().File("a", "1").Bytes() + "junk";
  garbage_after += std::string(508, '\0');
  Read r = ReadAll(garbage_after);
  EXPECT_FALSE(r.status.ok()) << "bytes after the end marker must be zeros";
}

TEST(TarReaderTest, Base256SizesAndPaxOverrides) {
  std::string content = "payload";
  std::string h = RawTar::HeaderBlock("b256", '0', 0644, 0, "", 0, 0);
  std::memset(h.data() + 124, 0, 12);
  h[124] = static_cast<char>(0x80);
  h[135] = static_cast<char>(content.size());
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  std::string pax_body = "18 path=renamed/x\n" "12 uid=4242\n";
  std::string tar = h + content + std::string(512 - content.size(), '\0') +
                    RawTar::HeaderBlock("PaxHeaders/x", 'x', 0644, pax_body.size(), "", 0, 0) + pax_body +
                    std::string(512 - pax_body.size(), '\0') + RawTar().File("short", "1").Bytes();
  Read r = ReadAll(tar);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.contents["b256"], content);
  EXPECT_EQ(r.entries[1].path, "renamed/x");
  EXPECT_EQ(r.entries[1].uid, 4242u);
}

}  // namespace
}  // namespace ofn::container

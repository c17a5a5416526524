#include "build/tar_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

namespace fs = std::filesystem;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

const std::string kLongDir = "deep/" + std::string(80, 'd');
const std::string kLongName = kLongDir + "/" + std::string(60, 'n') + ".txt";  // > 100 bytes
const std::string kLongTarget = "/opt/" + std::string(120, 't');

struct Listed {
  std::string mode, owner, size, when, target;
};

// Parses `tar -tv` lines: "MODE OWNER SIZE DATE TIME NAME[ -> TARGET]".
std::map<std::string, Listed> ParseListing(const std::string& text) {
  std::map<std::string, Listed> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    Listed e;
    std::string date, time;
    f >> e.mode >> e.owner >> e.size >> date >> time;
    e.when = date + " " + time;
    std::string rest;
    std::getline(f, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (auto arrow = rest.find(" -> "); arrow != std::string::npos) {
      e.target = rest.substr(arrow + 4);
      rest.resize(arrow);
    }
    out[rest] = e;
  }
  return out;
}

Result<std::string> SampleTar(const std::string& streamed_source) {
  std::string out;
  TarWriter tar([&out](std::string_view b) {
    out.append(b);
    return Status::Ok();
  });
  for (Status s : {tar.AddDirectory("app", 0755), tar.AddFile("app/hello", 0755, "#!/bin/sh\necho hello\n"),
                   tar.AddFile("app/empty", 0644, ""), tar.AddFile("app/block", 0600, std::string(512, 'b')),
                   tar.AddFile("app/suid", 04755, "x"), tar.AddDirectory("app/tmp/", 01777),
                   tar.AddSymlink("app/link", "hello"), tar.AddFileFrom("app/streamed", 0640, streamed_source),
                   tar.AddDirectory("deep", 0755), tar.AddDirectory(kLongDir, 0755), tar.AddFile(kLongName, 0644, "long"),
                   tar.AddSymlink("app/longlink", kLongTarget), tar.Finish()}) {
    if (!s.ok()) return s;
  }
  return out;
}

class TarWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_.Sub("source.bin");
    std::string data;
    for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i % 251));
    source_data_ = data;
    ASSERT_TRUE(WriteFile(source_, data).ok());
  }
  TempDir dir_{"ofn-tar"};
  std::string source_;
  std::string source_data_;
};

TEST_F(TarWriterTest, GnuTarListsWhatWasWritten) {
  auto bytes = SampleTar(source_);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->size() % 512, 0u);
  const std::string file = dir_.Sub("sample.tar");
  ASSERT_TRUE(WriteFile(file, *bytes).ok());

  auto list = RunTool({"tar", "--numeric-owner", "--utc", "-tvf", file});
  ASSERT_TRUE(list.ok()) << list.Describe();
  const std::string& l = list.out;
  auto entries = ParseListing(l);
  auto expect = [&](const std::string& name, const std::string& mode, const std::string& size,
                    const std::string& target = "") {
    auto it = entries.find(name);
    ASSERT_NE(it, entries.end()) << name << " not in\n" << l;
    EXPECT_EQ(it->second.mode, mode) << name;
    EXPECT_EQ(it->second.owner, "0/0") << name;
    EXPECT_EQ(it->second.size, size) << name;
    EXPECT_EQ(it->second.when, "1970-01-01 00:00") << name;
    EXPECT_EQ(it->second.target, target) << name;
  };
  expect("app/", "drwxr-xr-x", "0");
  expect("app/hello", "-rwxr-xr-x", "21");
  expect("app/empty", "-rw-r--r--", "0");
  expect("app/block", "-rw-------", "512");
  expect("app/suid", "-rwxr-xr-x", "1");  // setuid dropped
  expect("app/tmp/", "drwxrwxrwt", "0");  // sticky kept
  expect("app/link", "lrwxrwxrwx", "0", "hello");
  expect("app/streamed", "-rw-r-----", "300000");
  expect(kLongName, "-rw-r--r--", "4");
  expect("app/longlink", "lrwxrwxrwx", "0", kLongTarget);
  EXPECT_EQ(entries.size(), 12u) << l;
  EXPECT_EQ(l.find("PaxHeaders"), std::string::npos) << "PAX headers must be consumed, not listed:\n" << l;
}

TEST_F(TarWriterTest, GnuTarExtractsContentModesAndLinks) {
  auto bytes = SampleTar(source_);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string file = dir_.Sub("sample.tar");
  ASSERT_TRUE(WriteFile(file, *bytes).ok());
  const std::string out = dir_.Sub("x");
  fs::create_directory(out);
  auto x = RunTool({"tar", "-xf", file, "-C", out});
  ASSERT_TRUE(x.ok()) << x.Describe();

  EXPECT_EQ(ReadFile(out + "/app/hello"), "#!/bin/sh\necho hello\n");
  EXPECT_EQ(ReadFile(out + "/app/empty"), "");
  EXPECT_EQ(ReadFile(out + "/app/block"), std::string(512, 'b'));
  EXPECT_EQ(ReadFile(out + "/app/streamed"), source_data_);
  EXPECT_EQ(ReadFile(out + "/" + kLongName), "long");
  EXPECT_EQ(fs::read_symlink(out + "/app/link").string(), "hello");
  EXPECT_EQ(fs::read_symlink(out + "/app/longlink").string(), kLongTarget);
  struct stat st {};
  ASSERT_EQ(::stat((out + "/app/hello").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((out + "/app/block").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((out + "/app/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((out + "/app/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(TarWriterTest, SameInputSameBytes) {
  auto a = SampleTar(source_);
  auto b = SampleTar(source_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST_F(TarWriterTest, StreamedFileEqualsInMemoryFile) {
  auto tar_of = [&](bool streamed) {
    std::string out;
    TarWriter tar([&out](std::string_view b) {
      out.append(b);
      return Status::Ok();
    });
    EXPECT_TRUE((streamed ? tar.AddFileFrom("f", 0644, source_) : tar.AddFile("f", 0644, source_data_)).ok());
    EXPECT_TRUE(tar.Finish().ok());
    return out;
  };
  EXPECT_EQ(tar_of(true), tar_of(false));
}

TEST_F(TarWriterTest, MtimeIsTheCallers) {
  std::string out;
  TarWriter tar([&out](std::string_view b) {
    out.append(b);
    return Status::Ok();
  });
  ASSERT_TRUE(tar.AddFile("f", 0644, "x", 1700000000).ok());
  ASSERT_TRUE(tar.Finish().ok());
  ASSERT_TRUE(WriteFile(dir_.Sub("m.tar"), out).ok());
  auto list = RunTool({"tar", "--utc", "-tvf", dir_.Sub("m.tar")});
  ASSERT_TRUE(list.ok()) << list.Describe();
  EXPECT_EQ(ParseListing(list.out)["f"].when, "2023-11-14 22:13") << list.out;
}

TEST_F(TarWriterTest, SizesOf8GiBAndMoreUsePax) {
  // A sparse file: 8 GiB of zeros that take no disk space. The sink stops
  // the writer at the first data chunk: the headers are what is checked, and
  // reading 8 GiB would take seconds.
  const std::string big = dir_.Sub("big");
  {
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 8LL << 30), 0);
    ::close(fd);
  }
  std::string head;
  TarWriter tar([&](std::string_view b) {
    if (head.size() >= 3 * 512) return Status::Unavailable("enough");
    head.append(b);
    return Status::Ok();
  });
  EXPECT_EQ(tar.AddFileFrom("big", 0644, big).code(), StatusCode::kUnavailable);
  ASSERT_EQ(head.size(), 3u * 512);
  EXPECT_EQ(head[156], 'x');  // a PAX header, its records, then the file's header
  EXPECT_EQ(head.substr(512, 20), std::string("19 size=8589934592\n") + '\0');
  EXPECT_EQ(head[1024 + 156], '0');
  EXPECT_EQ(head.substr(1024 + 124, 12), std::string("00000000000") + '\0');  // the record carries the size
  EXPECT_EQ(head.substr(1024, 4), std::string("big") + '\0');
}

TEST_F(TarWriterTest, SinkErrorStopsTheWriter) {
  int calls = 0;
  TarWriter tar([&calls](std::string_view) {
    ++calls;
    return Status::Unavailable("disk full");
  });
  EXPECT_EQ(tar.AddFile("a", 0644, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(tar.AddFile("b", 0644, "y").code(), StatusCode::kUnavailable);
  EXPECT_EQ(tar.Finish().code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST_F(TarWriterTest, RejectsBadInput) {
  TarWriter tar([](std::string_view) { return Status::Ok(); });
  EXPECT_FALSE(tar.AddFile("", 0644, "x").ok());
  EXPECT_FALSE(tar.AddFile(std::string("a\0b", 3), 0644, "x").ok());
  EXPECT_FALSE(tar.AddSymlink("l", "").ok());
  EXPECT_FALSE(tar.AddFile("neg", 0644, "x", -1).ok());
  EXPECT_EQ(tar.AddFileFrom("missing", 0644, dir_.Sub("nope")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(tar.AddFileFrom("dir", 0644, dir_.path()).ok());
}

}  // namespace
}  // namespace ofn::build

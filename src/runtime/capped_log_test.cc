#include "runtime/capped_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/process.h"

namespace ofn::runtime {
namespace {

using ofn::testing::ReadFile;
using ofn::testing::TempDir;

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Everything readable from `from` on, following next_offset.
std::string ReadAll(const CappedLog& log, uint64_t from, uint64_t* first = nullptr) {
  std::string out;
  for (bool start = true;; start = false) {
    auto c = log.Read(from, 7);  // small pieces: crosses the file boundary
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return out;
    if (start && first != nullptr) *first = c->offset;
    if (!start) {
      EXPECT_EQ(c->offset, from) << "kept bytes are contiguous";
    }
    if (c->data.empty()) return out;
    out += c->data;
    from = c->next_offset;
  }
}

TEST(CappedLogTest, AppendsAndReadsByOffset) {
  TempDir dir;
  auto log = CappedLog::Open(dir.Sub("out.log"), 0);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append("hello\n").ok());
  ASSERT_TRUE((*log)->Append("world\n").ok());
  EXPECT_EQ((*log)->end_offset(), 12u);
  EXPECT_EQ((*log)->start_offset(), 0u);
  auto c = (*log)->Read(6, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data, "world\n");
  EXPECT_EQ(c->offset, 6u);
  EXPECT_EQ(c->next_offset, 12u);
  auto end = (*log)->Read(12, 100);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->data, "");
  EXPECT_EQ(end->next_offset, 12u);
  auto beyond = (*log)->Read(1000, 100);
  ASSERT_TRUE(beyond.ok());
  EXPECT_EQ(beyond->next_offset, 12u) << "an offset past the end is clamped";
  EXPECT_EQ(ReadFile(dir.Sub("out.log")).value_or(""), "hello\nworld\n");
}

TEST(CappedLogTest, CapKeepsTheNewestHalfInTwoFiles) {
  TempDir dir;
  const std::string path = dir.Sub("out.log");
  constexpr size_t kCap = 100;
  auto log = CappedLog::Open(path, kCap);
  ASSERT_TRUE(log.ok());
  std::string all;
  for (int i = 0; i < 200; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    all += line;
    ASSERT_TRUE((*log)->Append(line).ok());
    ASSERT_LE(FileSize(path) + FileSize(path + ".1"), kCap) << "after line " << i;
  }
  EXPECT_LE(FileSize(path), kCap / 2);
  EXPECT_GT(FileSize(path + ".1"), 0u);
  uint64_t start = (*log)->start_offset();
  uint64_t end = (*log)->end_offset();
  EXPECT_EQ(end, all.size());
  EXPECT_GE(end - start, kCap / 2) << "at least the newest half is kept";
  uint64_t first = 0;
  std::string kept = ReadAll(**log, 0, &first);
  EXPECT_EQ(first, start) << "reading from a dropped offset starts at the oldest kept byte";
  EXPECT_EQ(kept, all.substr(start));
  EXPECT_EQ(*ReadFile(path + ".1") + *ReadFile(path), kept) << "the files hold exactly what Read gives";
}

TEST(CappedLogTest, AWriteLargerThanTheCapKeepsItsEnd) {
  TempDir dir;
  const std::string path = dir.Sub("out.log");
  auto log = CappedLog::Open(path, 64);
  ASSERT_TRUE(log.ok());
  std::string big;
  for (int i = 0; i < 1000; ++i) big += static_cast<char>('a' + i % 26);
  ASSERT_TRUE((*log)->Append(big).ok());
  EXPECT_LE(FileSize(path) + FileSize(path + ".1"), 64u);
  std::string kept = ReadAll(**log, 0);
  EXPECT_GE(kept.size(), 32u);
  EXPECT_EQ(kept, big.substr(big.size() - kept.size()));
}

TEST(CappedLogTest, TailGivesTheLastLines) {
  TempDir dir;
  auto log = CappedLog::Open(dir.Sub("out.log"), 32);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*log)->Append("message " + std::to_string(i) + "\n").ok());
  EXPECT_EQ((*log)->Tail(2, 1000), "message 48\nmessage 49");
}

TEST(CappedLogTest, OpenStartsAFreshLog) {
  TempDir dir;
  const std::string path = dir.Sub("out.log");
  ASSERT_TRUE(ofn::testing::WriteFile(path, "old").ok());
  ASSERT_TRUE(ofn::testing::WriteFile(path + ".1", "older").ok());
  auto log = CappedLog::Open(path, 100);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(ReadFile(path).value_or("?"), "");
  EXPECT_FALSE(ReadFile(path + ".1").has_value());
}

TEST(CappedLogTest, OpenFailsOnAMissingDirectory) {
  auto log = CappedLog::Open("/nonexistent-dir/out.log", 100);
  EXPECT_FALSE(log.ok());
}

}  // namespace
}  // namespace ofn::runtime

#include "components/sqlite_state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>
#include "support/process.h"  // TempDir

namespace ofn::components {
namespace {

namespace fs = std::filesystem;

using ofn::testing::TempDir;

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(SqliteStateStoreOptions options = {}) {
    store_.reset();
    auto s = SqliteStateStore::Open(dir_.Sub("state.db"), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  std::string Etag(const std::string& key) {
    auto item = store_->Get(key);
    EXPECT_TRUE(item.ok() && item->has_value()) << key;
    return item.ok() && item->has_value() ? (*item)->etag : "";
  }
  Status Set(std::string key, std::string value, std::optional<std::string> etag = std::nullopt,
             std::optional<Concurrency> c = std::nullopt) {
    return store_->Set(SetRequest{std::move(key), std::move(value), std::move(etag), c});
  }

  TempDir dir_;
  std::unique_ptr<SqliteStateStore> store_;
};

TEST_F(SqliteStateStoreTest, GetMissingIsNullopt) {
  auto item = store_->Get("nope");
  ASSERT_TRUE(item.ok());
  EXPECT_FALSE(item->has_value());
  EXPECT_EQ(store_->type(), "state.ofn");
  EXPECT_TRUE(store_->transactional());
}

TEST_F(SqliteStateStoreTest, SetThenGetReturnsBytesAndGrowingIntegerEtags) {
  ASSERT_TRUE(Set("k", std::string("a\0b", 3)).ok());
  auto item = store_->Get("k");
  ASSERT_TRUE(item.ok() && item->has_value());
  EXPECT_EQ((*item)->value, std::string("a\0b", 3));
  const long first = std::stol((*item)->etag);
  EXPECT_GE(first, 1);
  ASSERT_TRUE(Set("k", "2").ok());
  EXPECT_GT(std::stol(Etag("k")), first);
  ASSERT_TRUE(Set("other", "x").ok());
  EXPECT_GT(std::stol(Etag("other")), std::stol(Etag("k")));
}

TEST_F(SqliteStateStoreTest, EtagFirstWriteMustMatch) {
  ASSERT_TRUE(Set("k", "1").ok());
  std::string etag = Etag("k");
  Status bad = Set("k", "2", std::to_string(std::stol(etag) + 100));
  EXPECT_TRUE(IsEtagMismatch(bad)) << bad.ToString();
  EXPECT_TRUE(Set("k", "2", etag).ok());  // default with an etag is first-write
  EXPECT_TRUE(IsEtagMismatch(Set("k", "3", etag)));  // the old etag is stale now
  EXPECT_TRUE(IsEtagMismatch(Set("k", "3", etag, Concurrency::kFirstWrite)));
  auto item = store_->Get("k");
  EXPECT_EQ((*item)->value, "2");
}

TEST_F(SqliteStateStoreTest, EtagOnMissingKeyIsMismatch) {
  EXPECT_TRUE(IsEtagMismatch(Set("new", "1", "5")));
  EXPECT_FALSE(store_->Get("new")->has_value());
}

TEST_F(SqliteStateStoreTest, LastWriteIgnoresEtag) {
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(Set("k", "2", "999", Concurrency::kLastWrite).ok());
  EXPECT_TRUE(Set("k", "3", "not-a-number", Concurrency::kLastWrite).ok());
  EXPECT_EQ((*store_->Get("k"))->value, "3");
}

TEST_F(SqliteStateStoreTest, NoEtagLastWriteAlwaysWins) {
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(Set("k", "2").ok());
  EXPECT_TRUE(Set("k", "3", "").ok());  // an empty etag is no etag
  EXPECT_EQ((*store_->Get("k"))->value, "3");
}

TEST_F(SqliteStateStoreTest, FirstWriteWithoutEtagIsCreateOnly) {
  EXPECT_TRUE(Set("k", "1", std::nullopt, Concurrency::kFirstWrite).ok());
  Status again = Set("k", "2", std::nullopt, Concurrency::kFirstWrite);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_FALSE(IsEtagMismatch(again));
  EXPECT_EQ(Set("k", "2", "", Concurrency::kFirstWrite).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*store_->Get("k"))->value, "1");
}

TEST_F(SqliteStateStoreTest, NonNumericEtagIsInvalid) {
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(IsEtagInvalid(Set("k", "2", "abc")));
  EXPECT_TRUE(IsEtagInvalid(store_->Delete({"k", "abc", std::nullopt})));
  EXPECT_EQ((*store_->Get("k"))->value, "1");
}

TEST_F(SqliteStateStoreTest, DeleteWithEtag) {
  ASSERT_TRUE(Set("k", "1").ok());
  std::string etag = Etag("k");
  EXPECT_TRUE(IsEtagMismatch(store_->Delete({"k", std::to_string(std::stol(etag) + 1), std::nullopt})));
  EXPECT_TRUE(store_->Get("k")->has_value());
  EXPECT_TRUE(store_->Delete({"k", etag, std::nullopt}).ok());
  EXPECT_FALSE(store_->Get("k")->has_value());
  // Missing key: fine without an etag, a mismatch with one.
  EXPECT_TRUE(store_->Delete({"k", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(IsEtagMismatch(store_->Delete({"k", etag, std::nullopt})));
  // last-write ignores the etag.
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(store_->Delete({"k", "12345", Concurrency::kLastWrite}).ok());
  EXPECT_FALSE(store_->Get("k")->has_value());
}

TEST_F(SqliteStateStoreTest, EtagsAreNotReusedAfterDelete) {
  ASSERT_TRUE(Set("k", "1").ok());
  std::string old = Etag("k");
  ASSERT_TRUE(store_->Delete({"k", std::nullopt, std::nullopt}).ok());
  ASSERT_TRUE(Set("k", "2").ok());
  EXPECT_NE(Etag("k"), old);
  EXPECT_TRUE(IsEtagMismatch(Set("k", "3", old)));
}

TEST_F(SqliteStateStoreTest, BulkGetInKeyOrder) {
  ASSERT_TRUE(Set("a", "1").ok());
  ASSERT_TRUE(Set("c", "3").ok());
  auto items = store_->BulkGet({"c", "b", "a"});
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0]->value, "3");
  EXPECT_FALSE((*items)[1].has_value());
  EXPECT_EQ((*items)[2]->value, "1");
  EXPECT_TRUE(store_->BulkGet({})->empty());
}

TEST_F(SqliteStateStoreTest, TransactionAppliesAllInOrder) {
  ASSERT_TRUE(Set("gone", "x").ok());
  std::vector<StateOperation> ops = {SetRequest{"a", "1", std::nullopt, std::nullopt},
                                     SetRequest{"a", "2", std::nullopt, std::nullopt},
                                     DeleteRequest{"gone", std::nullopt, std::nullopt}};
  ASSERT_TRUE(store_->Transaction(ops).ok());
  EXPECT_EQ((*store_->Get("a"))->value, "2");
  EXPECT_FALSE(store_->Get("gone")->has_value());
}

TEST_F(SqliteStateStoreTest, TransactionIsAtomic) {
  ASSERT_TRUE(Set("a", "old").ok());
  ASSERT_TRUE(Set("b", "old").ok());
  std::string etag_a = Etag("a");
  std::vector<StateOperation> ops = {SetRequest{"a", "new", std::nullopt, std::nullopt},
                                     DeleteRequest{"b", std::nullopt, std::nullopt},
                                     SetRequest{"c", "new", std::nullopt, std::nullopt},
                                     SetRequest{"b", "x", "999999", std::nullopt}};  // mismatch: b is gone
  Status s = store_->Transaction(ops);
  EXPECT_TRUE(IsEtagMismatch(s)) << s.ToString();
  EXPECT_EQ((*store_->Get("a"))->value, "old");
  EXPECT_EQ(Etag("a"), etag_a);
  EXPECT_EQ((*store_->Get("b"))->value, "old");
  EXPECT_FALSE(store_->Get("c")->has_value());
  // The counter rolls back with the data (those etags were never seen), and
  // the next write still gets a larger etag.
  ASSERT_TRUE(Set("a", "next").ok());
  EXPECT_GT(std::stol(Etag("a")), std::stol(etag_a));
}

TEST_F(SqliteStateStoreTest, TransactionLimit) {
  Reopen({.sync_full = false, .max_transaction_operations = 2});
  std::vector<StateOperation> ops(3, SetRequest{"a", "1", std::nullopt, std::nullopt});
  EXPECT_EQ(store_->Transaction(ops).code(), StatusCode::kResourceExhausted);
  ops.pop_back();
  EXPECT_TRUE(store_->Transaction(ops).ok());
}

TEST_F(SqliteStateStoreTest, SurvivesReopenWithEtagsStillGrowing) {
  ASSERT_TRUE(Set("k", "persisted").ok());
  ASSERT_TRUE(Set("gone", "x").ok());
  ASSERT_TRUE(store_->Delete({"gone", std::nullopt, std::nullopt}).ok());
  std::string etag = Etag("k");
  Reopen();
  auto item = store_->Get("k");
  ASSERT_TRUE(item.ok() && item->has_value());
  EXPECT_EQ((*item)->value, "persisted");
  EXPECT_EQ((*item)->etag, etag);
  EXPECT_FALSE(store_->Get("gone")->has_value());
  ASSERT_TRUE(Set("k2", "v").ok());
  EXPECT_GT(std::stol(Etag("k2")), std::stol(etag) + 1);  // "gone" used etag+1 before the restart
  EXPECT_TRUE(Set("k", "v2", etag).ok());
}

TEST_F(SqliteStateStoreTest, OpenFailsOnBadPath) {
  EXPECT_FALSE(SqliteStateStore::Open("").ok());
  EXPECT_FALSE(SqliteStateStore::Open(dir_.Sub("no/such/dir/state.db")).ok());
}

TEST_F(SqliteStateStoreTest, ConcurrentFirstWriteCreatesExactlyOnce) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (Set("once", std::to_string(i), std::nullopt, Concurrency::kFirstWrite).ok()) ++winners;
      for (int j = 0; j < 20; ++j) ASSERT_TRUE(Set("t" + std::to_string(i), std::to_string(j)).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  std::set<std::string> etags;
  for (int i = 0; i < kThreads; ++i) etags.insert(Etag("t" + std::to_string(i)));
  EXPECT_EQ(etags.size(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace ofn::components

#include "components/redis/hash_state_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "components/redis/redis_test_util.h"

namespace ofn::components::redis {
namespace {

using namespace testing;  // NOLINT: the helpers of redis_test_util.h

class HashStateStoreTest : public RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    auto c = Create(Spec("state.redis", broker_.url));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    store_ = c->state;
  }
  std::string Etag(const std::string& key) {
    auto item = store_->Get(key);
    EXPECT_TRUE(item.ok() && item->has_value()) << key;
    return item.ok() && item->has_value() ? (*item)->etag : "";
  }
  std::string Value(const std::string& key) {
    auto item = store_->Get(key);
    EXPECT_TRUE(item.ok() && item->has_value()) << key;
    return item.ok() && item->has_value() ? (*item)->value : "";
  }
  bool Exists(const std::string& key) { return store_->Get(key)->has_value(); }
  Status Set(std::string key, std::string value, std::optional<std::string> etag = std::nullopt,
             std::optional<Concurrency> c = std::nullopt) {
    return store_->Set(SetRequest{std::move(key), std::move(value), std::move(etag), c});
  }

  std::shared_ptr<StateStore> store_;
};

TEST_F(HashStateStoreTest, TypeAndFeatures) {
  EXPECT_EQ(store_->type(), "state.redis");
  EXPECT_TRUE(store_->transactional());
  EXPECT_EQ(store_->features(), (std::vector<std::string>{"ETAG", "TRANSACTIONAL"}));
}

TEST_F(HashStateStoreTest, StoresDaprsHashLayoutWithVersionAsEtag) {
  EXPECT_FALSE(Exists("k"));
  ASSERT_TRUE(Set("k", std::string("a\0b", 3)).ok());
  EXPECT_EQ(Value("k"), std::string("a\0b", 3));
  EXPECT_EQ(Etag("k"), "1");
  ASSERT_TRUE(Set("k", "2").ok());
  EXPECT_EQ(Etag("k"), "2");
  Reply data = Raw({"HGET", "k", "data"});
  EXPECT_EQ(ReplyText(data.get()), "2");
  Reply version = Raw({"HGET", "k", "version"});
  EXPECT_EQ(ReplyText(version.get()), "2");
}

TEST_F(HashStateStoreTest, EtagFirstWriteMustMatch) {
  ASSERT_TRUE(Set("k", "1").ok());
  std::string etag = Etag("k");
  EXPECT_TRUE(IsEtagMismatch(Set("k", "2", "99")));
  EXPECT_TRUE(Set("k", "2", etag).ok());
  EXPECT_TRUE(IsEtagMismatch(Set("k", "3", etag)));  // stale now
  EXPECT_TRUE(IsEtagMismatch(Set("k", "3", etag, Concurrency::kFirstWrite)));
  EXPECT_EQ(Value("k"), "2");
}

TEST_F(HashStateStoreTest, EtagOnMissingKeyIsMismatch) {
  EXPECT_TRUE(IsEtagMismatch(Set("new", "1", "5")));
  EXPECT_FALSE(Exists("new"));
}

TEST_F(HashStateStoreTest, LastWriteIgnoresEtag) {
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(Set("k", "2", "999", Concurrency::kLastWrite).ok());
  EXPECT_TRUE(Set("k", "3", "not-a-number", Concurrency::kLastWrite).ok());
  EXPECT_TRUE(Set("k", "4", "").ok());  // an empty etag is no etag
  EXPECT_EQ(Value("k"), "4");
}

TEST_F(HashStateStoreTest, FirstWriteWithoutEtagIsCreateOnly) {
  EXPECT_TRUE(Set("k", "1", std::nullopt, Concurrency::kFirstWrite).ok());
  Status again = Set("k", "2", std::nullopt, Concurrency::kFirstWrite);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(Set("k", "2", "", Concurrency::kFirstWrite).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Value("k"), "1");
}

TEST_F(HashStateStoreTest, NonNumericEtagIsInvalid) {
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(IsEtagInvalid(Set("k", "2", "abc")));
  EXPECT_TRUE(IsEtagInvalid(store_->Delete({"k", "abc", std::nullopt})));
  EXPECT_EQ(Value("k"), "1");
}

TEST_F(HashStateStoreTest, DeleteWithEtag) {
  ASSERT_TRUE(Set("k", "1").ok());
  std::string etag = Etag("k");
  EXPECT_TRUE(IsEtagMismatch(store_->Delete({"k", "7", std::nullopt})));
  EXPECT_TRUE(Exists("k"));
  EXPECT_TRUE(store_->Delete({"k", etag, std::nullopt}).ok());
  EXPECT_FALSE(Exists("k"));
  EXPECT_TRUE(store_->Delete({"k", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(IsEtagMismatch(store_->Delete({"k", etag, std::nullopt})));
  ASSERT_TRUE(Set("k", "1").ok());
  EXPECT_TRUE(store_->Delete({"k", "12345", Concurrency::kLastWrite}).ok());
  EXPECT_FALSE(Exists("k"));
}

TEST_F(HashStateStoreTest, BulkGetInKeyOrder) {
  ASSERT_TRUE(Set("a", "1").ok());
  ASSERT_TRUE(Set("c", "3").ok());
  Raw({"SET", "plain", "p"});
  auto items = store_->BulkGet({"c", "b", "plain", "a"});
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 4u);
  EXPECT_EQ((*items)[0]->value, "3");
  EXPECT_FALSE((*items)[1].has_value());
  EXPECT_EQ((*items)[2]->value, "p");
  EXPECT_EQ((*items)[2]->etag, "");
  EXPECT_EQ((*items)[3]->value, "1");
  EXPECT_TRUE(store_->BulkGet({})->empty());
}

TEST_F(HashStateStoreTest, PlainStringKeyIsReadableAndReplacedByAWrite) {
  Raw({"SET", "plain", "legacy"});
  EXPECT_EQ(Value("plain"), "legacy");
  ASSERT_TRUE(Set("plain", "new").ok());
  EXPECT_EQ(Value("plain"), "new");
  EXPECT_EQ(Etag("plain"), "1");
}

TEST_F(HashStateStoreTest, TransactionAppliesAllInOrder) {
  ASSERT_TRUE(Set("gone", "x").ok());
  ASSERT_TRUE(Set("b", "old").ok());
  std::vector<StateOperation> ops = {SetRequest{"a", "1", std::nullopt, std::nullopt},
                                     SetRequest{"a", "2", "1", std::nullopt},  // the etag the first set made
                                     DeleteRequest{"gone", std::nullopt, std::nullopt},
                                     SetRequest{"b", "new", Etag("b"), std::nullopt}};
  Status s = store_->Transaction(ops);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Value("a"), "2");
  EXPECT_EQ(Etag("a"), "2");
  EXPECT_FALSE(Exists("gone"));
  EXPECT_EQ(Value("b"), "new");
}

TEST_F(HashStateStoreTest, TransactionIsAtomic) {
  ASSERT_TRUE(Set("a", "old").ok());
  ASSERT_TRUE(Set("b", "old").ok());
  std::string etag_a = Etag("a");
  std::vector<StateOperation> ops = {SetRequest{"a", "new", std::nullopt, std::nullopt},
                                     DeleteRequest{"b", std::nullopt, std::nullopt},
                                     SetRequest{"c", "new", std::nullopt, std::nullopt},
                                     SetRequest{"b", "x", "1", std::nullopt}};  // mismatch: b is gone by then
  Status s = store_->Transaction(ops);
  EXPECT_TRUE(IsEtagMismatch(s)) << s.ToString();
  EXPECT_EQ(Value("a"), "old");
  EXPECT_EQ(Etag("a"), etag_a);
  EXPECT_EQ(Value("b"), "old");
  EXPECT_FALSE(Exists("c"));
  // Create-only inside a transaction, and a bad etag, fail the whole of it too.
  EXPECT_EQ(store_
                ->Transaction({SetRequest{"c", "1", std::nullopt, std::nullopt},
                               SetRequest{"a", "2", std::nullopt, Concurrency::kFirstWrite}})
                .code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(IsEtagInvalid(
      store_->Transaction({SetRequest{"c", "1", std::nullopt, std::nullopt}, DeleteRequest{"a", "zz", std::nullopt}})));
  EXPECT_FALSE(Exists("c"));
  // The connection is usable (no WATCH left behind) for the next transaction.
  EXPECT_TRUE(store_->Transaction({SetRequest{"c", "1", std::nullopt, std::nullopt}}).ok());
  EXPECT_EQ(Value("c"), "1");
}

TEST_F(HashStateStoreTest, ConcurrentWritersSerialiseOnEtags) {
  ASSERT_TRUE(Set("counter", "0").ok());
  // Two stores (two connections): read-modify-write with etags never loses an increment.
  auto other = Create(Spec("state.redis", broker_.url));
  ASSERT_TRUE(other.ok());
  std::vector<std::shared_ptr<StateStore>> stores{store_, other->state};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      StateStore& st = *stores[t % 2];
      for (int done = 0; done < 20;) {
        auto item = st.Get("counter");
        ASSERT_TRUE(item.ok() && item->has_value());
        std::string next = std::to_string(std::stoi((*item)->value) + 1);
        std::vector<StateOperation> ops{SetRequest{"counter", next, (*item)->etag, std::nullopt},
                                        SetRequest{"log" + std::to_string(t), next, std::nullopt, std::nullopt}};
        Status s = st.Transaction(ops);
        if (s.ok())
          ++done;
        else
          ASSERT_TRUE(IsEtagMismatch(s)) << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Value("counter"), "80");
}

TEST_F(HashStateStoreTest, ReconnectsAfterRedisRestart) {
  ASSERT_TRUE(Set("k", "before").ok());
  broker_.Kill();
  EXPECT_EQ(store_->Get("k").status().code(), StatusCode::kUnavailable);
  StartBroker(broker_.port);
  EXPECT_EQ(Value("k"), "before");
  EXPECT_TRUE(Set("k", "after", Etag("k")).ok());
}

TEST_F(HashStateStoreTest, MissingHostIsNamed) {
  auto c = Create(Spec("state.redis", ""));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("redisHost"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace ofn::components::redis

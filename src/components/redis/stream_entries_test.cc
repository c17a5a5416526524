#include "components/redis/stream_entries.h"

#include <gtest/gtest.h>

#include "components/redis/options.h"

namespace ofn::components::redis {
namespace {

TEST(StreamEntriesTest, StreamIds) {
  auto next = [](std::string_view id) { return StreamId::Parse(id).value().Next().ToString(); };
  EXPECT_EQ(next("5-3"), "5-4");
  EXPECT_EQ(next("0-0"), "0-1");
  EXPECT_EQ(next("5"), "5-1");
  EXPECT_EQ(next("7-18446744073709551615"), "8-0");
  EXPECT_LT(*StreamId::Parse("9-10"), *StreamId::Parse("10-2"));  // numbers, not text
  for (std::string_view bad : {"", "-", "5-", "-3", "5-3-1", "x-1", "5-3 ", "18446744073709551616-0"}) {
    EXPECT_FALSE(StreamId::Parse(bad)) << bad;
  }
}

TEST(StreamEntriesTest, MessageFromDaprFields) {
  StreamEntry e{.id = {1, 1}, .data = "payload", .metadata = R"({"a":"x","n":2,"o":{"k":true}})"};
  Message m = ToMessage("t", std::move(e));
  EXPECT_EQ(m.topic, "t");
  EXPECT_EQ(m.data, "payload");
  EXPECT_EQ(m.metadata, (std::map<std::string, std::string>{{"a", "x"}, {"n", "2"}, {"o", R"({"k":true})"}}));
  Message bad = ToMessage("t", StreamEntry{.id = {1, 2}, .data = "payload", .metadata = "not json"});
  EXPECT_TRUE(bad.metadata.empty());
  EXPECT_EQ(bad.data, "payload");
}

TEST(RedisOptionsTest, HostPortAndDefaults) {
  Metadata m;
  m.Set("redishost", "cache.local:6380");  // keys match case-insensitively
  auto o = RedisOptions::FromMetadata(m);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->host, "cache.local");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 0);
  EXPECT_EQ(o->dial_timeout, std::chrono::seconds(5));
  EXPECT_EQ(o->read_timeout, std::chrono::seconds(3));

  Metadata bare;
  bare.Set("redisHost", "cache.local");
  bare.Set("redisPort", "7000");
  bare.Set("dialTimeout", "2");  // seconds, like Dapr's generic durations
  EXPECT_EQ(RedisOptions::FromMetadata(bare)->port, 7000);
  EXPECT_EQ(RedisOptions::FromMetadata(bare)->dial_timeout, std::chrono::seconds(2));
  bare.Set("redisPort", "x");
  EXPECT_NE(RedisOptions::FromMetadata(bare).status().message().find("redisPort"), std::string::npos);

  Metadata v6;
  v6.Set("redisHost", "[::1]:6390");
  EXPECT_EQ(RedisOptions::FromMetadata(v6)->host, "::1");
  EXPECT_EQ(RedisOptions::FromMetadata(v6)->port, 6390);
}

TEST(RedisOptionsTest, RefusesWhatItCannotServe) {
  for (auto [key, value] : std::vector<std::pair<const char*, const char*>>{
           {"redisType", "cluster"}, {"enableTLS", "true"}, {"failover", "true"}, {"redisHost", "a:1,b:2"}}) {
    Metadata m;
    m.Set("redisHost", "localhost:6379");
    m.Set(key, value);
    auto o = RedisOptions::FromMetadata(m);
    ASSERT_FALSE(o.ok()) << key;
    EXPECT_NE(o.status().message().find(key), std::string::npos) << o.status().message();
  }
}

}  // namespace
}  // namespace ofn::components::redis

#include "components/nats/options.h"

#include <gtest/gtest.h>

namespace ofn::components::nats {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Metadata With(std::initializer_list<std::pair<const char*, const char*>> items) {
  Metadata m;
  for (const auto& [k, v] : items) m.Set(k, v);
  return m;
}

TEST(ComponentOptionsTest, NatsUrlIsRequired) {
  auto o = ParseComponentOptions(With({{"streamName", "S"}}));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("natsURL"), std::string::npos) << o.status().message();
}

TEST(ComponentOptionsTest, DefaultsAndCaseInsensitiveKeys) {
  auto o = ParseComponentOptions(With({{"NATSURL", "nats://h:4222"}, {"streamname", "ORDERS"}}));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->url, "nats://h:4222");
  EXPECT_EQ(o->name, "dapr.io - pubsub.jetstream");
  EXPECT_EQ(o->stream_name, "ORDERS");
}

TEST(ComponentOptionsTest, PairedKeysMustComeTogether) {
  auto jwt = ParseComponentOptions(With({{"natsURL", "nats://h"}, {"jwt", "eyJ"}}));
  ASSERT_FALSE(jwt.ok());
  EXPECT_NE(jwt.status().message().find("seedKey"), std::string::npos);
  auto tls = ParseComponentOptions(With({{"natsURL", "nats://h"}, {"tls_client_key", "k.pem"}}));
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find("tls_client_cert"), std::string::npos);
  auto both = ParseComponentOptions(With({{"natsURL", "nats://h"}, {"domain", "d"}, {"apiPrefix", "p"}}));
  EXPECT_FALSE(both.ok());
}

TEST(ComponentOptionsTest, StreamNameMustBeAValidName) {
  auto o = ParseComponentOptions(With({{"natsURL", "nats://h"}, {"streamName", "a.b"}}));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("streamName"), std::string::npos);
}

TEST(ConsumerOptionsTest, Defaults) {
  auto o = ParseConsumerOptions(Metadata(), "my-app");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->durable, "my-app");
  EXPECT_EQ(o->deliver_policy, DeliverPolicy::kAll);
  EXPECT_EQ(o->ack_wait.count(), 0);
  EXPECT_EQ(o->max_deliver, 0);
  EXPECT_TRUE(o->back_off.empty());
}

TEST(ConsumerOptionsTest, DurableNameFallsBackThroughQueueGroupAndConsumerIdAndIsSanitized) {
  EXPECT_EQ(ParseConsumerOptions(With({{"durableName", "d.1"}, {"queueGroupName", "q"}}), "app")->durable, "d_1");
  EXPECT_EQ(ParseConsumerOptions(With({{"queueGroupName", "q"}, {"consumerID", "c"}}), "app")->durable, "q");
  EXPECT_EQ(ParseConsumerOptions(With({{"consumerID", "ns.app*"}}), "app")->durable, "ns_app_");
  auto none = ParseConsumerOptions(Metadata(), "");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("durableName"), std::string::npos);
}

TEST(ConsumerOptionsTest, DeliverPolicies) {
  EXPECT_EQ(ParseConsumerOptions(With({{"deliverPolicy", "new"}}), "a")->deliver_policy, DeliverPolicy::kNew);
  EXPECT_EQ(ParseConsumerOptions(With({{"deliverPolicy", "last"}}), "a")->deliver_policy, DeliverPolicy::kLast);
  auto seq = ParseConsumerOptions(With({{"deliverPolicy", "sequence"}, {"startSequence", "7"}}), "a");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq->deliver_policy, DeliverPolicy::kSequence);
  EXPECT_EQ(seq->start_sequence, 7u);
  auto time = ParseConsumerOptions(With({{"startTime", "1700000000"}}), "a");  // implies "time"
  ASSERT_TRUE(time.ok());
  EXPECT_EQ(time->deliver_policy, DeliverPolicy::kTime);
  EXPECT_EQ(time->start_time_unix_seconds, 1700000000);

  auto no_seq = ParseConsumerOptions(With({{"deliverPolicy", "sequence"}}), "a");
  ASSERT_FALSE(no_seq.ok());
  EXPECT_NE(no_seq.status().message().find("startSequence"), std::string::npos);
  auto bad = ParseConsumerOptions(With({{"deliverPolicy", "first"}}), "a");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("deliverPolicy"), std::string::npos);
}

TEST(ConsumerOptionsTest, DurationsAndLimits) {
  auto o = ParseConsumerOptions(With({{"ackWait", "1m30s"},
                                      {"maxDeliver", "5"},
                                      {"backOff", "50ms, 1s,10"},
                                      {"maxAckPending", "20"},
                                      {"memoryStorage", "true"}}),
                                "a");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->ack_wait, seconds(90));
  EXPECT_EQ(o->max_deliver, 5);
  ASSERT_EQ(o->back_off.size(), 3u);
  EXPECT_EQ(o->back_off[0], milliseconds(50));
  EXPECT_EQ(o->back_off[1], seconds(1));
  EXPECT_EQ(o->back_off[2], seconds(10));
  EXPECT_EQ(o->max_ack_pending, 20);
  EXPECT_TRUE(o->memory_storage);
  EXPECT_EQ(ParseConsumerOptions(With({{"ackWait", "5"}}), "a")->ack_wait, seconds(5));

  for (auto [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
           {"ackWait", "soon"}, {"backOff", "1s, later"}, {"maxDeliver", "x"}, {"startSequence", "-1"}}) {
    auto r = ParseConsumerOptions(With({{key, value}}), "a");
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().message();
  }
}

TEST(ConsumerOptionsTest, OnlyExplicitAcks) {
  EXPECT_TRUE(ParseConsumerOptions(With({{"ackPolicy", "explicit"}}), "a").ok());
  auto none = ParseConsumerOptions(With({{"ackPolicy", "none"}}), "a");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("ackPolicy"), std::string::npos);
}

TEST(SanitizeNameTest, KeepsSafeBytesOnly) {
  EXPECT_EQ(SanitizeName("orders.new"), "orders_new");
  EXPECT_EQ(SanitizeName("a-b_C9"), "a-b_C9");
  EXPECT_EQ(SanitizeName("x>*/ y"), "x____y");
}

}  // namespace
}  // namespace ofn::components::nats

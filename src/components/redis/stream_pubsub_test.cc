#include "components/redis/stream_pubsub.h"

#include <gtest/gtest.h>

#include <set>

#include "components/redis/redis_test_util.h"

namespace ofn::components::redis {
namespace {

using namespace testing;  // NOLINT: the helpers of redis_test_util.h

class StreamPubSubTest : public RedisFixture {
 protected:
  std::shared_ptr<PubSub> NewPubSub(std::map<std::string, std::string> extra = {}) {
    auto c = Create(Spec("pubsub.redis", broker_.url, extra));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->pubsub : nullptr;
  }
  std::unique_ptr<Subscription> Subscribe(PubSub& ps, Inbox& inbox, size_t max_in_flight = 1,
                                          const std::string& topic = "orders") {
    auto sub = ps.Subscribe({topic, {}, max_in_flight}, inbox.Handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(*sub) : nullptr;
  }
  void Publish(PubSub& ps, const std::string& data, const std::string& topic = "orders") {
    Status s = ps.Publish({topic, data, {}});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Backlog(Subscription& sub) {
    auto n = sub.Backlog();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }
};

TEST_F(StreamPubSubTest, RoundTripWithMetadataInDaprsStreamFormat) {
  auto ps = NewPubSub();
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  ASSERT_TRUE(ps->Publish({"orders", std::string("{\"a\":1}\0x", 9), {{"ttlInSeconds", "30"}, {"k", "v"}}}).ok());
  ASSERT_TRUE(inbox.WaitFor(1));
  Message m = inbox.At(0).message;
  EXPECT_EQ(m.topic, "orders");
  EXPECT_EQ(m.data, std::string("{\"a\":1}\0x", 9));
  EXPECT_EQ(m.metadata, (std::map<std::string, std::string>{{"k", "v"}, {"ttlInSeconds", "30"}}));

  // What a Dapr sidecar reads: fields data and metadata (a JSON map).
  Reply r = Raw({"XRANGE", "orders", "-", "+"});
  ASSERT_EQ(r->elements, 1u);
  const redisReply* fields = r->element[0]->element[1];
  ASSERT_EQ(fields->elements, 4u);
  EXPECT_EQ(ReplyText(fields->element[0]), "data");
  EXPECT_EQ(ReplyText(fields->element[2]), "metadata");
  EXPECT_EQ(ReplyText(fields->element[3]), R"({"k":"v","ttlInSeconds":"30"})");

  // An entry as Dapr v1.8 wrote it (data only) arrives too.
  Raw({"XADD", "orders", "*", "data", "old-style"});
  ASSERT_TRUE(inbox.WaitForData("old-style"));
  EXPECT_TRUE(inbox.Last("old-style").message.metadata.empty());
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
}

TEST_F(StreamPubSubTest, GroupIsConsumerIdCreatedAtZeroAndReadsTheRetainedStream) {
  auto ps = NewPubSub({{"consumerID", "billing"}});
  Publish(*ps, "before-subscribe");
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  ASSERT_TRUE(inbox.WaitForData("before-subscribe"));
  Reply groups = Raw({"XINFO", "GROUPS", "orders"});
  ASSERT_EQ(groups->elements, 1u);
  EXPECT_EQ(ReplyText(groups->element[0]->element[1]), "billing");
  Reply consumers = Raw({"XINFO", "CONSUMERS", "orders", "billing"});
  ASSERT_EQ(consumers->elements, 1u);
  EXPECT_EQ(ReplyText(consumers->element[0]->element[1]), "billing");
}

TEST_F(StreamPubSubTest, ConsumerIdDefaultsToTheAppId) {
  auto ps = NewPubSub();
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, "x");
  ASSERT_TRUE(inbox.WaitFor(1));
  Reply groups = Raw({"XINFO", "GROUPS", "orders"});
  ASSERT_EQ(groups->elements, 1u);
  EXPECT_EQ(ReplyText(groups->element[0]->element[1]), "app");
}

TEST_F(StreamPubSubTest, OrderIsKeptWithOneInFlight) {
  auto ps = NewPubSub();
  std::vector<std::string> sent;
  for (int i = 0; i < 30; ++i) {
    sent.push_back("m" + std::to_string(i));
    Publish(*ps, sent.back());
  }
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  ASSERT_TRUE(inbox.WaitFor(sent.size()));
  EXPECT_EQ(inbox.Data(), sent);
}

TEST_F(StreamPubSubTest, MaxInFlightIsRespected) {
  auto ps = NewPubSub();
  for (int i = 0; i < 10; ++i) Publish(*ps, "m" + std::to_string(i));
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 3);
  ASSERT_TRUE(inbox.WaitFor(3));
  // Each ack frees exactly one slot.
  for (size_t acked = 0; acked < 7; ++acked) {
    inbox.AckAt(acked, Outcome::kSuccess);
    ASSERT_TRUE(inbox.WaitFor(acked + 4)) << acked;
  }
  for (size_t i = 7; i < 10; ++i) inbox.AckAt(i, Outcome::kSuccess);
  EXPECT_EQ(inbox.size(), 10u);
  EXPECT_EQ(inbox.max_outstanding(), 3u);
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
}

TEST_F(StreamPubSubTest, SameConsumerIdSharesTheWork) {
  auto ps = NewPubSub();
  Inbox a, b;
  auto sub_a = Subscribe(*ps, a);
  auto sub_b = Subscribe(*ps, b);
  for (int i = 0; i < 6; ++i) Publish(*ps, "m" + std::to_string(i));
  // Each holds one un-acked message, so each must have taken one.
  ASSERT_TRUE(a.WaitFor(1));
  ASSERT_TRUE(b.WaitFor(1));
  EXPECT_NE(a.At(0).message.data, b.At(0).message.data);
  size_t acked_a = 0, acked_b = 0;
  ASSERT_TRUE(Eventually([&] {
    while (acked_a < a.size()) a.AckAt(acked_a++, Outcome::kSuccess);
    while (acked_b < b.size()) b.AckAt(acked_b++, Outcome::kSuccess);
    return acked_a + acked_b == 6;
  }));
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub_a) == 0; }));
  std::multiset<std::string> all;
  for (const auto& d : a.Data()) all.insert(d);
  for (const auto& d : b.Data()) all.insert(d);
  EXPECT_EQ(all, (std::multiset<std::string>{"m0", "m1", "m2", "m3", "m4", "m5"}));
}

// A subscription that starts while a sibling (same component, same consumer)
// is busy first walks the consumer's pending entries: those the sibling acks
// meanwhile must not be handed out again.
TEST_F(StreamPubSubTest, ALateSiblingDoesNotRedeliverWhatTheOtherJustAcked) {
  auto ps = NewPubSub();
  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; ++i) Publish(*ps, "m" + std::to_string(i));
  Inbox a(Outcome::kSuccess), b(Outcome::kSuccess);
  auto sub_a = Subscribe(*ps, a, 8);
  ASSERT_TRUE(a.WaitFor(20));
  auto sub_b = Subscribe(*ps, b, 8);
  ASSERT_TRUE(Eventually([&] { return a.size() + b.size() >= kMessages; }));
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub_a) == 0; }));
  std::multiset<std::string> all;
  for (const auto& d : a.Data()) all.insert(d);
  for (const auto& d : b.Data()) all.insert(d);
  EXPECT_EQ(all.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<size_t>(kMessages));
}

TEST_F(StreamPubSubTest, OverlappingComponentInstancesDoNotDuplicateHeldMessages) {
  // A function's new revision subscribes (same consumerID, new component
  // instance) while the old one still holds a message.
  auto old_ps = NewPubSub();
  Inbox old_inbox;
  auto old_sub = Subscribe(*old_ps, old_inbox);
  Publish(*old_ps, "held");
  ASSERT_TRUE(old_inbox.WaitFor(1));
  auto new_ps = NewPubSub();
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*new_ps, inbox);
  Publish(*new_ps, "next");
  ASSERT_TRUE(inbox.WaitForData("next"));
  EXPECT_EQ(inbox.Data(), std::vector<std::string>{"next"});
  old_inbox.AckAt(0, Outcome::kSuccess);
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
}

TEST_F(StreamPubSubTest, StopsPromptlyWhileTheServerIsDown) {
  auto ps = NewPubSub();
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, "x");
  ASSERT_TRUE(inbox.WaitFor(1));
  broker_.Kill();
  ASSERT_FALSE(sub->Backlog().ok());
  auto start = std::chrono::steady_clock::now();
  sub.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(StreamPubSubTest, DifferentConsumerIdsEachSeeEveryMessage) {
  auto billing = NewPubSub({{"consumerID", "billing"}});
  auto shipping = NewPubSub({{"consumerID", "shipping"}});
  Inbox a(Outcome::kSuccess), b(Outcome::kSuccess);
  auto sub_a = Subscribe(*billing, a, 4);
  auto sub_b = Subscribe(*shipping, b, 4);
  for (int i = 0; i < 5; ++i) Publish(*billing, "m" + std::to_string(i));
  ASSERT_TRUE(a.WaitFor(5));
  ASSERT_TRUE(b.WaitFor(5));
  std::set<std::string> want{"m0", "m1", "m2", "m3", "m4"};
  auto da = a.Data(), db = b.Data();
  EXPECT_EQ(std::set<std::string>(da.begin(), da.end()), want);
  EXPECT_EQ(std::set<std::string>(db.begin(), db.end()), want);
}

TEST_F(StreamPubSubTest, RetryIsRedeliveredAfterProcessingTimeout) {
  auto ps = NewPubSub({{"processingTimeout", "400"}, {"redeliverInterval", "50ms"}});
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, "flaky");
  ASSERT_TRUE(inbox.WaitFor(1));
  const auto first = inbox.At(0).at;
  inbox.AckAt(0, Outcome::kRetry);
  // The free slot takes the next message; the retried one stays pending.
  Publish(*ps, "next");
  ASSERT_TRUE(inbox.WaitForData("next"));
  inbox.AckData("next", Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitForData("flaky", 2));
  EXPECT_GE(inbox.Last("flaky").at - first, 350ms);  // Redis counts idle time from its own delivery
  EXPECT_EQ(inbox.Last("flaky").message.topic, "orders");
  inbox.AckData("flaky", Outcome::kSuccess);
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
}

TEST_F(StreamPubSubTest, SuccessAndDropAreNotRedelivered) {
  auto ps = NewPubSub({{"processingTimeout", "300ms"}, {"redeliverInterval", "50ms"}});
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 5);
  Publish(*ps, "ok");
  Publish(*ps, "drop");
  Publish(*ps, "retry");
  ASSERT_TRUE(inbox.WaitFor(3));
  inbox.AckData("ok", Outcome::kSuccess);
  inbox.AckData("drop", Outcome::kDrop);
  inbox.AckData("retry", Outcome::kRetry);
  // "retry" was delivered last, so once it is back, any still-pending older
  // entry would have been claimed in the same round or before.
  ASSERT_TRUE(inbox.WaitForData("retry", 2));
  EXPECT_EQ(inbox.Count("ok"), 1u);
  EXPECT_EQ(inbox.Count("drop"), 1u);
  inbox.AckData("retry", Outcome::kRetry);
  ASSERT_TRUE(inbox.WaitForData("retry", 3));  // kRetry again: redelivered forever
  EXPECT_EQ(inbox.Count("ok"), 1u);
  EXPECT_EQ(inbox.Count("drop"), 1u);
}

TEST_F(StreamPubSubTest, HeldMessagesAreNotRedeliveredWhileInFlight) {
  auto ps = NewPubSub({{"processingTimeout", "100ms"}, {"redeliverInterval", "20ms"}});
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 2);
  Publish(*ps, "slow");
  ASSERT_TRUE(inbox.WaitFor(1));
  Publish(*ps, "retry");
  ASSERT_TRUE(inbox.WaitForData("retry"));
  inbox.AckData("retry", Outcome::kRetry);
  // "slow" is older and idle longer than "retry", but still held by the host.
  ASSERT_TRUE(inbox.WaitForData("retry", 2));
  EXPECT_EQ(inbox.Count("slow"), 1u);
  inbox.AckData("slow", Outcome::kSuccess);
  inbox.AckData("retry", Outcome::kSuccess);
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
}

TEST_F(StreamPubSubTest, NewSubscriptionGetsWhatTheOldOneLeftUnacked) {
  for (bool new_component : {false, true}) {
    SCOPED_TRACE(new_component ? "new component (ofn restart)" : "same component");
    const std::string topic = new_component ? "t-restart" : "t-resubscribe";
    auto ps = NewPubSub();  // default processingTimeout 60s: only the restart read can bring them back
    auto old_inbox = std::make_unique<Inbox>();
    auto old_sub = Subscribe(*ps, *old_inbox, 5, topic);
    for (const char* d : {"acked", "held", "retried"}) Publish(*ps, d, topic);
    ASSERT_TRUE(old_inbox->WaitFor(3));
    old_inbox->AckData("acked", Outcome::kSuccess);
    old_inbox->AckData("retried", Outcome::kRetry);
    ASSERT_TRUE(Eventually([&] { return Backlog(*old_sub) == 2; }));
    old_sub.reset();

    if (new_component) ps = NewPubSub();
    Inbox inbox(Outcome::kSuccess);
    auto sub = Subscribe(*ps, inbox, 5, topic);
    Publish(*ps, "after", topic);
    ASSERT_TRUE(inbox.WaitForData("after"));
    EXPECT_EQ(inbox.Data(), (std::vector<std::string>{"held", "retried", "after"}));
    // The old subscription's late ack is harmless.
    old_inbox->AckData("held", Outcome::kSuccess);
    EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
  }
}

TEST_F(StreamPubSubTest, SurvivesBrokerRestartWithoutLosingOrRepeating) {
  auto ps = NewPubSub();
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 10);
  for (const char* d : {"acked", "held", "retried"}) Publish(*ps, d);
  ASSERT_TRUE(inbox.WaitFor(3));
  inbox.AckData("acked", Outcome::kSuccess);
  inbox.AckData("retried", Outcome::kRetry);
  ASSERT_TRUE(Eventually([&] { return Backlog(*sub) == 2; }));

  broker_.Kill();
  EXPECT_EQ(ps->Publish({"orders", "lost", {}}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(sub->Backlog().status().code(), StatusCode::kUnavailable);
  inbox.AckData("held", Outcome::kSuccess);  // queued until the server is back
  StartBroker(broker_.port);

  Publish(*ps, "after-restart");
  ASSERT_TRUE(inbox.WaitForData("after-restart"));
  ASSERT_TRUE(inbox.WaitForData("retried", 2));
  inbox.AckData("after-restart", Outcome::kSuccess);
  inbox.AckData("retried", Outcome::kSuccess);
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 0; }));
  EXPECT_EQ(inbox.Count("acked"), 1u);
  EXPECT_EQ(inbox.Count("held"), 1u);
  EXPECT_EQ(inbox.Count("lost"), 0u);
}

TEST_F(StreamPubSubTest, BacklogIsPendingPlusLag) {
  auto ps = NewPubSub();
  for (int i = 0; i < 5; ++i) Publish(*ps, "m" + std::to_string(i));
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 2);
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(Backlog(*sub), 5);  // 2 pending + 3 unread
  inbox.AckAt(0, Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_TRUE(Eventually([&] { return Backlog(*sub) == 4; }));
  // A deleted unread entry makes Redis give up on `lag`; counting takes over.
  Reply unread = Raw({"XRANGE", "orders", "-", "+"});
  ASSERT_EQ(unread->elements, 5u);
  Raw({"XDEL", "orders", ReplyText(unread->element[3]->element[0])});
  EXPECT_EQ(Backlog(*sub), 3);  // 2 pending + 1 unread
  Publish(*ps, "m5");
  EXPECT_EQ(Backlog(*sub), 4);
}

TEST_F(StreamPubSubTest, RecreatesADeletedGroup) {
  auto ps = NewPubSub();
  Inbox inbox(Outcome::kSuccess);
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, "first");
  ASSERT_TRUE(inbox.WaitForData("first"));
  Raw({"XGROUP", "DESTROY", "orders", "app"});
  Publish(*ps, "second");
  ASSERT_TRUE(inbox.WaitForData("second"));
}

TEST_F(StreamPubSubTest, MaxLenApproxTrimsTheStream) {
  auto ps = NewPubSub({{"maxLenApprox", "10"}});
  for (int i = 0; i < 500; ++i) Publish(*ps, "m");
  Reply len = Raw({"XLEN", "orders"});
  EXPECT_LT(len->integer, 500);
}

TEST_F(StreamPubSubTest, BadMetadataIsNamed) {
  auto missing = Create(Spec("pubsub.redis", ""));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("redisHost"), std::string::npos) << missing.status().message();
  for (const char* key : {"processingTimeout", "redeliverInterval", "maxLenApprox", "redisDB", "dialTimeout"}) {
    auto bad = Create(Spec("pubsub.redis", broker_.url, {{key, "soon"}}));
    ASSERT_FALSE(bad.ok()) << key;
    EXPECT_NE(bad.status().message().find(key), std::string::npos) << bad.status().message();
  }
  auto tls = Create(Spec("pubsub.redis", broker_.url, {{"enableTLS", "true"}}));
  EXPECT_FALSE(tls.ok());
  auto no_consumer = Create(Spec("pubsub.redis", broker_.url, {}, ""));
  ASSERT_FALSE(no_consumer.ok());
  EXPECT_NE(no_consumer.status().message().find("consumerID"), std::string::npos);
}

TEST_F(StreamPubSubTest, AckAfterTheSubscriptionIsGoneIsSafe) {
  auto ps = NewPubSub();
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 2);
  Publish(*ps, "a");
  Publish(*ps, "b");
  ASSERT_TRUE(inbox.WaitFor(2));
  sub.reset();
  inbox.AckData("a", Outcome::kRetry);
  inbox.AckData("b", Outcome::kSuccess);  // best effort: acked at the server
  Reply pending = Raw({"XPENDING", "orders", "app"});
  EXPECT_EQ(pending->element[0]->integer, 1);
}

}  // namespace
}  // namespace ofn::components::redis

// pubsub.jetstream against a real `nats-server -js`.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "components/nats/nats.h"
#include "support/brokers.h"
#include "support/process.h"

namespace ofn::components::nats {
namespace {

using std::chrono::milliseconds;
using ofn::testing::Broker;
using ofn::testing::TempDir;
using Clock = std::chrono::steady_clock;

// What a test's handler saw. Each message is either acked at once with the
// outcome `decide` returns, or held (nullopt) until the test acks it.
class Inbox {
 public:
  using Decide = std::function<std::optional<Outcome>(const Message&, int delivery)>;
  static std::optional<Outcome> AckAll(const Message&, int) { return Outcome::kSuccess; }
  static std::optional<Outcome> HoldAll(const Message&, int) { return std::nullopt; }

  explicit Inbox(Decide decide = AckAll) : decide_(std::move(decide)) {}

  MessageHandler handler() {
    return [this](Message message, Ack ack) {
      std::optional<Outcome> outcome;
      {
        std::lock_guard<std::mutex> lock(mu_);
        int delivery = ++deliveries_[message.data];
        received_.push_back(message.data);
        messages_.push_back(message);
        outcome = decide_(message, delivery);
        if (!outcome) held_.emplace_back(message.data, std::move(ack));
      }
      cv_.notify_all();
      if (outcome) ack(*outcome);
    };
  }

  // Waits until `done` (checked under the lock) holds; false after `limit`.
  bool WaitUntil(const std::function<bool()>& done, milliseconds limit = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, done);
  }
  bool WaitForCount(size_t n) {
    return WaitUntil([&] { return received_.size() >= n; });
  }

  void SetDecide(Decide decide) {
    std::lock_guard<std::mutex> lock(mu_);
    decide_ = std::move(decide);
  }
  // Acks every held message with `outcome` (from the test's thread).
  void AckHeld(Outcome outcome) {
    std::vector<std::pair<std::string, Ack>> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
    }
    for (auto& [data, ack] : held) ack(outcome);
  }
  void AckOneHeld(Outcome outcome) {
    Ack ack;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ASSERT_FALSE(held_.empty());
      ack = std::move(held_.front().second);
      held_.erase(held_.begin());
    }
    ack(outcome);
  }

  std::vector<std::string> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::vector<Message> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<std::string> held() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [data, ack] : held_) out.push_back(data);
    return out;
  }
  int deliveries(const std::string& data) {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_[data];
  }
  std::mutex& mu() { return mu_; }
  size_t received_locked() const { return received_.size(); }
  std::set<std::string> distinct_locked() const { return {received_.begin(), received_.end()}; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Decide decide_;
  std::vector<std::string> received_;
  std::vector<Message> messages_;
  std::map<std::string, int> deliveries_;
  std::vector<std::pair<std::string, Ack>> held_;
};

// Polls `done` until it holds or `limit` passes.
bool Eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(10000)) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Register(registry_);
    auto broker = ofn::testing::StartNats(dir_.Sub("nats"));
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }

  Result<std::shared_ptr<PubSub>> Create(std::initializer_list<std::pair<const char*, std::string>> metadata = {}) {
    ComponentSpec spec;
    spec.name = "events";
    spec.type = "pubsub.jetstream";
    spec.app_id = "app";
    spec.metadata.Set("natsURL", broker_.url);
    for (const auto& [k, v] : metadata) spec.metadata.Set(k, v);
    auto component = registry_.Create(spec);
    if (!component.ok()) return component.status();
    return component->pubsub;
  }
  std::shared_ptr<PubSub> MustCreate(std::initializer_list<std::pair<const char*, std::string>> metadata = {}) {
    auto pubsub = Create(metadata);
    EXPECT_TRUE(pubsub.ok()) << pubsub.status().ToString();
    return pubsub.ok() ? *pubsub : nullptr;
  }
  static void MustPublish(PubSub& pubsub, const std::string& topic, const std::string& data,
                          std::map<std::string, std::string> metadata = {}) {
    Status s = pubsub.Publish(PublishRequest{topic, data, std::move(metadata)});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static std::unique_ptr<Subscription> MustSubscribe(PubSub& pubsub, const std::string& topic, Inbox& inbox,
                                                     size_t max_in_flight,
                                                     std::map<std::string, std::string> metadata = {}) {
    auto sub = pubsub.Subscribe(SubscribeRequest{topic, std::move(metadata), max_in_flight}, inbox.handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(*sub) : nullptr;
  }
  static bool BacklogIs(Subscription& sub, int64_t n) {
    return Eventually([&] {
      auto b = sub.Backlog();
      return b.ok() && *b == n;
    });
  }

  // Creates a stream directly, as an operator would with `nats stream add`.
  void AddStream(const char* name, const char* subject) {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, broker_.url.c_str()), NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name;
    const char* subjects[] = {subject};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    EXPECT_EQ(js_AddStream(nullptr, js, &config, nullptr, nullptr), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }

  TempDir dir_{"ofn-jetstream"};
  Broker broker_;
  Registry registry_;
};

TEST_F(JetStreamTest, RoundTripKeepsStreamOrderAndCarriesHeaders) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back("m" + std::to_string(i));
    MustPublish(*pubsub, "orders.new", sent.back(), {{"cloudevent.id", "id-" + std::to_string(i)}, {"trace", "t1"}});
  }
  Inbox inbox;
  auto sub = MustSubscribe(*pubsub, "orders.new", inbox, 1);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(inbox.WaitForCount(10));
  EXPECT_EQ(inbox.received(), sent);
  Message first = inbox.messages().front();
  EXPECT_EQ(first.topic, "orders.new");
  EXPECT_EQ(first.metadata["Topic"], "orders.new");
  EXPECT_EQ(first.metadata["trace"], "t1");
  EXPECT_EQ(first.metadata["Nats-Msg-Id"], "id-0");
  EXPECT_TRUE(BacklogIs(*sub, 0));

  // The stream Ofn created is named after the topic, so it can be named too.
  auto named = MustCreate({{"streamName", "orders_new"}, {"durableName", "other"}});
  ASSERT_TRUE(named);
  Inbox again;
  auto sub2 = MustSubscribe(*named, "orders.new", again, 4);
  ASSERT_TRUE(sub2);
  ASSERT_TRUE(again.WaitForCount(10));
}

TEST_F(JetStreamTest, SameCloudEventIdIsStoredOnce) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  MustPublish(*pubsub, "dedup", "a", {{"cloudevent.id", "x"}});
  MustPublish(*pubsub, "dedup", "a-again", {{"cloudevent.id", "x"}});
  MustPublish(*pubsub, "dedup", "b", {{"id", "y"}});
  Inbox inbox;
  auto sub = MustSubscribe(*pubsub, "dedup", inbox, 1);
  ASSERT_TRUE(inbox.WaitUntil([&] { return inbox.distinct_locked().count("b") > 0; }));
  EXPECT_EQ(inbox.received(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(JetStreamTest, DurableConsumerResumesWhereItLeftOff) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  for (int i = 1; i <= 5; ++i) MustPublish(*pubsub, "jobs", "j" + std::to_string(i));
  Inbox first([](const Message& m, int) -> std::optional<Outcome> {
    if (m.data == "j1" || m.data == "j2") return Outcome::kSuccess;
    return std::nullopt;
  });
  auto sub = MustSubscribe(*pubsub, "jobs", first, 5);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(first.WaitForCount(5));
  ASSERT_TRUE(BacklogIs(*sub, 3));  // the two acks arrived; three held
  sub.reset();

  Inbox second;
  auto resumed = MustSubscribe(*pubsub, "jobs", second, 5);
  ASSERT_TRUE(resumed);
  // The held messages are given back by Acks called after their Subscription
  // is gone (a NAK: redelivered at once instead of after ackWait).
  first.AckHeld(Outcome::kRetry);
  ASSERT_TRUE(second.WaitForCount(3));
  ASSERT_TRUE(BacklogIs(*resumed, 0));
  std::vector<std::string> got = second.received();
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), (std::set<std::string>{"j3", "j4", "j5"}));
  EXPECT_EQ(got.size(), 3u);  // j1 and j2 were acked: never again
}

TEST_F(JetStreamTest, RetryIsRedeliveredAndDropIsNot) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  for (const char* d : {"retry-me", "drop-me", "ok"}) MustPublish(*pubsub, "work", d);
  Inbox inbox([](const Message& m, int delivery) -> std::optional<Outcome> {
    if (m.data == "retry-me" && delivery == 1) return Outcome::kRetry;
    if (m.data == "drop-me") return Outcome::kDrop;
    return Outcome::kSuccess;
  });
  auto sub = MustSubscribe(*pubsub, "work", inbox, 1);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(inbox.WaitUntil([&] { return inbox.received_locked() >= 4; }));
  // Nothing left pending or unacked: the dropped message cannot come back.
  ASSERT_TRUE(BacklogIs(*sub, 0));
  EXPECT_EQ(inbox.deliveries("retry-me"), 2);
  EXPECT_EQ(inbox.deliveries("drop-me"), 1);
  EXPECT_EQ(inbox.deliveries("ok"), 1);
}

TEST_F(JetStreamTest, RetryWaitsAckWaitBeforeRedelivery) {
  auto pubsub = MustCreate({{"ackWait", "1s"}});
  ASSERT_TRUE(pubsub);
  MustPublish(*pubsub, "slow", "again");
  std::vector<Clock::time_point> at;
  Inbox inbox([&](const Message&, int delivery) -> std::optional<Outcome> {
    at.push_back(Clock::now());
    return delivery == 1 ? Outcome::kRetry : Outcome::kSuccess;
  });
  auto sub = MustSubscribe(*pubsub, "slow", inbox, 1);
  ASSERT_TRUE(inbox.WaitForCount(2));
  std::lock_guard<std::mutex> lock(inbox.mu());
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1] - at[0], milliseconds(900));
}

TEST_F(JetStreamTest, MaxInFlightBoundsUnackedMessagesAndBacklogCountsThem) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  for (int i = 0; i < 12; ++i) MustPublish(*pubsub, "bounded", "b" + std::to_string(i));
  Inbox inbox(Inbox::HoldAll);
  auto sub = MustSubscribe(*pubsub, "bounded", inbox, 3);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(inbox.WaitForCount(3));
  // A fourth must not come while three are unacked (bounded wait for it).
  EXPECT_FALSE(inbox.WaitUntil([&] { return inbox.received_locked() > 3; }, milliseconds(500)));
  EXPECT_TRUE(BacklogIs(*sub, 12));  // 9 not yet read + 3 unacked

  inbox.AckOneHeld(Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitForCount(4));
  EXPECT_EQ(inbox.held().size(), 3u);
  EXPECT_TRUE(BacklogIs(*sub, 11));

  inbox.SetDecide(Inbox::AckAll);
  inbox.AckHeld(Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitForCount(12));
  EXPECT_TRUE(BacklogIs(*sub, 0));
  std::lock_guard<std::mutex> lock(inbox.mu());
  EXPECT_EQ(inbox.distinct_locked().size(), 12u);
}

TEST_F(JetStreamTest, BacklogDrainsInBatchesUpToMaxInFlight) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  constexpr int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i) MustPublish(*pubsub, "backlog", "q" + std::to_string(i));
  Inbox inbox;
  auto start = Clock::now();
  auto sub = MustSubscribe(*pubsub, "backlog", inbox, 64);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(inbox.WaitForCount(kMessages));
  // One pull request costs about 1 ms, so reading one message per request
  // needs 2 s or more for this backlog.
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_LT(took, milliseconds(1500)) << kMessages << " messages took " << took.count() << " ms";
  EXPECT_TRUE(BacklogIs(*sub, 0));
  std::lock_guard<std::mutex> lock(inbox.mu());
  EXPECT_EQ(inbox.distinct_locked().size(), static_cast<size_t>(kMessages));
}

TEST_F(JetStreamTest, SubscriptionsOfOneQueueGroupShareTheWork) {
  auto pubsub = MustCreate({{"queueGroupName", "workers"}});
  ASSERT_TRUE(pubsub);
  for (int i = 0; i < 8; ++i) MustPublish(*pubsub, "shared", "s" + std::to_string(i));
  Inbox a(Inbox::HoldAll), b(Inbox::HoldAll);
  auto sub_a = MustSubscribe(*pubsub, "shared", a, 1);
  auto sub_b = MustSubscribe(*pubsub, "shared", b, 1);
  ASSERT_TRUE(sub_a && sub_b);
  // Each holds one message unacked, so both must have got one, different ones.
  ASSERT_TRUE(a.WaitForCount(1));
  ASSERT_TRUE(b.WaitForCount(1));
  EXPECT_NE(a.held(), b.held());

  a.SetDecide(Inbox::AckAll);
  b.SetDecide(Inbox::AckAll);
  a.AckHeld(Outcome::kSuccess);
  b.AckHeld(Outcome::kSuccess);
  ASSERT_TRUE(Eventually([&] { return a.received().size() + b.received().size() >= 8; }));
  ASSERT_TRUE(BacklogIs(*sub_a, 0));
  std::multiset<std::string> all;
  for (auto& d : a.received()) all.insert(d);
  for (auto& d : b.received()) all.insert(d);
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 8u);  // each message once
}

TEST_F(JetStreamTest, ServerRestartLosesNothingAndDeliveryResumes) {
  auto pubsub = MustCreate();
  ASSERT_TRUE(pubsub);
  Inbox inbox;
  auto sub = MustSubscribe(*pubsub, "durable", inbox, 1);
  ASSERT_TRUE(sub);
  std::set<std::string> sent;
  for (int i = 0; i < 5; ++i) {
    sent.insert("before" + std::to_string(i));
    MustPublish(*pubsub, "durable", "before" + std::to_string(i));
  }
  ASSERT_TRUE(inbox.WaitForCount(5));
  // Stored by JetStream, read by nobody yet when the server dies.
  for (const char* d : {"stored0", "stored1"}) MustPublish(*pubsub, "unread", d);

  int port = broker_.port;
  broker_.Kill();
  auto restarted = ofn::testing::StartNats(dir_.Sub("nats"), port);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  broker_ = std::move(*restarted);

  for (int i = 0; i < 5; ++i) {
    std::string data = "after" + std::to_string(i);
    sent.insert(data);
    // Publishing fails fast until libnats has reconnected.
    ASSERT_TRUE(Eventually([&] { return pubsub->Publish(PublishRequest{"durable", data, {}}).ok(); }));
  }
  ASSERT_TRUE(inbox.WaitUntil([&] { return inbox.distinct_locked() == sent; }, milliseconds(20000)));
  Inbox late;
  auto late_sub = MustSubscribe(*pubsub, "unread", late, 2);
  ASSERT_TRUE(late.WaitForCount(2));
  std::vector<std::string> stored = late.received();
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), (std::set<std::string>{"stored0", "stored1"}));

  // With the server gone for good, stopping still returns promptly.
  broker_.Kill();
  auto start = Clock::now();
  sub.reset();
  late_sub.reset();
  pubsub.reset();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST_F(JetStreamTest, GivenStreamIsUsedAndOneDurableCannotServeTwoSubjects) {
  AddStream("ORDERS", "orders.*");
  auto pubsub = MustCreate({{"streamName", "ORDERS"}, {"durableName", "billing"}});
  ASSERT_TRUE(pubsub);
  MustPublish(*pubsub, "orders.a", "a1");
  Inbox inbox;
  auto sub = MustSubscribe(*pubsub, "orders.a", inbox, 1);
  ASSERT_TRUE(inbox.WaitForCount(1));

  Inbox other;
  auto clash = pubsub->Subscribe(SubscribeRequest{"orders.b", {}, 1}, other.handler());
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(clash.status().message().find("billing"), std::string::npos) << clash.status().message();
  // A subscription's own metadata may name another durable.
  auto own = MustSubscribe(*pubsub, "orders.b", other, 1, {{"durableName", "shipping"}});
  EXPECT_TRUE(own);
}

TEST_F(JetStreamTest, MissingNatsUrlIsInvalidArgument) {
  ComponentSpec spec;
  spec.name = "events";
  spec.type = "pubsub.jetstream";
  auto component = registry_.Create(spec);
  ASSERT_FALSE(component.ok());
  EXPECT_EQ(component.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(component.status().message().find("natsURL"), std::string::npos) << component.status().message();
}

TEST_F(JetStreamTest, UnreachableServerIsUnavailable) {
  ComponentSpec spec;
  spec.name = "events";
  spec.type = "pubsub.jetstream";
  std::string url = "nats://127.0.0.1:" + std::to_string(ofn::testing::FreePort());
  spec.metadata.Set("natsURL", url);
  auto component = registry_.Create(spec);
  ASSERT_FALSE(component.ok());
  EXPECT_EQ(component.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(component.status().message().find(url), std::string::npos) << component.status().message();
}

TEST_F(JetStreamTest, GivenStreamNameThatDoesNotExistIsNotFound) {
  auto pubsub = MustCreate({{"streamName", "NOPE"}});
  ASSERT_TRUE(pubsub);
  Status published = pubsub->Publish(PublishRequest{"t", "x", {}});
  EXPECT_EQ(published.code(), StatusCode::kNotFound);
  EXPECT_NE(published.message().find("streamName"), std::string::npos) << published.ToString();
  EXPECT_NE(published.message().find("NOPE"), std::string::npos) << published.ToString();
  Inbox inbox;
  auto sub = pubsub->Subscribe(SubscribeRequest{"t", {}, 1}, inbox.handler());
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sub.status().message().find("NOPE"), std::string::npos);
}

}  // namespace
}  // namespace ofn::components::nats

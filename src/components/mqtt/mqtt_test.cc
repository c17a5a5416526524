// Integration tests against a real mosquitto (tests/support/brokers.h).
#include "components/mqtt/mqtt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "support/brokers.h"
#include "support/process.h"

namespace ofn::components::mqtt {
namespace {

using namespace std::chrono_literals;
using ofn::testing::After;
using ofn::testing::Broker;
using ofn::testing::TempDir;

struct Delivery {
  Message message;
  Ack ack;
};

// Records what a subscription hands out. With auto_ack every message is
// acked kSuccess at once; otherwise the test answers through ack(i).
class Collector {
 public:
  explicit Collector(bool auto_ack) : auto_ack_(auto_ack) {}

  MessageHandler Handler() {
    return [this](Message m, Ack a) {
      if (auto_ack_) a(Outcome::kSuccess);
      std::lock_guard lock(mu_);
      got_.push_back({std::move(m), auto_ack_ ? Ack() : std::move(a)});
      ++outstanding_;
      if (auto_ack_) --outstanding_;
      max_outstanding_ = std::max(max_outstanding_, outstanding_);
      cv_.notify_all();
    };
  }

  // True once at least n messages arrived (deadline 10 s).
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  // True if some message with this payload arrived (deadline `timeout`).
  bool WaitForData(const std::string& data, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return std::any_of(got_.begin(), got_.end(), [&](const Delivery& d) { return d.message.data == data; });
    });
  }

  void ack(size_t i, Outcome outcome) {
    Ack a;
    {
      std::lock_guard lock(mu_);
      a = std::move(got_.at(i).ack);
      --outstanding_;
    }
    a(outcome);
  }

  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  Message message(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).message;
  }
  std::vector<std::string> data() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& d : got_) out.push_back(d.message.data);
    return out;
  }
  int max_outstanding() {
    std::lock_guard lock(mu_);
    return max_outstanding_;
  }

 private:
  const bool auto_ack_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> got_;
  int outstanding_ = 0;
  int max_outstanding_ = 0;
};

class MqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Register(registry_);
    auto broker = ofn::testing::StartMosquitto(dir_.Sub("broker"));
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }

  ComponentSpec Spec(std::string type, std::map<std::string, std::string> metadata) {
    ComponentSpec spec;
    spec.name = "mq";
    spec.type = std::move(type);
    spec.app_id = "app";
    spec.metadata.Set("url", broker_.url);
    for (auto& [k, v] : metadata) spec.metadata.Set(k, v);
    return spec;
  }

  std::shared_ptr<PubSub> MakePubSub(std::map<std::string, std::string> metadata = {}) {
    auto c = registry_.Create(Spec("pubsub.mqtt3", std::move(metadata)));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->pubsub : nullptr;
  }

  std::unique_ptr<Subscription> Subscribe(PubSub& pubsub, const std::string& topic, Collector& collector,
                                          size_t max_in_flight = 1) {
    SubscribeRequest request;
    request.topic = topic;
    request.max_in_flight = max_in_flight;
    auto sub = pubsub.Subscribe(request, collector.Handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(*sub) : nullptr;
  }

  static void Publish(PubSub& pubsub, const std::string& topic, const std::string& data,
                      std::map<std::string, std::string> metadata = {}) {
    PublishRequest request{topic, data, std::move(metadata)};
    Status s = pubsub.Publish(request);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir dir_{"ofn-mqtt"};
  Registry registry_;
  Broker broker_;
};

TEST_F(MqttTest, PubSubRoundTripWithWildcard) {
  auto pubsub = MakePubSub();
  ASSERT_TRUE(pubsub);
  Collector got(true);
  auto sub = Subscribe(*pubsub, "sensors/+/temp", got);
  ASSERT_TRUE(sub);

  Publish(*pubsub, "sensors/a/humidity", "60");  // does not match: must not arrive
  Publish(*pubsub, "sensors/a/temp", "21");
  Publish(*pubsub, "sensors/b/temp", "22");
  ASSERT_TRUE(got.WaitFor(2));
  EXPECT_EQ(got.data(), (std::vector<std::string>{"21", "22"}));
  Message first = got.message(0);
  EXPECT_EQ(first.topic, "sensors/a/temp");
  EXPECT_EQ(first.metadata["topic"], "sensors/a/temp");
  EXPECT_EQ(first.metadata["retained"], "false");
  auto backlog = sub->Backlog();
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(*backlog, 0);
}

TEST_F(MqttTest, PublishRejectsWildcardTopicsAndBadRetain) {
  auto pubsub = MakePubSub();
  ASSERT_TRUE(pubsub);
  EXPECT_EQ(pubsub->Publish({"a/+", "x", {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pubsub->Publish({"", "x", {}}).code(), StatusCode::kInvalidArgument);
  Status bad = pubsub->Publish({"a", "x", {{"retain", "perhaps"}}});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("retain"), std::string::npos) << bad.ToString();
}

TEST_F(MqttTest, BindingOutputToInputRoundTripWithTopicMetadata) {
  auto out = registry_.Create(Spec("bindings.mqtt", {{"topic", "orders/in"}, {"consumerID", "writer"}}));
  auto in = registry_.Create(Spec("bindings.mqtt3", {{"topic", "orders/#"}, {"consumerID", "reader"}}));
  ASSERT_TRUE(out.ok() && in.ok()) << out.status().ToString() << in.status().ToString();
  Collector got(true);
  auto sub = in->input->Read(ReadRequest{}, got.Handler());
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  EXPECT_EQ(in->input->Read(ReadRequest{}, got.Handler()).status().code(), StatusCode::kFailedPrecondition);

  auto plain = out->output->Invoke({"create", "to-default", {}});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->has_value());  // Dapr answers 204
  auto routed = out->output->Invoke({"create", "to-eu", {{"topic", "orders/eu"}}});
  ASSERT_TRUE(routed.ok()) << routed.status().ToString();
  EXPECT_EQ(out->output->Invoke({"delete", "", {}}).status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(got.WaitFor(2));
  EXPECT_EQ(got.message(0).data, "to-default");
  EXPECT_EQ(got.message(0).metadata["topic"], "orders/in");
  EXPECT_EQ(got.message(1).data, "to-eu");
  EXPECT_EQ(got.message(1).metadata["topic"], "orders/eu");
  EXPECT_EQ(got.message(1).metadata.count("retained"), 0u);

  sub->reset();  // the binding may be read again once the first reader is gone
  auto again = in->input->Read(ReadRequest{}, got.Handler());
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(MqttTest, RetainFromComponentAndPerPublishMetadata) {
  auto pubsub = MakePubSub({{"retain", "true"}});
  ASSERT_TRUE(pubsub);
  Publish(*pubsub, "r/kept", "kept");                       // component default: retained
  Publish(*pubsub, "r/not", "not", {{"retain", "false"}});  // per-publish override
  Collector got(true);
  auto sub = Subscribe(*pubsub, "r/#", got);
  ASSERT_TRUE(sub);
  Publish(*pubsub, "r/live", "live", {{"retain", "false"}});
  // Retained messages come with the SUBACK, before anything published later.
  ASSERT_TRUE(got.WaitForData("live", 10s));
  EXPECT_EQ(got.data(), (std::vector<std::string>{"kept", "live"}));
  EXPECT_EQ(got.message(0).metadata["retained"], "true");
  EXPECT_EQ(got.message(1).metadata["retained"], "false");
}

TEST_F(MqttTest, PersistentSessionGetsWhatWasPublishedWhileAway) {
  auto pubsub = MakePubSub({{"consumerID", "durable"}});
  ASSERT_TRUE(pubsub);
  Collector first(true);
  Subscribe(*pubsub, "jobs", first).reset();  // creates the session, then leaves
  for (int i = 0; i < 5; ++i) Publish(*pubsub, "jobs", "job" + std::to_string(i));

  Collector got(true);
  auto sub = Subscribe(*pubsub, "jobs", got);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(got.WaitFor(5));
  EXPECT_EQ(got.data(), (std::vector<std::string>{"job0", "job1", "job2", "job3", "job4"}));
  EXPECT_EQ(first.size(), 0u);
}

TEST_F(MqttTest, CleanSessionDoesNotGetWhatWasPublishedWhileAway) {
  auto pubsub = MakePubSub({{"consumerID", "fleeting"}, {"cleanSession", "true"}});
  ASSERT_TRUE(pubsub);
  Collector first(true);
  Subscribe(*pubsub, "jobs", first).reset();
  for (int i = 0; i < 5; ++i) Publish(*pubsub, "jobs", "job" + std::to_string(i));

  Collector got(true);
  auto sub = Subscribe(*pubsub, "jobs", got);
  ASSERT_TRUE(sub);
  Publish(*pubsub, "jobs", "marker");
  ASSERT_TRUE(got.WaitForData("marker", 10s));
  EXPECT_EQ(got.data(), std::vector<std::string>{"marker"});
}

TEST_F(MqttTest, ReconnectsAndResubscribesAfterBrokerRestart) {
  auto pubsub = MakePubSub({{"consumerID", "survivor"}});
  ASSERT_TRUE(pubsub);
  Collector got(true);
  auto sub = Subscribe(*pubsub, "live", got);
  ASSERT_TRUE(sub);
  Publish(*pubsub, "live", "before");
  ASSERT_TRUE(got.WaitForData("before", 10s));

  // SIGKILL: mosquitto saves sessions only on a clean shutdown, so the
  // restarted broker knows nothing of this subscriber; only a resubscribe
  // after the reconnect brings messages again.
  int port = broker_.port;
  broker_.Kill();
  auto restarted = ofn::testing::StartMosquitto(dir_.Sub("broker"), port);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  broker_ = std::move(*restarted);

  // Publishes before the resubscribe are lost (no subscriber), so probe
  // until one arrives.
  bool arrived = false;
  for (int i = 0; i < 60 && !arrived; ++i) {
    std::string probe = "after" + std::to_string(i);
    Publish(*pubsub, "live", probe);
    arrived = got.WaitForData(probe, 250ms);
  }
  EXPECT_TRUE(arrived) << "no message after the broker restart";
}

TEST_F(MqttTest, PublishWaitsWhileTheBrokerIsDown) {
  auto pubsub = MakePubSub();
  ASSERT_TRUE(pubsub);
  Publish(*pubsub, "up", "first");  // the producer connection is up
  int port = broker_.port;
  broker_.Kill();
  auto pending = std::async(std::launch::async, [&] { return pubsub->Publish({"up", "during", {}}); });
  EXPECT_EQ(pending.wait_for(300ms), std::future_status::timeout) << "publish returned with the broker down";
  auto restarted = ofn::testing::StartMosquitto(dir_.Sub("broker"), port);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  broker_ = std::move(*restarted);
  Status s = pending.get();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(MqttTest, RetryHandsTheMessageOutAgainBeforeTheNextOne) {
  auto pubsub = MakePubSub();
  ASSERT_TRUE(pubsub);
  Collector got(false);
  auto sub = Subscribe(*pubsub, "work", got, 1);
  ASSERT_TRUE(sub);
  Publish(*pubsub, "work", "a");
  Publish(*pubsub, "work", "b");
  ASSERT_TRUE(got.WaitFor(1));
  got.ack(0, Outcome::kRetry);
  ASSERT_TRUE(got.WaitFor(2));
  EXPECT_EQ(got.message(1).data, "a");
  got.ack(1, Outcome::kSuccess);
  ASSERT_TRUE(got.WaitFor(3));
  EXPECT_EQ(got.message(2).data, "b");
  got.ack(2, Outcome::kDrop);
  EXPECT_EQ(got.data(), (std::vector<std::string>{"a", "a", "b"}));
}

TEST_F(MqttTest, MaxInFlightBoundsWhatIsReadAndTheRestStaysAtTheBroker) {
  auto pubsub = MakePubSub({{"consumerID", "bounded"}});
  ASSERT_TRUE(pubsub);
  {
    Collector got(false);
    auto sub = Subscribe(*pubsub, "batch", got, 2);
    ASSERT_TRUE(sub);
    for (int i = 0; i < 6; ++i) Publish(*pubsub, "batch", "m" + std::to_string(i));
    ASSERT_TRUE(got.WaitFor(2));
    // Reading is paused: nothing more is handed out or even read.
    EXPECT_FALSE(got.WaitFor(3, 300ms));
    EXPECT_EQ(*sub->Backlog(), 2);
    got.ack(0, Outcome::kSuccess);
    ASSERT_TRUE(got.WaitFor(3));
    EXPECT_EQ(got.message(2).data, "m2");
    EXPECT_EQ(got.max_outstanding(), 2);
    // m1 and m2 are handed out and unacked; m3..m5 were never read.
    sub.reset();
    got.ack(1, Outcome::kSuccess);  // after the subscription ended: a no-op
  }
  Collector rest(true);
  auto sub = Subscribe(*pubsub, "batch", rest, 2);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(rest.WaitFor(3));
  EXPECT_EQ(rest.data(), (std::vector<std::string>{"m3", "m4", "m5"}));
}

TEST_F(MqttTest, ResumedSessionWithMoreQueuedThanMaxInFlightDeliversAllInOrder) {
  auto pubsub = MakePubSub({{"consumerID", "resumer"}});
  ASSERT_TRUE(pubsub);
  Collector first(true);
  Subscribe(*pubsub, "queued", first, 2).reset();  // creates the session, then leaves
  constexpr size_t kCount = 200;
  std::vector<std::string> sent;
  for (size_t i = 0; i < kCount; ++i) {
    sent.push_back("q" + std::to_string(i));
    Publish(*pubsub, "queued", sent.back());
  }

  // Nothing is acked before Subscribe returns (as when the function only
  // gets messages once its subscription is up), while mosquitto sends the
  // queued messages ahead of the SUBACK: the subscribe must still complete.
  Collector got(false);
  auto sub = Subscribe(*pubsub, "queued", got, 2);
  ASSERT_TRUE(sub);
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(got.WaitFor(i + 1)) << "only " << i << " of " << kCount << " messages arrived";
    got.ack(i, Outcome::kSuccess);
  }
  EXPECT_EQ(got.data(), sent);
  EXPECT_LE(got.max_outstanding(), 2);
  EXPECT_EQ(first.size(), 0u);
}

TEST_F(MqttTest, SubscribeToAnUnreachableBrokerFails) {
  ComponentSpec spec = Spec("pubsub.mqtt3", {});
  int port = broker_.port;
  broker_.Kill();
  spec.metadata.Set("url", "tcp://127.0.0.1:" + std::to_string(port));
  auto c = registry_.Create(spec);
  ASSERT_TRUE(c.ok());
  Collector got(true);
  SubscribeRequest request;
  request.topic = "t";
  auto sub = c->pubsub->Subscribe(request, got.Handler());
  EXPECT_EQ(sub.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(sub.status().message().find("pubsub.mqtt3 component mq"), std::string::npos) << sub.status().ToString();
}

}  // namespace
}  // namespace ofn::components::mqtt

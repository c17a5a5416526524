// Tests of pubsub.kafka and bindings.kafka against librdkafka's built-in mock
// cluster (rdkafka_mock.h): an in-process broker that speaks the Kafka
// protocol, including consumer groups and offset commits. It is NOT a real
// Kafka: no broker package exists on this machine. Its group coordinator
// waits 3 s before the first join of a group (counted against the member's
// session) and session.timeout - 1 s on a rebalance, hence sessionTimeout 4s:
// shorter than Dapr's 10 s default, longer than that first wait.
#include "components/kafka/kafka.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace ofn::components::kafka {
namespace {

using namespace std::chrono_literals;

// Records what a subscription hands out; keeps the Acks for the test to answer.
class Inbox {
 public:
  struct Got {
    Message message;
    Ack ack;
  };

  MessageHandler Handler() {
    return [this](Message m, Ack ack) {
      std::lock_guard lock(mu_);
      max_outstanding_ = std::max(max_outstanding_, ++outstanding_);
      got_.push_back({std::move(m), [this, ack = std::move(ack)](Outcome o) {
                        {
                          std::lock_guard lock(mu_);
                          --outstanding_;
                        }
                        ack(o);
                      }});
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds within = 15s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, within, [&] { return got_.size() >= n; });
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  // The i-th message handed out (a copy).
  Message At(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).message;
  }
  void Answer(size_t i, Outcome o) {
    Ack ack;
    {
      std::lock_guard lock(mu_);
      ack = std::move(got_.at(i).ack);
    }
    ack(o);
  }
  size_t max_outstanding() {
    std::lock_guard lock(mu_);
    return max_outstanding_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Got> got_;
  size_t outstanding_ = 0, max_outstanding_ = 0;
};

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds within = 10s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);  // polling a predicate against a deadline
  }
  return true;
}

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Register(registry_);
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);  // the helper has no bootstrap servers
    helper_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ASSERT_NE(helper_, nullptr) << err;
    cluster_ = rd_kafka_mock_cluster_new(helper_, 1);
    ASSERT_NE(cluster_, nullptr);
    brokers_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  void TearDown() override {
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (helper_) rd_kafka_destroy(helper_);
  }

  void CreateTopic(const std::string& name, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // A component with the keys every test needs, plus `extra` (which wins).
  ComponentSpec Spec(const std::string& type, const std::map<std::string, std::string>& extra) {
    ComponentSpec spec;
    spec.name = "kafka";
    spec.type = type;
    spec.version = "v1";
    spec.app_id = "app";
    for (const auto& [k, v] : std::map<std::string, std::string>{{"brokers", brokers_},
                                                                 {"authType", "none"},
                                                                 {"initialOffset", "oldest"},
                                                                 {"sessionTimeout", "4s"},
                                                                 {"heartbeatInterval", "300ms"}}) {
      spec.metadata.Set(k, v);
    }
    for (const auto& [k, v] : extra) spec.metadata.Set(k, v);
    return spec;
  }
  Component Create(const std::string& type, const std::map<std::string, std::string>& extra) {
    auto c = registry_.Create(Spec(type, extra));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Component{};
  }
  std::shared_ptr<PubSub> MakePubSub(const std::string& group) {
    return Create("pubsub.kafka", {{"consumerGroup", group}}).pubsub;
  }
  std::unique_ptr<Subscription> Subscribe(PubSub& ps, const std::string& topic, Inbox& inbox, size_t max_in_flight) {
    auto sub = ps.Subscribe({topic, {}, max_in_flight}, inbox.Handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(*sub) : nullptr;
  }
  static void Publish(PubSub& ps, const std::string& topic, const std::string& data,
                      std::map<std::string, std::string> md = {}) {
    Status s = ps.Publish({topic, data, std::move(md)});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static bool BacklogIs(Subscription& sub, int64_t want) {
    return Eventually([&] {
      auto b = sub.Backlog();
      return b.ok() && *b == want;
    });
  }

  Registry registry_;
  rd_kafka_t* helper_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string brokers_;
};

TEST_F(KafkaTest, PubSubRoundTripCarriesKeyHeadersAndSurvivesABrokerOutage) {
  CreateTopic("orders", 1);
  auto ps = MakePubSub("g-roundtrip");
  ASSERT_TRUE(ps);
  const auto before = std::chrono::system_clock::now();
  Publish(*ps, "orders", "{\"id\":1}", {{"partitionKey", "customer-7"}, {"traceparent", "00-abc-01"}});
  Publish(*ps, "orders", "second", {{"__key", "k2"}});
  Inbox inbox;
  auto sub = Subscribe(*ps, "orders", inbox, 10);
  ASSERT_TRUE(inbox.WaitFor(2));
  Message m = inbox.At(0);
  EXPECT_EQ(m.topic, "orders");
  EXPECT_EQ(m.data, "{\"id\":1}");
  EXPECT_EQ(m.metadata["__key"], "customer-7");
  EXPECT_EQ(m.metadata["traceparent"], "00-abc-01");
  EXPECT_EQ(m.metadata.count("partitionKey"), 0u);
  EXPECT_EQ(m.metadata["__topic"], "orders");
  EXPECT_EQ(m.metadata["__partition"], "0");
  EXPECT_EQ(m.metadata["__offset"], "0");
  const int64_t ts = std::stoll(m.metadata["__timestamp"]);
  const int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count();
  EXPECT_GE(ts, before_ms - 1000);
  EXPECT_LE(ts, before_ms + 60000);
  Message second = inbox.At(1);
  EXPECT_EQ(second.data, "second");
  EXPECT_EQ(second.metadata["__key"], "k2");
  EXPECT_EQ(second.metadata["__offset"], "1");
  inbox.Answer(0, Outcome::kSuccess);
  inbox.Answer(1, Outcome::kSuccess);

  // While the broker is down a publish waits; once it is back, both sides carry on.
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto during = std::async(std::launch::async, [&] { return ps->Publish({"orders", "during", {}}); });
  EXPECT_EQ(during.wait_for(500ms), std::future_status::timeout) << "published with the broker down";
  ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(during.wait_for(15s), std::future_status::ready);
  EXPECT_TRUE(during.get().ok());
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.At(2).data, "during");
  EXPECT_EQ(inbox.At(2).metadata["__offset"], "2");

  // Acked while the broker is down again: the final commit and the group
  // leave cannot be sent. The destructor gives up on them after its 2 s close
  // deadline; librdkafka's teardown then waits at most about sessionTimeout.
  ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  inbox.Answer(2, Outcome::kSuccess);
  const auto start = std::chrono::steady_clock::now();
  sub.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(KafkaTest, BindingOutputFeedsBindingInput) {
  CreateTopic("events", 2);
  Component c =
      Create("bindings.kafka", {{"topics", "events"}, {"publishTopic", "events"}, {"consumerGroup", "g-binding"}});
  ASSERT_TRUE(c.input && c.output);
  EXPECT_EQ(c.output->Operations(), std::vector<std::string>{"create"});
  auto r = c.output->Invoke({"create", "hello", {{"partitionNumber", "1"}, {"partitionKey", "k"}, {"source", "cli"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());  // Dapr answers 204
  EXPECT_EQ(c.output->Invoke({"delete", "x", {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.output->Invoke({"create", "x", {{"partitionNumber", "one"}}}).status().code(),
            StatusCode::kInvalidArgument);

  Inbox inbox;
  auto sub = c.input->Read({1}, inbox.Handler());
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(inbox.WaitFor(1));
  Message m = inbox.At(0);
  EXPECT_EQ(m.topic, "events");
  EXPECT_EQ(m.data, "hello");
  EXPECT_EQ(m.metadata["__partition"], "1");
  EXPECT_EQ(m.metadata["__key"], "k");
  EXPECT_EQ(m.metadata["source"], "cli");
  EXPECT_EQ(m.metadata.count("partitionNumber"), 0u);
  inbox.Answer(0, Outcome::kSuccess);

  // A binding with only publishTopic has no input side, and the reverse.
  Component out_only = Create("bindings.kafka", {{"publishTopic", "events"}});
  EXPECT_TRUE(out_only.output && !out_only.input);
  Component in_only = Create("bindings.kafka", {{"topics", "events"}, {"consumerGroup", "g"}});
  EXPECT_TRUE(in_only.input && !in_only.output);
}

TEST_F(KafkaTest, UnackedMessagesComeBackToTheGroupAckedOnesDoNot) {
  CreateTopic("work", 1);
  auto ps = MakePubSub("g-resume");
  for (int i = 0; i < 5; ++i) Publish(*ps, "work", "m" + std::to_string(i));
  {
    Inbox inbox;
    auto sub = Subscribe(*ps, "work", inbox, 5);
    ASSERT_TRUE(inbox.WaitFor(5));
    inbox.Answer(0, Outcome::kSuccess);
    inbox.Answer(1, Outcome::kDrop);
    inbox.Answer(3, Outcome::kSuccess);  // past the gap at 2: cannot be committed yet
    EXPECT_TRUE(BacklogIs(*sub, 3));     // m2 and m4 read but not acked count, and m3 behind them
  }                                      // destroyed with m2 and m4 un-acked
  Inbox inbox;
  auto sub = Subscribe(*ps, "work", inbox, 5);
  ASSERT_TRUE(inbox.WaitFor(3));
  std::set<std::string> again;
  for (size_t i = 0; i < 3; ++i) again.insert(inbox.At(i).data);
  EXPECT_EQ(again, (std::set<std::string>{"m2", "m3", "m4"}));
  for (size_t i = 0; i < 3; ++i) inbox.Answer(i, Outcome::kSuccess);
  EXPECT_TRUE(BacklogIs(*sub, 0));
  EXPECT_EQ(inbox.size(), 3u);  // m0 and m1 never came back
}

TEST_F(KafkaTest, RetryRedeliversInPartitionOrderWithinMaxInFlight) {
  CreateTopic("jobs", 1);
  auto ps = MakePubSub("g-retry");
  for (int i = 0; i < 4; ++i) Publish(*ps, "jobs", "j" + std::to_string(i));
  Inbox inbox;
  auto sub = Subscribe(*ps, "jobs", inbox, 2);
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_FALSE(inbox.WaitFor(3, 300ms)) << "a third message while two are un-acked";
  EXPECT_TRUE(BacklogIs(*sub, 4));   // two out, two not handed out yet
  inbox.Answer(0, Outcome::kRetry);  // j0 again, before j2
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.At(2).data, "j0");
  EXPECT_EQ(inbox.At(2).metadata["__offset"], "0");
  inbox.Answer(1, Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitFor(4));
  EXPECT_EQ(inbox.At(3).data, "j2");
  inbox.Answer(2, Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitFor(5));
  EXPECT_EQ(inbox.At(4).data, "j3");
  inbox.Answer(3, Outcome::kSuccess);
  inbox.Answer(4, Outcome::kSuccess);
  EXPECT_TRUE(BacklogIs(*sub, 0));
  EXPECT_EQ(inbox.max_outstanding(), 2u);
}

TEST_F(KafkaTest, TwoMembersOfOneGroupSharePartitions) {
  CreateTopic("shared", 2);
  auto ps = MakePubSub("g-shared");
  auto publish_both = [&](const std::string& tag) {
    Publish(*ps, "shared", tag + "-p0", {{"partitionNumber", "0"}});
    Publish(*ps, "shared", tag + "-p1", {{"partitionNumber", "1"}});
  };
  // Every message is acked at once; Inbox keeps what each member saw.
  Inbox a, b;
  auto ack_all = [](Inbox& inbox) {
    MessageHandler inner = inbox.Handler();
    return [inner](Message m, Ack ack) {
      inner(m, [](Outcome) {});
      ack(Outcome::kSuccess);
    };
  };
  auto sub_a = ps->Subscribe({"shared", {}, 4}, ack_all(a));
  ASSERT_TRUE(sub_a.ok());
  publish_both("alone");
  ASSERT_TRUE(a.WaitFor(2));  // a owns both partitions
  auto sub_b = ps->Subscribe({"shared", {}, 4}, ack_all(b));
  ASSERT_TRUE(sub_b.ok());
  int round = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        publish_both("round" + std::to_string(round++));
        return b.WaitFor(1, 200ms);
      },
      20s));
  // The group is balanced now: each further record goes to its partition's owner only.
  for (int i = 0; i < 3; ++i) publish_both("after" + std::to_string(i));
  std::set<std::string> a_parts, b_parts, after;
  auto collect = [&](Inbox& inbox, std::set<std::string>& parts) {
    for (size_t i = 0; i < inbox.size(); ++i) {
      Message m = inbox.At(i);
      if (m.data.rfind("after", 0) != 0) continue;
      parts.insert(m.metadata["__partition"]);
      after.insert(m.data);
    }
  };
  ASSERT_TRUE(Eventually([&] {
    a_parts.clear(), b_parts.clear(), after.clear();
    collect(a, a_parts);
    collect(b, b_parts);
    return after.size() == 6;
  }));
  EXPECT_EQ(after.size(), 6u);
  EXPECT_EQ(a_parts.size(), 1u);
  EXPECT_EQ(b_parts.size(), 1u);
  EXPECT_NE(a_parts, b_parts);
}

TEST_F(KafkaTest, MetadataErrorsNameTheKey) {
  // The status of creating a component with `md` on top of the usual keys, less `unset`.
  auto error = [&](const std::string& type, const std::map<std::string, std::string>& md,
                   const std::set<std::string>& unset = {}) {
    ComponentSpec spec = Spec(type, md);
    Metadata kept;
    for (const auto& [k, v] : spec.metadata.items()) {
      if (!unset.count(k)) kept.Set(k, v);
    }
    spec.metadata = kept;
    auto c = registry_.Create(spec);
    return c.ok() ? Status::Ok() : c.status();
  };
  Status s = error("pubsub.kafka", {}, {"brokers"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("brokers"), std::string::npos) << s.message();

  s = error("pubsub.kafka", {}, {"authType"});
  EXPECT_NE(s.message().find("authType"), std::string::npos) << s.message();
  EXPECT_TRUE(error("pubsub.kafka", {{"authRequired", "false"}}, {"authType"}).ok());
  s = error("pubsub.kafka", {{"authRequired", "true"}}, {"authType"});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();  // Dapr maps it to mtls
  s = error("pubsub.kafka", {{"authType", "kerberos"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("authType"), std::string::npos) << s.message();
  s = error("pubsub.kafka", {{"authType", "oidc"}});
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("oidc"), std::string::npos) << s.message();
  s = error("pubsub.kafka", {{"authType", "password"}, {"saslPassword", "pw"}});
  EXPECT_NE(s.message().find("saslUsername"), std::string::npos) << s.message();
  // (On a closed port: the mock broker speaks neither TLS nor SASL.)
  EXPECT_TRUE(error("pubsub.kafka", {{"brokers", "127.0.0.1:1"},
                                     {"authType", "password"},
                                     {"saslUsername", "u"},
                                     {"saslPassword", "pw"},
                                     {"saslMechanism", "SHA-512"}})
                  .ok());
  s = error("pubsub.kafka", {{"initialOffset", "latest"}});
  EXPECT_NE(s.message().find("initialOffset"), std::string::npos) << s.message();
  s = error("pubsub.kafka", {{"maxMessageBytes", "lots"}});
  EXPECT_NE(s.message().find("maxMessageBytes"), std::string::npos) << s.message();

  s = error("bindings.kafka", {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("publishTopic"), std::string::npos) << s.message();
  s = error("bindings.kafka", {{"direction", "input, output"}, {"topics", "a"}, {"consumerGroup", "g"}});
  EXPECT_NE(s.message().find("publishTopic"), std::string::npos) << s.message();
  s = error("bindings.kafka", {{"topics", "a,b"}});
  EXPECT_NE(s.message().find("consumerGroup"), std::string::npos) << s.message();

  // pub/sub without any group name can publish but not subscribe.
  ComponentSpec spec = Spec("pubsub.kafka", {});
  spec.app_id.clear();
  auto c = registry_.Create(spec);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto sub = c->pubsub->Subscribe({"t", {}, 1}, [](Message, Ack) {});
  ASSERT_FALSE(sub.ok());
  EXPECT_NE(sub.status().message().find("consumerGroup"), std::string::npos) << sub.status().message();
}

}  // namespace
}  // namespace ofn::components::kafka

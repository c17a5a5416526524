// Async functions end to end: OpenFunction's async samples applied to a real
// `ofn server`, with real brokers (redis-server, mosquitto), librdkafka's
// mock Kafka cluster (no Kafka broker package exists here) and Ofn's
// embedded bus; faults: an instance killed mid-stream, a poison event, a
// server restart.
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "platform/server_fixture.h"
#include "support/brokers.h"

namespace ofn::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::string Sample(const std::string& rel) {
  auto text = ReadFile(std::string(OFN_SPECS_DIR) + "/openfunction-samples/functions/async/" + rel);
  EXPECT_TRUE(text.has_value()) << rel;
  return text.value_or("");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t n = 0;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size(), ++n) s.replace(pos, from.size(), to);
  EXPECT_GT(n, 0u) << "\"" << from << "\" not found";
  return s;
}

class Async : public ServerTest {
 protected:
  void SetUp() override {
    extra_args_ = {"--local-images", OFN_ASYNC_EXAMPLES};
    ServerTest::SetUp();
  }

  void ApplyOk(const std::string& manifest) {
    auto r = Apply(manifest);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
  }

  // The lines the example functions appended to `file` (serving.params sets
  // OFN_EXAMPLE_EVENTS_FILE), once `done` holds for them.
  std::vector<std::string> WaitForLines(const std::string& file, const std::function<bool(const std::vector<std::string>&)>& done,
                                        std::chrono::seconds within = 20s) {
    std::vector<std::string> lines;
    for (auto d = After(within); std::chrono::steady_clock::now() < d;) {
      lines.clear();
      std::ifstream in(file);
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      if (done(lines)) return lines;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "events never matched; " << lines.size() << " lines; server log:\n" << server_->Output();
    return lines;
  }

  // The data of "event <id>: <data>" lines, counted.
  static std::map<std::string, int> EventData(const std::vector<std::string>& lines) {
    std::map<std::string, int> out;
    for (const auto& l : lines) {
      size_t colon = l.find(": ");
      if (l.starts_with("event ") && colon != std::string::npos) ++out[l.substr(colon + 2)];
    }
    return out;
  }

  Result<RawResponse> Publish(const std::string& pubsub, const std::string& topic, const std::string& data) {
    return RoundTrip(dapr_port_, Post("/v1.0/publish/" + pubsub + "/" + topic, data, "application/json"), After(10s));
  }

  std::string Events() const { return dir_.Sub("events.txt"); }

  // librdkafka's mock Kafka cluster as a process, and its bootstrap address
  // (empty, with a test failure, if it did not start).
  std::pair<std::unique_ptr<Process>, std::string> StartKafkaMock(std::vector<std::string> args) {
    ProcessOptions o{.argv = {OFN_KAFKA_MOCK}, .output_file = dir_.Sub("kafka.log")};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    auto mock = Process::Start(o);
    EXPECT_TRUE(mock.ok()) << mock.status().ToString();
    if (!mock.ok()) return {nullptr, ""};
    for (auto d = After(10s); std::chrono::steady_clock::now() < d;) {
      std::string out = (*mock)->Output();
      if (out.find('\n') != std::string::npos) return {std::move(*mock), out.substr(0, out.find('\n'))};
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "ofn-kafka-mock printed no address: " << (*mock)->Output();
    return {std::move(*mock), ""};
  }
};

// A subscriber of `topic` on component `bus` (spec given), recording events.
std::string Subscriber(const std::string& name, const std::string& topic, const std::string& events_file,
                       const std::string& extra_params = "", const std::string& annotations = "") {
  return "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
         "\n  annotations:\n    ofn.io/owner: test\n" + annotations +
         "spec:\n  version: v1.0.0\n  image: ofn/autoscaling-subscriber:v1\n  serving:\n"
         "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + events_file + "\n" + extra_params +
         "    triggers:\n      dapr:\n        - name: bus\n          topic: " + topic +
         "\n    template:\n      containers:\n        - name: function\n";
}

std::string BusComponent(const std::string& type, const std::string& metadata_items) {
  return "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: bus\nspec:\n  type: " + type +
         "\n  version: v1\n  metadata:\n" + (metadata_items.empty() ? "    []\n" : metadata_items);
}

TEST_F(Async, CronSampleRunsUnchanged) {
  std::string yaml = Sample("bindings/cron-input/cron-input.yaml");
  // The only change: where the example records its events.
  yaml = Replace(yaml, "    template:", "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + Events() + "\n    template:");
  ApplyOk(yaml);
  auto lines = WaitForLines(Events(), [](const auto& l) { return l.size() >= 2; });
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[0].find("cron fired at "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("(input cron)"), std::string::npos) << lines[0];
  Json obj = WaitForStatus("cron-input", [](const Json& s) { return s["serving"]["readyReplicas"] == 1; });
  EXPECT_EQ(obj["status"]["serving"]["state"], "Running");
  EXPECT_TRUE(obj["status"]["addresses"].empty()) << "an async function has no HTTP address";
}

TEST_F(Async, ProducerAndSubscriberOnTheEmbeddedBus) {
  auto manifests = ReadFile(std::string(OFN_SOURCE_DIR) + "/examples/manifests/pubsub.yaml");
  ASSERT_TRUE(manifests.has_value());
  std::string yaml = Replace(*manifests, "          topic: orders\n    template:",
                             "          topic: orders\n    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + Events() +
                                 "\n    template:");
  ApplyOk(yaml);
  auto r = Call("/default/producer/?count=20");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  auto lines = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == 20; });
  auto data = EventData(lines);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(data[R"({"n":)" + std::to_string(i) + R"(,"text":"hello"})"], 1) << i;
  }
  auto metrics = Api("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find(
                R"(ofn_events_total{namespace="default",name="autoscaling-subscriber",outcome="delivered"} 20)"),
            std::string::npos)
      << metrics->body;
}

TEST_F(Async, PoisonEventGoesToTheDeadLetterTopicWhileTheStreamFlows) {
  ApplyOk(BusComponent("pubsub.ofn", "    - name: deadLetterTopic\n      value: orders-dead\n"));
  ApplyOk(Subscriber("main", "orders", Events(), "      EXAMPLE_FAIL_ON: poison\n",
                     "    ofn.io/max-attempts: \"3\"\n    ofn.io/retry-backoff: 10ms\n"));
  std::string dead = dir_.Sub("dead.txt");
  ApplyOk(Subscriber("dead-reader", "orders-dead", dead));
  for (std::string d : {R"("a")", R"("poison")", R"("b")"}) ASSERT_EQ(Publish("bus", "orders", d)->status, 204);
  auto main = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == 2; });
  // The function sees the CloudEvent's data: the JSON strings published.
  EXPECT_EQ(EventData(main), (std::map<std::string, int>{{R"("a")", 1}, {R"("b")", 1}}));
  auto dl = WaitForLines(dead, [](const auto& l) { return EventData(l).size() == 1; });
  EXPECT_EQ(EventData(dl), (std::map<std::string, int>{{R"("poison")", 1}}));
  auto metrics = Api("GET", "/metrics");
  EXPECT_NE(metrics->body.find(R"(ofn_events_total{namespace="default",name="main",outcome="dead_lettered"} 1)"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find(R"(ofn_events_total{namespace="default",name="main",outcome="retried"} 2)"),
            std::string::npos);
}

TEST_F(Async, RedisStreamsSubscriberLosesNothingWhenItsInstanceIsKilled) {
  auto redis = StartRedis(dir_.Sub("redis"));
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  ApplyOk(BusComponent("pubsub.redis", "    - name: redisHost\n      value: " + redis->address + "\n"));
  // Two calls in flight, each a bulk of up to 32 events (the C++ framework's maxMessagesCount).
  ApplyOk(Subscriber("sub", "orders", Events(), "      EXAMPLE_DELAY_MS: \"20\"\n",
                     "    dapr.io/app-max-concurrency: \"2\"\n"));
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(Publish("bus", "orders", std::to_string(i))->status, 204);
  auto before = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() >= 20; });
  ASSERT_LT(EventData(before).size(), static_cast<size_t>(kEvents)) << "the kill must come mid-stream";
  // kill -9 every instance of the subscriber mid-stream.
  auto killer = Process::Start({.argv = {"/usr/bin/pkill", "-9", "-f", std::string(OFN_ASYNC_EXAMPLES) + "/autoscaling-subscriber"}});
  ASSERT_TRUE(killer.ok());
  (*killer)->Wait(After(5s));
  auto lines = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == kEvents; }, 60s);
  auto data = EventData(lines);
  ASSERT_EQ(data.size(), static_cast<size_t>(kEvents)) << "every event arrives";
  int duplicates = 0;
  for (const auto& [d, n] : data) duplicates += n - 1;
  // Only what the killed instance held can come twice: 2 calls of at most 32 events.
  EXPECT_LE(duplicates, 2 * 32) << "duplicates are bounded by what was in flight";
}

TEST_F(Async, ARedisRestartLosesNothing) {
  auto redis = StartRedis(dir_.Sub("redis"));
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  ApplyOk(BusComponent("pubsub.redis", "    - name: redisHost\n      value: " + redis->address + "\n"));
  ApplyOk(Subscriber("sub", "orders", Events(), "      EXAMPLE_DELAY_MS: \"10\"\n"));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Publish("bus", "orders", std::to_string(i))->status, 204);
  // Kill the broker mid-stream; Redis appends every write, so what it
  // acknowledged survives, and the consumer group with it.
  WaitForLines(Events(), [](const auto& l) { return !l.empty(); });
  int port = redis->port;
  redis->Kill();
  auto again = StartRedis(dir_.Sub("redis"), port);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (int i = 50; i < 60; ++i) {
    // The API's connection notices the restart on its first use.
    Result<RawResponse> r = Status::Unavailable("not tried");
    for (auto d = After(10s); std::chrono::steady_clock::now() < d;) {
      r = Publish("bus", "orders", std::to_string(i));
      if (r.ok() && r->status == 204) break;
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(r.ok() && r->status == 204) << (r.ok() ? r->body : r.status().ToString());
  }
  auto lines = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == 60; }, 60s);
  EXPECT_EQ(EventData(lines).size(), 60u) << "every event published before and after the restart arrives";
}

TEST_F(Async, ServerRestartResumesTheConsumerGroupWhereItWas) {
  auto redis = StartRedis(dir_.Sub("redis"));
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  ApplyOk(BusComponent("pubsub.redis", "    - name: redisHost\n      value: " + redis->address + "\n"));
  ApplyOk(Subscriber("sub", "orders", Events()));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Publish("bus", "orders", std::to_string(i))->status, 204);
  WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == 10; });
  // Handled is not yet acknowledged: wait for Redis to have every XACK, so
  // that a redelivery after the restart would be a real loss of position.
  bool acked = false;
  for (auto d = After(10s); !acked && std::chrono::steady_clock::now() < d;) {
    auto cli = Process::Start({.argv = {"/usr/bin/redis-cli", "-p", std::to_string(redis->port), "XPENDING", "orders", "sub"},
                               .output_file = dir_.Sub("xpending.txt")});
    ASSERT_TRUE(cli.ok());
    (*cli)->Wait(After(5s));
    auto out = ReadFile(dir_.Sub("xpending.txt"));
    ::unlink(dir_.Sub("xpending.txt").c_str());
    acked = out && out->starts_with("0\n");
    if (!acked) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(acked);
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  ASSERT_TRUE(server_->Wait(After(10s)).has_value());
  StartServer();
  for (int i = 10; i < 20; ++i) ASSERT_EQ(Publish("bus", "orders", std::to_string(i))->status, 204);
  auto lines = WaitForLines(Events(), [](const auto& l) { return EventData(l).size() == 20; });
  for (const auto& [d, n] : EventData(lines)) EXPECT_EQ(n, 1) << "event " << d << " was delivered again";
}

TEST_F(Async, KafkaSamplesRunWithOnlyTheBrokerAddressChanged) {
  auto [mock, bootstrap] = StartKafkaMock({"sample-topic"});
  ASSERT_FALSE(bootstrap.empty());
  std::string input = Replace(Sample("bindings/kafka-input/kafka-input.yaml"), "kafka-server-kafka-brokers:9092", bootstrap);
  input = Replace(input, "    template:", "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + Events() + "\n    template:");
  std::string output = Replace(Sample("bindings/cron-input-kafka-output/cron-input-kafka-output.yaml"),
                               "kafka-server-kafka-brokers:9092", bootstrap);
  ApplyOk(input);
  ApplyOk(output);
  auto lines = WaitForLines(Events(), [](const auto& l) {
    for (const auto& line : l)
      if (line.find("message from Kafka: {\"message\":\"Hello from cron at ") != std::string::npos) return true;
    return false;
  });
  EXPECT_FALSE(lines.empty());
}

TEST_F(Async, PubSubSubscriberSampleOnKafkaGetsWhatTheProducersComponentPublishes) {
  auto [mock, bootstrap] = StartKafkaMock({"--partitions", "3", "sample-topic"});
  ASSERT_FALSE(bootstrap.empty());
  std::string sub = Replace(Sample("pubsub/subscriber/function-subscriber.yaml"), "kafka-server-kafka-brokers:9092",
                            bootstrap);
  sub = Replace(sub, "    template:", "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + Events() + "\n    template:");
  ApplyOk(sub);
  // The producer sample is a Deployment publishing through its sidecar to the
  // Component in the same file: apply that Component, publish through Ofn's Dapr API.
  std::string producer = Sample("pubsub/producer/deploy.yaml");
  producer = Replace(producer.substr(producer.find("apiVersion: dapr.io/v1alpha1")),
                     "kafka-server-kafka-brokers:9092", bootstrap);
  ApplyOk(producer);
  // The subscriber's group starts at the newest offset (Dapr's default
  // initialOffset): publish until it is consuming, then count.
  WaitForLines(Events(), [&](const auto& l) {
    if (!l.empty()) return true;
    EXPECT_EQ(Publish("autoscaling-producer", "sample-topic", R"("warm-up")")->status, 204);
    return false;
  });
  constexpr int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) {
    auto r = Publish("autoscaling-producer", "sample-topic", R"({"n":)" + std::to_string(i) + "}");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << r->body;
  }
  auto lines = WaitForLines(Events(), [](const auto& l) {
    auto data = EventData(l);
    data.erase(R"("warm-up")");
    return data.size() == kEvents;
  });
  for (const auto& [d, n] : EventData(lines)) {
    if (d != R"("warm-up")") {
      EXPECT_EQ(n, 1) << d;
    }
  }
}

TEST_F(Async, MqttSampleRunsWithOnlyTheBrokerAddressChanged) {
  auto mqtt = StartMosquitto(dir_.Sub("mqtt"));
  ASSERT_TRUE(mqtt.ok()) << mqtt.status().ToString();
  std::string yaml = Replace(Sample("mqtt-io-node/async-bindings.yaml"), "tcp://admin:public@emqx:1883", mqtt->url);
  // The sample's image is a placeholder for the user's own.
  yaml = Replace(yaml, "your-docker-registry/image:v1", "ofn/mqtt-io:v1");
  ApplyOk(yaml);
  WaitForStatus("sample-node-async-bindings", [](const Json& s) { return s["serving"]["state"] == "Running"; });
  std::string port = std::to_string(mqtt->port);
  auto sub = Process::Start({.argv = {"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "out", "-C", "1",
                                      "-q", "1", "-W", "20"},
                             .output_file = dir_.Sub("sub.txt")});
  ASSERT_TRUE(sub.ok());
  // mosquitto_sub subscribes quickly but not instantly: publish until it hears.
  std::optional<ExitStatus> done;
  for (auto d = After(20s); !done && std::chrono::steady_clock::now() < d;) {
    auto pub = Process::Start({.argv = {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "in", "-q", "1",
                                        "-m", "hello mqtt"}});
    ASSERT_TRUE(pub.ok());
    (*pub)->Wait(After(5s));
    done = (*sub)->Wait(After(500ms));
  }
  ASSERT_TRUE(done.has_value()) << server_->Output();
  EXPECT_NE((*sub)->Output().find("hello mqtt"), std::string::npos) << (*sub)->Output();
}

}  // namespace
}  // namespace ofn::testing

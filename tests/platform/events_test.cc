// Events end to end: EventSources, EventBuses and Triggers applied to a real
// `ofn server`, events from webhooks (through the gateway) and real brokers
// (redis-server, nats-server -js), delivered to Functions and plain HTTP
// sinks; faults: failing sinks, a killed server, a restarted bus.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "platform/server_fixture.h"
#include "support/brokers.h"
#include "support/scripted_http_server.h"

namespace ofn::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

ScriptedHttpServer::Reply Answer(int code) {
  return {.raw = "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: 0\r\n\r\n"};
}

// A sink that takes everything: what it got is in its requests().
ScriptedHttpServer::Handler TakeAll() {
  return [](const ScriptedHttpServer::Request&, size_t) { return Answer(200); };
}

std::vector<std::string> Bodies(const ScriptedHttpServer& sink) {
  std::vector<std::string> out;
  for (const auto& r : sink.requests()) out.push_back(r.body);
  return out;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds within = 20s) {
  for (auto d = After(within); std::chrono::steady_clock::now() < d;) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

constexpr char kWebhookSource[] = R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: shop
spec:
  eventBus: default
  webhook:
    orders: {}
)";

class Events : public ServerTest {
 protected:
  void SetUp() override {
    extra_args_ = {"--local-images", std::string(OFN_ASYNC_EXAMPLES) + ":" + OFN_EVENTS_EXAMPLES};
    ServerTest::SetUp();
  }

  void ApplyOk(const std::string& manifest) {
    auto r = Apply(manifest);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
  }

  // POSTs to a webhook event source through the gateway.
  int Webhook(const std::string& source, const std::string& event, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    RawRequest r = Post("/_eventsources/default/" + source + "/" + event, body, "application/json");
    for (const auto& [k, v] : headers) r.Header(k, v);
    auto resp = RoundTrip(gateway_port_, r, After(10s));
    return resp.ok() ? resp->status : -1;
  }

  Json Object(const std::string& kind, const std::string& name) {
    auto r = Api("GET", "/v1/objects/" + kind + "/default/" + name);
    return r.ok() && r->status == 200 ? Json::parse(r->body) : Json();
  }

  // Waits until the object's first condition is `type` (Ready or Error).
  Json WaitForCondition(const std::string& kind, const std::string& name, const std::string& type) {
    Json last;
    bool ok = WaitFor([&] {
      last = Object(kind, name);
      const Json* c = last.is_object() ? &last["status"]["conditions"] : nullptr;
      return c && c->is_array() && !c->empty() && (*c)[0].value("type", "") == type;
    });
    EXPECT_TRUE(ok) << kind << " " << name << " never " << type << ": " << last.dump() << "\n" << server_->Output();
    return last;
  }

  Json Stats(const std::string& kind, const std::string& name) {
    auto r = Api("GET", "/v1/events/stats/" + kind + "/default/" + name);
    return r.ok() && r->status == 200 ? Json::parse(r->body)["items"] : Json::array();
  }

  std::vector<std::string> Lines(const std::string& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  // librdkafka's mock Kafka cluster (no Kafka broker package exists here),
  // running until the test ends; its bootstrap address, empty if it did not start.
  std::string StartKafkaMock(std::vector<std::string> topics) {
    ProcessOptions o{.argv = {OFN_KAFKA_MOCK}, .output_file = dir_.Sub("kafka.log")};
    o.argv.insert(o.argv.end(), topics.begin(), topics.end());
    auto mock = Process::Start(o);
    EXPECT_TRUE(mock.ok());
    if (!mock.ok()) return "";
    kafka_ = std::move(*mock);
    std::string bootstrap;
    WaitFor([&] {
      std::string out = kafka_->Output();
      bootstrap = out.substr(0, out.find('\n'));
      return out.find('\n') != std::string::npos;
    }, 10s);
    EXPECT_FALSE(bootstrap.empty()) << "ofn-kafka-mock printed no address: " << kafka_->Output();
    return bootstrap;
  }

  std::unique_ptr<Process> kafka_;

  // kWebhookSource, and Trigger "orders" on its event (input `order`) with these annotations and subscribers.
  void ApplyOrdersTrigger(const std::map<std::string, std::string>& annotations, const std::string& subscribers) {
    ApplyOk(kWebhookSource);
    std::string meta;
    for (const auto& [k, v] : annotations) meta += "    " + k + ": \"" + v + "\"\n";
    ApplyOk("apiVersion: events.openfunction.io/v1alpha1\nkind: Trigger\nmetadata:\n  name: orders\n" +
            (meta.empty() ? "" : "  annotations:\n" + meta) +
            "spec:\n  eventBus: default\n  inputs:\n    order: {eventSource: shop, event: orders}\n  subscribers:\n" +
            subscribers);
  }

  // The example subscriber as a Function: a sync one (no triggers), or an
  // async one reading `topic` of the default EventBus's embedded bus.
  static std::string Recorder(const std::string& name, const std::string& file, const std::string& topic = "",
                              const std::string& fail_on = "") {
    std::string m = "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
                    "\nspec:\n  version: v1.0.0\n  image: ofn/autoscaling-subscriber:v1\n  serving:\n"
                    "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + file + "\n";
    if (!fail_on.empty()) m += "      EXAMPLE_FAIL_ON: " + fail_on + "\n";
    if (!topic.empty()) {
      m += "    triggers:\n      dapr:\n        - name: bus\n          type: pubsub.ofn\n          topic: " + topic +
           "\n    pubsub:\n      bus:\n        type: pubsub.ofn\n        version: v1\n        metadata:\n"
           "          - name: eventBus\n            value: default\n";
    }
    m += "    template:\n      containers:\n        - name: function\n";
    return m;
  }
};


TEST_F(Events, AWebhookEventReachesASyncFunctionAndAnAsyncOneThroughATrigger) {
  const std::string sync_file = dir_.Sub("sync.txt"), async_file = dir_.Sub("async.txt");
  ApplyOk(Recorder("big-orders", sync_file));
  ApplyOk(Recorder("audit", async_file, "orders-audit"));
  ApplyOrdersTrigger({}, R"(  - condition: order && data.total >= 100
    sink:
      ref: {apiVersion: core.openfunction.io/v1beta2, kind: Function, name: big-orders}
  - condition: order
    topic: orders-audit
)");
  WaitForCondition("eventsource", "shop", "Ready");
  Json t = WaitForCondition("trigger", "orders", "Ready");
  EXPECT_EQ(t["status"]["topics"], Json::array({"default-shop-orders"}));
  for (int total : {20, 150, 99, 100}) {
    ASSERT_EQ(Webhook("shop", "orders", "{\"total\":" + std::to_string(total) + "}"), 202);
  }
  ASSERT_TRUE(WaitFor([&] { return Lines(sync_file).size() == 2 && Lines(async_file).size() == 4; }))
      << Lines(sync_file).size() << " sync, " << Lines(async_file).size() << " async\n" << server_->Output();
  std::set<std::string> big;
  for (const auto& l : Lines(sync_file)) big.insert(l.substr(l.find(": ") + 2));
  EXPECT_EQ(big, (std::set<std::string>{"{\"total\":150}", "{\"total\":100}"}));
  Json stats = Stats("trigger", "orders");
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0]["delivered"], 2);
  EXPECT_EQ(stats[0]["filtered"], 2);
  EXPECT_EQ(stats[1]["published"], 4);
  auto metrics = Api("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("ofn_trigger_events_total{namespace=\"default\",trigger=\"orders\",subscriber=\"0\","
                               "outcome=\"delivered\"} 2"),
            std::string::npos);
}

TEST_F(Events, AFailingSinkIsRetriedThenDeadLetteredAndEveryEventIsAccountedFor) {
  const std::string sink_file = dir_.Sub("sink.txt"), dead_file = dir_.Sub("dead.txt");
  ApplyOk(Recorder("picky", sink_file, "", "refuse"));
  ApplyOk(Recorder("dead-letters", dead_file, "orders-dead"));
  ApplyOrdersTrigger({{"ofn.io/max-attempts", "3"}, {"ofn.io/retry-backoff", "20ms"}}, R"(  - condition: order
    sink:
      ref: {apiVersion: core.openfunction.io/v1beta2, kind: Function, name: picky}
    deadLetterTopic: orders-dead
)");
  WaitForCondition("trigger", "orders", "Ready");
  const int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_EQ(Webhook("shop", "orders", i % 5 == 0 ? "\"refuse " + std::to_string(i) + "\"" : std::to_string(i)), 202);
  }
  ASSERT_TRUE(WaitFor([&] {
    Json s = Stats("trigger", "orders");
    return !s.empty() && s[0]["delivered"].get<int>() + s[0]["deadLettered"].get<int>() == kEvents;
  })) << Stats("trigger", "orders").dump() << "\n" << server_->Output();
  Json s = Stats("trigger", "orders")[0];
  EXPECT_EQ(s["delivered"], kEvents - kEvents / 5);
  EXPECT_EQ(s["deadLettered"], kEvents / 5);
  EXPECT_EQ(s["dropped"], 0);
  ASSERT_TRUE(WaitFor([&] { return Lines(dead_file).size() == kEvents / 5; })) << Lines(dead_file).size();
  // The dead letters went through the async function: the reason travels with each.
  EXPECT_TRUE(WaitFor([&] { return Lines(sink_file).size() == kEvents - kEvents / 5; }));
}

TEST_F(Events, AKilledServerLosesNothingTheBusAccepted) {
  std::atomic<bool> up{false};
  std::mutex mu;
  std::set<std::string> got;
  ScriptedHttpServer sink([&](const ScriptedHttpServer::Request& r, size_t) {
    if (!up) return Answer(503);
    std::lock_guard lk(mu);
    got.insert(r.body);
    return Answer(200);
  });
  ApplyOrdersTrigger({{"ofn.io/max-attempts", "1000"}, {"ofn.io/retry-backoff", "50ms"},
                      {"ofn.io/retry-max-backoff", "200ms"}},
                     "  - condition: order\n    sink: {uri: \"" + sink.url("/in") + "\"}\n");
  WaitForCondition("trigger", "orders", "Ready");
  for (int i = 0; i < 25; ++i) ASSERT_EQ(Webhook("shop", "orders", std::to_string(i)), 202);
  ASSERT_TRUE(WaitFor([&] {
    Json s = Stats("trigger", "orders");
    return !s.empty() && s[0]["retried"].get<int>() > 25;
  }));
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  server_->Wait(After(10s));
  up = true;
  StartServer();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lk(mu);
    return got.size() == 25;
  })) << got.size() << "\n" << server_->Output();
}

TEST_F(Events, OpenFunctionsNatsEventBusAndARedisSourceWithARestartedBus) {
  auto nats = StartNats(dir_.Sub("nats"));
  ASSERT_TRUE(nats.ok()) << nats.status().ToString();
  auto redis = StartRedis(dir_.Sub("redis"));
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  ScriptedHttpServer sink(TakeAll());
  // OpenFunction's EventBus sample with only the address changed.
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: default
spec:
  natsStreaming:
    natsURL: ")" + nats->url + R"("
    natsStreamingClusterID: "stan"
    subscriptionType: queue
    durableSubscriptionName: "ImDurable"
)");
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: my-eventsource
spec:
  eventBus: "default"
  redis:
    sample-three:
      redisHost: ")" + redis->address + R"("
      redisPassword: ""
)");
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: my-trigger
spec:
  eventBus: "default"
  inputs:
    inputDemo:
      eventSource: "my-eventsource"
      event: "sample-three"
  subscribers:
  - condition: inputDemo
    sink:
      uri: ")" + sink.url() + R"("
)");
  Json es = WaitForCondition("eventsource", "my-eventsource", "Ready");
  EXPECT_NE(es["status"]["conditions"][0]["message"].get<std::string>().find("JetStream"), std::string::npos);
  WaitForCondition("trigger", "my-trigger", "Ready");
  auto xadd = [&](int i) {
    auto cli = Process::Start({.argv = {"/usr/bin/redis-cli", "-p", std::to_string(redis->port), "XADD",
                                        "sample-three", "*", "data", "{\"n\":" + std::to_string(i) + "}"}});
    ASSERT_TRUE(cli.ok());
    auto st = (*cli)->Wait(After(10s));
    ASSERT_TRUE(st && st->exited && st->code == 0) << (*cli)->Output();
  };
  for (int i = 0; i < 10; ++i) xadd(i);
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() == 10; })) << server_->Output();
  // The bus goes away and comes back with its store: events in between wait at the source.
  nats->Kill();
  for (int i = 10; i < 15; ++i) xadd(i);
  auto again = StartNats(nats->dir, nats->port);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() >= 15; }, 40s)) << server_->Output();
  auto bodies = Bodies(sink);
  EXPECT_EQ(std::set<std::string>(bodies.begin(), bodies.end()).size(), 15u);
}

// OpenFunction's first sample (a Kafka source straight to a function's
// Knative Service), plus every other kind of source in one EventSource.
TEST_F(Events, EveryKindOfSourceReachesItsSink) {
  auto mqtt = StartMosquitto(dir_.Sub("mqtt"));
  ASSERT_TRUE(mqtt.ok()) << mqtt.status().ToString();
  auto nats = StartNats(dir_.Sub("nats"));
  ASSERT_TRUE(nats.ok()) << nats.status().ToString();
  std::string bootstrap = StartKafkaMock({"sample"});
  ASSERT_FALSE(bootstrap.empty());
  const std::string fn_file = dir_.Sub("function-sample.txt");
  ApplyOk(Recorder("function-sample", fn_file));
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: my-eventsource
spec:
  kafka:
    sample-one:
      brokers: )" + bootstrap + R"(
      topic: sample
      authRequired: false
  sink:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: function-sample-serving-qrdx8-ksvc-fwml8
      namespace: default
)");
  ScriptedHttpServer sink(TakeAll());
  // The bodies the sink got, by CloudEvent subject; a CloudEvent that arrived whole (published through
  // Dapr's API) keeps its own attributes and has none: by type then.
  auto by_subject = [&] {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : sink.requests()) {
      std::string subject = r.header("ce-subject");
      out[subject == "<absent>" ? r.header("ce-type") : subject].push_back(r.body);
    }
    return out;
  };
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: many
spec:
  sink: {uri: ")" + sink.url() + R"("}
  cron:
    tick: {schedule: "@every 1s"}
  mqtt:
    sensors: {url: ")" + mqtt->url + R"(", topic: "sensors/+"}
  nats:
    audit: {natsURL: ")" + nats->url + R"(", subject: audit}
)");
  WaitForCondition("eventsource", "my-eventsource", "Ready");
  WaitForCondition("eventsource", "many", "Ready");
  // Publishers: Kafka and NATS through Ofn's Dapr API (standalone Components), MQTT with mosquitto_pub.
  ApplyOk("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: kafka-out\nspec:\n  type: pubsub.kafka\n"
          "  version: v1\n  metadata:\n    - {name: brokers, value: \"" + bootstrap + "\"}\n    - {name: authType, value: none}\n");
  ApplyOk("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: nats-out\nspec:\n  type: pubsub.jetstream\n"
          "  version: v1\n  metadata:\n    - {name: natsURL, value: \"" + nats->url + "\"}\n");
  auto publish = [&](const std::string& pubsub, const std::string& topic, const std::string& data) {
    auto r = RoundTrip(dapr_port_, Post("/v1.0/publish/" + pubsub + "/" + topic, data, "application/json"), After(10s));
    return r.ok() ? r->status : -1;
  };
  auto count = [&](const std::string& subject) { return by_subject()[subject].size(); };
  // Sources that start at the newest message: publish until they hear.
  ASSERT_TRUE(WaitFor([&] {
    EXPECT_EQ(publish("kafka-out", "sample", R"({"from":"kafka"})"), 204);
    return Lines(fn_file).size() > 0;
  })) << server_->Output();
  EXPECT_NE(Lines(fn_file)[0].find(R"({"from":"kafka"})"), std::string::npos);
  ASSERT_TRUE(WaitFor([&] {
    auto pub = Process::Start({.argv = {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(mqtt->port),
                                        "-t", "sensors/t1", "-q", "1", "-m", R"({"c":21.5})"}});
    if (pub.ok()) (*pub)->Wait(After(5s));
    return count("sensors") > 0;
  })) << server_->Output();
  ASSERT_TRUE(WaitFor([&] {
    EXPECT_EQ(publish("nats-out", "audit", R"({"who":"me"})"), 204);
    return count("com.dapr.event.sent") > 0;
  })) << server_->Output();
  ASSERT_TRUE(WaitFor([&] { return count("tick") >= 2; })) << server_->Output();
  auto got = by_subject();
  EXPECT_EQ(Json::parse(got["sensors"][0]), Json::parse(R"({"c":21.5})"));
  // A CloudEvent published through Dapr's API travels as it is: its data reaches the sink.
  EXPECT_EQ(Json::parse(got["com.dapr.event.sent"][0]), Json::parse(R"({"who":"me"})"));
}

// Ofn's `pubsub` EventBus: Redis Streams and Kafka carry a Trigger's events too.
TEST_F(Events, RedisStreamsAndKafkaEventBuses) {
  auto redis = StartRedis(dir_.Sub("redis"));
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  std::string bootstrap = StartKafkaMock({});
  ASSERT_FALSE(bootstrap.empty());
  ScriptedHttpServer sink(TakeAll());
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: streams
spec:
  pubsub:
    type: pubsub.redis
    metadata:
      - {name: redisHost, value: ")" + redis->address + R"("}
---
apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: log
spec:
  pubsub:
    type: pubsub.kafka
    metadata:
      - {name: brokers, value: ")" + bootstrap + R"("}
      - {name: authType, value: none}
      - {name: initialOffset, value: oldest}
)");
  for (const std::string bus : {"streams", "log"}) {
    ApplyOk("apiVersion: events.openfunction.io/v1alpha1\nkind: EventSource\nmetadata:\n  name: src-" + bus +
            "\nspec:\n  eventBus: " + bus + "\n  webhook:\n    hit: {}\n");
    ApplyOk("apiVersion: events.openfunction.io/v1alpha1\nkind: Trigger\nmetadata:\n  name: t-" + bus +
            "\nspec:\n  eventBus: " + bus + "\n  inputs:\n    hit: {eventSource: src-" + bus +
            ", event: hit}\n  subscribers:\n  - condition: hit\n    sink: {uri: \"" + sink.url() + "\"}\n");
    WaitForCondition("trigger", "t-" + bus, "Ready");
    WaitForCondition("eventsource", "src-" + bus, "Ready");
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Webhook("src-streams", "hit", "\"redis " + std::to_string(i) + "\""), 202);
    ASSERT_EQ(Webhook("src-log", "hit", "\"kafka " + std::to_string(i) + "\""), 202);
  }
  ASSERT_TRUE(WaitFor([&] {
    auto bodies = Bodies(sink);
    return std::set<std::string>(bodies.begin(), bodies.end()).size() == 20;
  }, 30s)) << sink.requests().size() << "\n" << server_->Output();
}

// A ClusterEventBus carries events between namespaces.
TEST_F(Events, AClusterEventBusJoinsNamespaces) {
  ScriptedHttpServer sink(TakeAll());
  ApplyOk("apiVersion: events.openfunction.io/v1alpha1\nkind: ClusterEventBus\nmetadata:\n  name: shared\n");
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: shop
  namespace: sales
spec:
  eventBus: shared
  webhook:
    orders: {}
)");
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: billing
spec:
  eventBus: shared
  inputs:
    order: {namespace: sales, eventSource: shop, event: orders}
  subscribers:
  - condition: order
    sink: {uri: ")" + sink.url() + R"("}
)");
  WaitForCondition("trigger", "billing", "Ready");
  // The CLI shows the cluster-scoped bus whatever the namespace, and the Trigger's live counts.
  auto [code, out] = RunOfn(dir_.Sub("data"), {"get", "clustereventbus", "shared"}, dir_);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("shared"), std::string::npos) << out;
  EXPECT_NE(out.find("pubsub.ofn (embedded)"), std::string::npos) << out;
  ASSERT_TRUE(WaitFor([&] {
    auto r = RoundTrip(gateway_port_, Post("/_eventsources/sales/shop/orders", "7", "application/json"), After(5s));
    return r.ok() && r->status == 202;
  }));
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() == 1; })) << server_->Output();
  ASSERT_TRUE(WaitFor([&] { return Stats("trigger", "billing")[0]["delivered"] == 1; }));
  auto [dcode, described] = RunOfn(dir_.Sub("data"), {"describe", "trigger", "billing"}, dir_);
  EXPECT_EQ(dcode, 0) << described;
  EXPECT_NE(described.find("Delivered:"), std::string::npos) << described;
}

// examples/events, as `make run` deploys it.
TEST_F(Events, TheExampleChainWorksAsMakeRunDeploysIt) {
  auto text = ReadFile(std::string(OFN_SOURCE_DIR) + "/examples/events/orders.yaml");
  ASSERT_TRUE(text.has_value());
  const std::string file = dir_.Sub("example.txt");
  std::string manifest = *text;
  for (size_t at = 0; (at = manifest.find("    template:", at)) != std::string::npos;) {
    const std::string params = "    params:\n      OFN_EXAMPLE_EVENTS_FILE: " + file + "\n";
    manifest.insert(at, params);
    at += params.size() + 1;
  }
  ApplyOk(manifest);
  WaitForCondition("trigger", "orders", "Ready");
  ASSERT_EQ(Webhook("shop", "orders", R"({"id":1,"total":250})"), 202);
  ASSERT_EQ(Webhook("shop", "orders", R"({"id":2,"total":20})"), 202);
  ASSERT_TRUE(WaitFor([&] {
    int alerts = 0, audits = 0;
    for (const auto& l : Lines(file)) {
      alerts += l.starts_with("big order ") && l.find(R"("id":1)") != std::string::npos;
      audits += l.starts_with("event ");
    }
    return alerts == 1 && audits == 2;
  })) << ReadFile(file).value_or("") << "\n" << server_->Output();
}

TEST_F(Events, MalformedEventsResourcesAreRejectedWithFieldLineAndColumn) {
  auto r = Apply(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: broken
spec:
  eventBus: default
  inputs:
    a: {eventSource: s, event: e}
  subscribers:
  - condition: a && (data.level == "error"
    topic: out
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("test.yaml:10: spec.subscribers[0].condition: column"), std::string::npos) << r->body;
  // A webhook that is not there, and a bad signature, are clear answers; the server keeps serving.
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: gh
spec:
  eventBus: default
  webhook:
    push:
      secret: "It's a Secret to Everybody"
)");
  WaitForCondition("eventsource", "gh", "Ready");
  EXPECT_EQ(Webhook("gh", "nope", "{}"), 404);
  EXPECT_EQ(Webhook("gh", "push", "Hello, World!", {{"X-Hub-Signature-256", "sha256=00"}}), 401);
  EXPECT_EQ(Webhook("gh", "push", "Hello, World!",
                    {{"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}}),
            202);
  // An EventSource on a bus that does not exist says so in status.
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: lost
spec:
  eventBus: nowhere
  webhook:
    x: {}
)");
  Json lost = WaitForCondition("eventsource", "lost", "Error");
  EXPECT_EQ(lost["status"]["conditions"][0]["reason"], "ErrorToFindExistEventBus");

  // A Trigger whose sink Function does not exist yet says so, and works once the Function is there.
  const std::string file = dir_.Sub("late.txt");
  ApplyOk(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: early
spec:
  eventBus: default
  inputs:
    push: {eventSource: gh, event: push}
  subscribers:
  - condition: push
    sink:
      ref: {apiVersion: core.openfunction.io/v1beta2, kind: Function, name: late}
)");
  Json early = WaitForCondition("trigger", "early", "Error");
  EXPECT_NE(early["status"]["conditions"][0]["message"].get<std::string>().find("no Function default/late"),
            std::string::npos)
      << early;
  ApplyOk(Recorder("late", file));
  WaitForCondition("trigger", "early", "Ready");
  const std::string sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_EQ(Webhook("gh", "push", "Hello, World!", {{"X-Hub-Signature-256", sig}}), 202);
  // A new Trigger's group starts at what the embedded bus retains: the push sent before it existed comes too.
  ASSERT_TRUE(WaitFor([&] { return Lines(file).size() == 2; })) << server_->Output();
  // Deleted, it stops: the next event reaches nobody.
  auto del = Api("DELETE", "/v1/objects/trigger/default/early");
  ASSERT_TRUE(del.ok() && del->status == 200);
  EXPECT_EQ(Webhook("gh", "push", "Hello, World!", {{"X-Hub-Signature-256", sig}}), 202);
  EXPECT_TRUE(Stats("trigger", "early").empty());
}

}  // namespace
}  // namespace ofn::testing

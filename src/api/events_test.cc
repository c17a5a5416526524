#include "api/events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/load.h"

namespace ofn::api {
namespace {

Resource Load(std::string_view text) {
  auto docs = ParseManifests(text, "events.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->empty()) return {};
  return LoadResource(std::move(docs->front()));
}

std::string Md(const std::vector<std::pair<std::string, std::string>>& md, const std::string& key) {
  for (const auto& [k, v] : md) {
    if (k == key) return v;
  }
  return "<absent>";
}

bool Mentions(const std::vector<Diagnostic>& ds, const std::string& path, const std::string& text) {
  for (const auto& d : ds) {
    if (d.path == path && d.message.find(text) != std::string::npos) return true;
  }
  return false;
}

// OpenFunction's own samples (its events documentation), unchanged.
TEST(EventSourceDecode, OpenFunctionKafkaSampleWithAKnativeSink) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: my-eventsource
spec:
  logLevel: "2"
  kafka:
    sample-one:
      brokers: dapr-kafka.kafka:9092
      topic: sample
      authRequired: false
  sink:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: function-sample-serving-qrdx8-ksvc-fwml8
      namespace: default
)");
  ASSERT_TRUE(r.event_source.has_value()) << FormatDiagnostics(r.errors);
  const EventSource& es = *r.event_source;
  ASSERT_EQ(es.events.size(), 1u);
  const SourceEvent& ev = es.events[0];
  EXPECT_EQ(ev.name, "sample-one");
  EXPECT_EQ(ev.component_type, "bindings.kafka");
  EXPECT_EQ(Md(ev.metadata, "brokers"), "dapr-kafka.kafka:9092");
  EXPECT_EQ(Md(ev.metadata, "topics"), "sample");
  EXPECT_EQ(Md(ev.metadata, "authRequired"), "false");
  EXPECT_EQ(Md(ev.metadata, "consumerGroup"), "eventsource-default-my-eventsource-sample-one");
  ASSERT_TRUE(es.sink.ref.has_value());
  EXPECT_EQ(es.sink.ref->kind, "Service");
  EXPECT_EQ(es.sink.ref->name, "function-sample-serving-qrdx8-ksvc-fwml8");
  EXPECT_TRUE(es.event_bus.empty());
  // logLevel is kept, not acted on: the user is told.
  EXPECT_TRUE(Mentions(r.ignored, "spec.logLevel", "not acted on"));
  auto spec = nlohmann::json::parse(ev.ComponentSpecJson());
  EXPECT_EQ(spec["type"], "bindings.kafka");
}

TEST(EventSourceDecode, EveryKindBecomesItsComponent) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: many
  namespace: shop
spec:
  eventBus: default
  cron:
    tick:
      schedule: "@every 2s"
  redis:
    orders:
      redisHost: 127.0.0.1:6379
      redisPassword: ""
  mqtt:
    sensors:
      url: tcp://127.0.0.1:1883
      topic: sensors/#
      qos: 1
  nats:
    audit:
      natsURL: nats://127.0.0.1:4222
      subject: audit.events
  webhook:
    github:
      secret: s3cret
)");
  ASSERT_TRUE(r.event_source.has_value()) << FormatDiagnostics(r.errors);
  std::map<std::string, SourceEvent> by_name;
  for (const auto& e : r.event_source->events) by_name[e.name] = e;
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name["tick"].component_type, "bindings.cron");
  EXPECT_EQ(Md(by_name["tick"].metadata, "schedule"), "@every 2s");
  EXPECT_EQ(by_name["orders"].component_type, "pubsub.redis");
  EXPECT_EQ(by_name["orders"].topic, "orders");  // the stream is named after the event
  EXPECT_EQ(by_name["sensors"].component_type, "bindings.mqtt3");
  EXPECT_EQ(Md(by_name["sensors"].metadata, "qos"), "1");
  EXPECT_EQ(Md(by_name["sensors"].metadata, "consumerID"), "eventsource-shop-many-sensors");
  EXPECT_EQ(by_name["audit"].component_type, "pubsub.jetstream");
  EXPECT_EQ(by_name["audit"].topic, "audit.events");
  EXPECT_EQ(by_name["github"].kind, SourceKind::kWebhook);
  EXPECT_EQ(by_name["github"].secret, "s3cret");
  EXPECT_EQ(by_name["github"].signature_header, "X-Hub-Signature-256");
  EXPECT_EQ(EventTopic("shop", "many", "tick"), "shop-many-tick");
  // Ofn's extensions are accepted, and said to be Ofn's.
  EXPECT_TRUE(Mentions(r.notes, "spec.nats", "an Ofn extension"));
  EXPECT_TRUE(Mentions(r.notes, "spec.webhook", "an Ofn extension"));
  EXPECT_TRUE(r.ignored.empty()) << FormatDiagnostics(r.ignored);  // acted on: not "ignored"
}

TEST(EventSourceDecode, MistakesNameTheFieldAndLine) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: broken
spec:
  eventBus: default
  kafka:
    Bad_Name:
      brokers: x:9092
      topic: t
      authRequired: false
    no-topic:
      brokers: x:9092
      authRequired: false
  sink:
    uri: https://example.com/
)");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "spec.kafka[Bad_Name]", "must be a DNS label")) << FormatDiagnostics(r.errors);
  EXPECT_TRUE(Mentions(r.errors, "spec.kafka[no-topic].topic", "required field missing"));
  EXPECT_TRUE(Mentions(r.errors, "spec.sink.uri", "https is not supported"));
  for (const auto& d : r.errors) EXPECT_GT(d.position.line, 0) << d.ToString();

  Resource nowhere = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: nowhere
spec:
  cron:
    tick:
      schedule: "@every 1s"
)");
  EXPECT_TRUE(Mentions(nowhere.errors, "spec", "events go nowhere")) << FormatDiagnostics(nowhere.errors);
}

TEST(EventBusDecode, NatsStreamingIsCarriedByJetStream) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: default
spec:
  natsStreaming:
    natsURL: "nats://nats.default:4222"
    natsStreamingClusterID: "stan"
    subscriptionType: queue
    durableSubscriptionName: "ImDurable"
)");
  ASSERT_TRUE(r.event_bus.has_value()) << FormatDiagnostics(r.errors);
  EXPECT_EQ(r.event_bus->component_type, "pubsub.jetstream");
  EXPECT_EQ(Md(r.event_bus->metadata, "natsURL"), "nats://nats.default:4222");
  EXPECT_NE(r.event_bus->note.find("JetStream"), std::string::npos);
  EXPECT_FALSE(r.event_bus->cluster);
}

TEST(EventBusDecode, AnyPubSubComponentOrTheEmbeddedBus) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: ClusterEventBus
metadata:
  name: shared
spec:
  pubsub:
    type: pubsub.redis
    metadata:
      - name: redisHost
        value: 127.0.0.1:6379
      - name: redisDB
        value: 2
)");
  ASSERT_TRUE(r.event_bus.has_value()) << FormatDiagnostics(r.errors);
  EXPECT_TRUE(r.event_bus->cluster);
  EXPECT_EQ(r.event_bus->component_type, "pubsub.redis");
  EXPECT_EQ(Md(r.event_bus->metadata, "redisDB"), "2");

  Resource embedded = Load("apiVersion: events.openfunction.io/v1alpha1\nkind: EventBus\nmetadata:\n  name: local\n");
  ASSERT_TRUE(embedded.event_bus.has_value()) << FormatDiagnostics(embedded.errors);
  EXPECT_TRUE(embedded.event_bus->component_type.empty());

  Resource bad = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: bad
spec:
  pubsub:
    type: bindings.kafka
)");
  EXPECT_TRUE(Mentions(bad.errors, "spec.pubsub.type", "not a pub/sub component type")) << FormatDiagnostics(bad.errors);
}

TEST(TriggerDecode, OpenFunctionSample) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: my-trigger
spec:
  eventBus: "default"
  inputs:
    inputDemo:
      eventSource: "my-eventsource"
      event: "sample-two"
  subscribers:
  - condition: inputDemo
    sink:
      ref:
        apiVersion: serving.knative.dev/v1
        kind: Service
        name: function-sample-serving-qrdx8-ksvc-fwml8
        namespace: default
    topic: "metrics"
)");
  ASSERT_TRUE(r.trigger.has_value()) << FormatDiagnostics(r.errors);
  const Trigger& t = *r.trigger;
  EXPECT_EQ(t.event_bus, "default");
  ASSERT_EQ(t.inputs.size(), 1u);
  EXPECT_EQ(t.inputs[0].Topic(), "default-my-eventsource-sample-two");
  ASSERT_EQ(t.subscribers.size(), 1u);
  EXPECT_EQ(t.subscribers[0].topic, "metrics");
  EXPECT_TRUE(t.subscribers[0].sink.ref.has_value());
}

TEST(TriggerDecode, ABadConditionNamesItsLineAndColumn) {
  Resource r = Load(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: t
spec:
  eventBus: default
  inputs:
    a: {eventSource: s, event: e}
  subscribers:
  - condition: a && data.level == 
    topic: first
  - condition: a || typo
    topic: other
  - condition: a
)");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Mentions(r.errors, "spec.subscribers[0].condition", "column")) << FormatDiagnostics(r.errors);
  EXPECT_TRUE(Mentions(r.errors, "spec.subscribers[1].condition", "unknown input \"typo\""));
  EXPECT_TRUE(Mentions(r.errors, "spec.subscribers[2]", "needs a sink, a topic, or both"));
  for (const auto& d : r.errors) {
    if (d.path == "spec.subscribers[0].condition") {
      EXPECT_EQ(d.position.line, 10) << d.ToString();
    }
  }
}

}  // namespace
}  // namespace ofn::api

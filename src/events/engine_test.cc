// The events engine with its real parts: Ofn's embedded bus (SQLite), real
// HTTP sinks on loopback (ScriptedHttpServer), webhook requests as the
// gateway hands them over, and a fake clock for retries and windows.
#include "events/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "api/load.h"
#include "components/sqlite_pubsub.h"
#include "support/process.h"
#include "support/scripted_http_server.h"

namespace ofn::events {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ScriptedHttpServer;

template <typename T>
T Decode(const std::string& yaml, std::optional<T> api::Resource::*field) {
  auto docs = api::ParseManifests(yaml, "test.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  api::Resource r = api::LoadResource(std::move(docs->front()));
  EXPECT_TRUE(r.ok()) << api::FormatDiagnostics(r.errors);
  return (r.*field).value_or(T{});
}

ScriptedHttpServer::Reply Answer(int code) {
  return {.raw = "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: 0\r\n\r\n"};
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds within = 10s) {
  for (auto d = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < d;) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    components::RegisterEmbeddedPubSub(registry_);
    Start();
  }

  void Start() {
    engine_ = std::make_unique<Engine>(Engine::Options{.registry = &registry_, .data_dir = dir_.path(), .resolve = {},
                                                       .clock = &clock_});
  }

  // A webhook source "src" on the default (embedded) bus, with events "hook" and "other" unless `events` says.
  void ApplyWebhookSource(const std::string& events = "    hook: {}\n    other: {}\n") {
    auto es = Decode<api::EventSource>(R"(apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: src
spec:
  eventBus: default
  webhook:
)" + events,
                                       &api::Resource::event_source);
    ASSERT_TRUE(engine_->ApplySource(es, &bus_, {}).ok());
  }

  void ApplyTrigger(const std::string& subscribers, DeliveryKnobs knobs = {}) {
    auto t = Decode<api::Trigger>(R"(apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: trig
spec:
  eventBus: default
  inputs:
    hook: {eventSource: src, event: hook}
    other: {eventSource: src, event: other}
  subscribers:
)" + subscribers,
                                  &api::Resource::trigger);
    Status s = engine_->ApplyTrigger(t, bus_, knobs);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // POSTs body to the webhook as the gateway would; returns the status.
  int Post(const std::string& event, const std::string& body,
           std::vector<std::pair<std::string, std::string>> headers = {{"content-type", "application/json"}}) {
    std::promise<int> answered;
    engine_->Webhook("default", "src", event, headers, body, [&](int status, std::string) { answered.set_value(status); });
    return answered.get_future().get();
  }

  SubscriberStats Stats(size_t i) {
    auto all = engine_->TriggerStats("default", "trig");
    return i < all.size() ? all[i] : SubscriberStats{};
  }

  // Moves the fake clock in steps (backoffs fall due) until cond holds.
  bool AdvanceUntil(const std::function<bool()>& cond, std::chrono::milliseconds step = 500ms, int steps = 200) {
    for (int i = 0; i < steps; ++i) {
      if (WaitFor(cond, 20ms)) return true;
      clock_.Advance(step);
      engine_->Wake();
    }
    return cond();
  }

  testing::TempDir dir_;
  components::Registry registry_;
  autoscaler::FakeClock clock_;
  api::EventBus bus_{.name = "default", .ns = "default"};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, AWebhookEventReachesTheSinkAsABinaryCloudEvent) {
  ScriptedHttpServer sink([](const auto&, size_t) { return Answer(200); });
  ApplyWebhookSource();
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"" + sink.url("/in") + "\"}\n");
  ASSERT_EQ(Post("hook", R"({"level":"error","n":1})"), 202);
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() == 1; }));
  auto req = sink.requests()[0];
  EXPECT_EQ(req.target, "/in");
  EXPECT_EQ(req.header("ce-specversion"), "1.0");
  EXPECT_EQ(req.header("ce-type"), "io.openfunction.events.webhook");
  EXPECT_EQ(req.header("ce-source"), "/apis/events.openfunction.io/v1alpha1/namespaces/default/eventsources/src");
  EXPECT_EQ(req.header("ce-subject"), "hook");
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(json::parse(req.body), json::parse(R"({"level":"error","n":1})"));
  EXPECT_TRUE(WaitFor([&] { return Stats(0).delivered == 1; }));
  auto src = engine_->SourceStats("default", "src");
  ASSERT_FALSE(src.empty());
  EXPECT_EQ(src[0].published, 1u);
}

TEST_F(EngineTest, ConditionsFilterOnDataAndAttributes) {
  ScriptedHttpServer errors([](const auto&, size_t) { return Answer(200); });
  ScriptedHttpServer all([](const auto&, size_t) { return Answer(204); });
  ApplyWebhookSource();
  ApplyTrigger("  - condition: hook && data.level == \"error\"\n    sink: {uri: \"" + errors.url() +
               "\"}\n  - condition: type.startsWith(\"io.openfunction.\")\n    sink: {uri: \"" + all.url() + "\"}\n");
  for (const char* level : {"info", "error", "warn", "error"}) {
    ASSERT_EQ(Post("hook", std::string(R"({"level":")") + level + "\"}"), 202);
  }
  ASSERT_TRUE(WaitFor([&] { return Stats(0).received == 4 && Stats(1).delivered == 4; }));
  EXPECT_TRUE(WaitFor([&] { return Stats(0).delivered == 2; }));
  EXPECT_EQ(errors.requests().size(), 2u);
  EXPECT_EQ(Stats(0).filtered, 2u);
  EXPECT_EQ(all.requests().size(), 4u);
}

TEST_F(EngineTest, AnInputStaysActiveForTheWindowOnly) {
  ScriptedHttpServer sink([](const auto&, size_t) { return Answer(200); });
  ApplyWebhookSource();
  ApplyTrigger("  - condition: hook && other\n    sink: {uri: \"" + sink.url() + "\"}\n",
               DeliveryKnobs{.window = 60s});
  ASSERT_EQ(Post("hook", "1"), 202);
  ASSERT_TRUE(WaitFor([&] { return Stats(0).received == 1; }));
  EXPECT_EQ(Stats(0).matched, 0u);  // "other" never seen yet
  clock_.Advance(30s);
  ASSERT_EQ(Post("other", "2"), 202);  // hook 30 s ago: both active
  ASSERT_TRUE(WaitFor([&] { return Stats(0).received == 2; }));
  EXPECT_EQ(Stats(0).matched, 1u);
  clock_.Advance(61s);
  ASSERT_EQ(Post("hook", "3"), 202);  // other is 61 s old: inactive
  ASSERT_TRUE(WaitFor([&] { return Stats(0).received == 3; }));
  EXPECT_EQ(Stats(0).matched, 1u);
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() == 1; }));
  EXPECT_EQ(sink.requests()[0].body, "2");
}

TEST_F(EngineTest, RetriedThenDeadLetteredWithTheReasonAndCountsAddUp) {
  // The sink fails every third event for good; the others after one failure.
  std::atomic<int> calls{0};
  ScriptedHttpServer sink([&](const ScriptedHttpServer::Request& r, size_t) {
    ++calls;
    if (r.body.find("poison") != std::string::npos) return Answer(500);
    static thread_local std::set<std::string> seen;
    return seen.insert(r.body).second ? Answer(503) : Answer(200);
  });
  ApplyWebhookSource();
  DeliveryKnobs knobs;
  knobs.retry = {.max_attempts = 3, .initial_backoff = 100ms, .max_backoff = 1s};
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"" + sink.url() + "\"}\n    deadLetterTopic: dead\n", knobs);
  // Watch the dead-letter topic on the same bus.
  std::mutex mu;
  std::vector<std::string> dead;
  auto watch = engine_->Watch(bus_, "dead", "test-watch", [&](components::Message m, components::Ack ack) {
    std::lock_guard lk(mu);
    dead.push_back(m.data);
    ack(components::Outcome::kSuccess);
  });
  ASSERT_TRUE(watch.ok());
  const int kEvents = 9;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_EQ(Post("hook", i % 3 == 0 ? "\"poison " + std::to_string(i) + "\"" : std::to_string(i)), 202);
  }
  ASSERT_TRUE(AdvanceUntil([&] {
    auto s = Stats(0);
    return s.delivered + s.dead_lettered == kEvents;
  })) << "delivered " << Stats(0).delivered << " dead " << Stats(0).dead_lettered;
  auto s = Stats(0);
  EXPECT_EQ(s.delivered, 6u);
  EXPECT_EQ(s.dead_lettered, 3u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.matched, static_cast<uint64_t>(kEvents));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lk(mu);
    return dead.size() == 3;
  }));
  std::lock_guard lk(mu);
  for (const auto& d : dead) {
    json ev = json::parse(d);
    EXPECT_NE(ev["data"].get<std::string>().find("poison"), std::string::npos);
    EXPECT_NE(ev["ofnerror"].get<std::string>().find("after 3 attempt(s): status 500"), std::string::npos) << ev;
    EXPECT_EQ(ev["ofnerrordest"], "sink " + sink.url());
  }
}

// The sink is unreachable for a minute (connection refused): events are
// retried and delivered when it is back, or dead-lettered once the attempts
// run out; each event is counted exactly once either way.
TEST_F(EngineTest, ASinkDownForAMinute) {
  const int port = testing::FreePort();
  ScriptedHttpServer dead_sink([](const auto&, size_t) { return Answer(202); });
  ApplyWebhookSource();
  DeliveryKnobs patient;  // 100 ms doubling to 10 s, 15 attempts: about 80 s
  patient.retry = {.max_attempts = 15, .initial_backoff = 100ms, .max_backoff = 10s};
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"http://127.0.0.1:" + std::to_string(port) +
                   "/\"}\n    deadLetterSink: {uri: \"" + dead_sink.url() + "\"}\n",
               patient);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Post("hook", std::to_string(i)), 202);
  // A minute of fake time passes with nobody listening.
  for (int s = 0; s < 60; ++s) {
    clock_.Advance(1s);
    engine_->Wake();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(WaitFor([&] { return Stats(0).retried >= 10 * 8; })) << Stats(0).retried;
  EXPECT_EQ(Stats(0).dead_lettered, 0u);
  ScriptedHttpServer back([](const auto&, size_t) { return Answer(200); }, port);
  ASSERT_TRUE(AdvanceUntil([&] { return Stats(0).delivered == 10; }, 1s));
  EXPECT_EQ(Stats(0).dead_lettered, 0u);
  EXPECT_EQ(back.requests().size(), 10u);

  // Down for good: after the attempts, the dead-letter sink has them all.
  DeliveryKnobs impatient;
  impatient.retry = {.max_attempts = 3, .initial_backoff = 100ms, .max_backoff = 1s};
  const int gone = testing::FreePort();
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"http://127.0.0.1:" + std::to_string(gone) +
                   "/\"}\n    deadLetterSink: {uri: \"" + dead_sink.url() + "\"}\n",
               impatient);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Post("hook", std::to_string(100 + i)), 202);
  ASSERT_TRUE(AdvanceUntil([&] { return Stats(0).dead_lettered == 10; }));
  EXPECT_EQ(Stats(0).delivered, 0u);
  EXPECT_EQ(dead_sink.requests().size(), 10u);
  for (const auto& r : dead_sink.requests()) EXPECT_NE(r.header("ce-ofnerror").find("after 3 attempt(s)"), std::string::npos);
}

TEST_F(EngineTest, AFailingSubscriberNeverHoldsUpTheOthers) {
  ScriptedHttpServer broken([](const auto&, size_t) { return Answer(500); });
  ScriptedHttpServer fine([](const auto&, size_t) { return Answer(200); });
  ScriptedHttpServer dead_sink([](const auto&, size_t) { return Answer(202); });
  ApplyWebhookSource();
  DeliveryKnobs knobs;
  knobs.retry = {.max_attempts = 1000, .initial_backoff = 10s, .max_backoff = 10s};
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"" + broken.url() + "\"}\n    deadLetterSink: {uri: \"" +
                   dead_sink.url() + "\"}\n  - condition: hook\n    sink: {uri: \"" + fine.url() + "\"}\n",
               knobs);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Post("hook", std::to_string(i)), 202);
  // The broken sink's events wait in their backoff (the clock stands still); the fine one has them all.
  ASSERT_TRUE(WaitFor([&] { return Stats(1).delivered == 50; })) << Stats(1).delivered;
  EXPECT_TRUE(WaitFor([&] { return Stats(0).in_flight == 50; })) << Stats(0).in_flight;
  EXPECT_EQ(Stats(0).delivered, 0u);
}

TEST_F(EngineTest, ADeadLetterSinkGetsTheEventWithTheReason) {
  ScriptedHttpServer broken([](const auto&, size_t) { return Answer(400); });
  ScriptedHttpServer dead_sink([](const auto&, size_t) { return Answer(202); });
  ApplyWebhookSource();
  DeliveryKnobs knobs;
  knobs.retry = {.max_attempts = 2, .initial_backoff = 100ms, .max_backoff = 100ms};
  ApplyTrigger("  - condition: hook\n    sink: {uri: \"" + broken.url() + "\"}\n    deadLetterSink: {uri: \"" +
                   dead_sink.url("/dlq") + "\"}\n",
               knobs);
  ASSERT_EQ(Post("hook", R"({"order":7})"), 202);
  ASSERT_TRUE(AdvanceUntil([&] { return Stats(0).dead_lettered == 1; }));
  ASSERT_EQ(dead_sink.requests().size(), 1u);
  auto r = dead_sink.requests()[0];
  EXPECT_EQ(r.target, "/dlq");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"order":7})"));
  EXPECT_NE(r.header("ce-ofnerror").find("status 400"), std::string::npos) << r.header("ce-ofnerror");
  EXPECT_EQ(broken.requests().size(), 2u);
}

TEST_F(EngineTest, ATopicSubscriberRepublishesOnTheBus) {
  ApplyWebhookSource();
  ApplyTrigger("  - condition: hook\n    topic: metrics\n");
  std::mutex mu;
  std::vector<json> got;
  auto watch = engine_->Watch(bus_, "metrics", "reader", [&](components::Message m, components::Ack ack) {
    std::lock_guard lk(mu);
    got.push_back(json::parse(m.data));
    ack(components::Outcome::kSuccess);
  });
  ASSERT_TRUE(watch.ok());
  ASSERT_EQ(Post("hook", R"({"x":1})"), 202);
  ASSERT_EQ(Post("other", R"({"x":2})"), 202);  // an input of the trigger that this condition does not name
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lk(mu);
    return got.size() == 1;
  }));
  ASSERT_TRUE(WaitFor([&] { return Stats(0).received == 2; }));
  EXPECT_EQ(Stats(0).filtered, 1u);
  EXPECT_EQ(Stats(0).published, 1u);
  std::lock_guard lk(mu);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["data"]["x"], 1);
  EXPECT_EQ(got[0]["subject"], "hook");
}

TEST_F(EngineTest, NothingTheBusAcceptedIsLostAcrossARestart) {
  std::atomic<bool> up{false};
  ScriptedHttpServer sink([&](const auto&, size_t) { return up ? Answer(200) : Answer(503); });
  ApplyWebhookSource();
  DeliveryKnobs knobs;
  knobs.retry = {.max_attempts = 100, .initial_backoff = 1h, .max_backoff = 1h};
  const std::string subscriber = "  - condition: hook\n    sink: {uri: \"" + sink.url() + "\"}\n";
  ApplyTrigger(subscriber, knobs);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Post("hook", std::to_string(i)), 202);
  ASSERT_TRUE(WaitFor([&] { return Stats(0).in_flight == 20; }));
  engine_.reset();  // "ofn server" stops with every event unacknowledged
  up = true;
  Start();
  ApplyWebhookSource();
  ApplyTrigger(subscriber, knobs);
  ASSERT_TRUE(WaitFor([&] { return Stats(0).delivered == 20; })) << Stats(0).delivered;
  std::set<std::string> bodies;
  for (const auto& r : sink.requests()) {
    if (r.body.size() < 3) bodies.insert(r.body);
  }
  EXPECT_EQ(bodies.size(), 20u);
}

TEST_F(EngineTest, WebhookSignaturesAndMalformedCloudEvents) {
  ApplyWebhookSource("    hook:\n      secret: \"It's a Secret to Everybody\"\n");
  // GitHub's documented example: HMAC-SHA256 of "Hello, World!" under that secret.
  const std::string sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  EXPECT_EQ(Post("hook", "Hello, World!", {{"x-hub-signature-256", sig}}), 202);
  EXPECT_EQ(Post("hook", "Hello, World?", {{"x-hub-signature-256", sig}}), 401);
  EXPECT_EQ(Post("hook", "Hello, World!", {}), 401);
  EXPECT_EQ(Post("nope", "x", {{"x-hub-signature-256", sig}}), 404);
  auto src = engine_->SourceStats("default", "src");
  ASSERT_EQ(src.size(), 1u);
  EXPECT_EQ(src[0].published, 1u);
  EXPECT_EQ(src[0].rejected, 2u);
  EXPECT_FALSE(ValidSignature("k", "body", "sha1=abc"));
}

TEST_F(EngineTest, StructuredAndBinaryCloudEventsArriveAsSent) {
  ScriptedHttpServer sink([](const auto&, size_t) { return Answer(200); });
  ApplyWebhookSource();
  ApplyTrigger("  - condition: hook && extensions.tenant == \"acme\"\n    sink: {uri: \"" + sink.url() + "\"}\n");
  EXPECT_EQ(Post("hook", R"({"specversion":"1.0","id":"e-1","source":"/shop","type":"order.created","tenant":"acme","data":{"n":1}})",
                 {{"content-type", "application/cloudevents+json"}}),
            202);
  EXPECT_EQ(Post("hook", "plain text",
                 {{"ce-specversion", "1.0"}, {"ce-id", "e-2"}, {"ce-source", "/shop"}, {"ce-type", "order.paid"},
                  {"ce-tenant", "acme"}, {"content-type", "text/plain"}}),
            202);
  EXPECT_EQ(Post("hook", R"({"specversion":"1.0","id":"e-3"})", {{"content-type", "application/cloudevents+json"}}), 400);
  EXPECT_EQ(Post("hook", "x", {{"ce-specversion", "1.0"}, {"ce-id", "e-4"}}), 400);
  ASSERT_TRUE(WaitFor([&] { return sink.requests().size() == 2; }));
  std::map<std::string, ScriptedHttpServer::Request> by_id;
  for (const auto& r : sink.requests()) by_id[r.header("ce-id")] = r;
  EXPECT_EQ(by_id["e-1"].header("ce-type"), "order.created");
  EXPECT_EQ(json::parse(by_id["e-1"].body), json::parse(R"({"n":1})"));
  EXPECT_EQ(by_id["e-2"].body, "plain text");
  EXPECT_EQ(by_id["e-2"].header("content-type"), "text/plain");
  EXPECT_EQ(by_id["e-2"].header("ce-tenant"), "acme");
}

}  // namespace
}  // namespace ofn::events

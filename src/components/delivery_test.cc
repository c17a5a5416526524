#include "components/delivery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "support/scripted_http_server.h"

namespace ofn::components {
namespace {

using testing::ScriptedHttpServer;
using namespace std::chrono_literals;

// Collects the outcomes the Deliverer gives back to the "broker".
class Acks {
 public:
  Ack Make() {
    return [this](Outcome o) {
      std::lock_guard lk(mu_);
      outcomes_.push_back(o);
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds within = 10s) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, within, [&] { return outcomes_.size() >= n; });
  }
  std::vector<Outcome> outcomes() {
    std::lock_guard lk(mu_);
    return outcomes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> outcomes_;
};

Event PubSubEvent(std::string data, Ack ack) {
  Event e;
  e.kind = EventKind::kPubSub;
  e.route = "/orders";
  e.message.topic = "orders";
  e.message.data = std::move(data);
  e.message.metadata = {{"pubsubName", "bus"}};
  e.ack = std::move(ack);
  return e;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds within = 10s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

Endpoint At(const ScriptedHttpServer& s, std::string id = "i1") { return Endpoint{std::move(id), "127.0.0.1", s.port()}; }

ScriptedHttpServer::Reply Json(std::string_view body) {
  return {ScriptedHttpServer::Response(200, "OK", body, "Content-Type: application/json\r\n")};
}

TEST(RetryPolicyTest, BackoffDoublesUpToTheCap) {
  RetryPolicy p{.max_attempts = 10, .initial_backoff = 100ms, .max_backoff = 1000ms};
  EXPECT_EQ(p.Backoff(1), 100ms);
  EXPECT_EQ(p.Backoff(2), 200ms);
  EXPECT_EQ(p.Backoff(4), 800ms);
  EXPECT_EQ(p.Backoff(5), 1000ms);
  EXPECT_EQ(p.Backoff(30), 1000ms);
}

TEST(DelivererTest, PostsTheEventTheWayDaprDoesAndAcksOnSuccess) {
  ScriptedHttpServer app([](const auto&, size_t) { return Json(R"({"status":"SUCCESS"})"); });
  Acks acks;
  Deliverer d({.name = "default/f"});
  d.SetEndpoints({At(app)});
  d.Submit(PubSubEvent(R"({"specversion":"1.0"})", acks.Make()));
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kSuccess);
  auto r = app.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/orders");
  EXPECT_EQ(r.header("Content-Type"), "application/cloudevents+json");
  EXPECT_EQ(r.header("pubsubName"), "bus");
  EXPECT_EQ(r.body, R"({"specversion":"1.0"})");
  EXPECT_EQ(d.Stats().delivered, 1u);
}

TEST(DelivererTest, MetadataThatCannotBeAHeaderIsLeftOut) {
  ScriptedHttpServer app([](const auto&, size_t) { return Json(""); });
  Acks acks;
  Deliverer d({.name = "default/f"});
  d.SetEndpoints({At(app)});
  Event e = PubSubEvent("x", acks.Make());
  e.message.metadata["evil"] = "a\r\nX-Injected: 1";
  e.message.metadata["bad name"] = "v";
  e.message.metadata["__key"] = "k1";
  d.Submit(std::move(e));
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kSuccess) << "delivered, not stuck retrying";
  auto r = app.requests().at(0);
  EXPECT_EQ(r.header("__key"), "k1");
  EXPECT_EQ(r.header("evil"), "<absent>");
  EXPECT_EQ(r.header("X-Injected"), "<absent>");
}

TEST(DelivererTest, RetriesWithBackoffThenDeadLetters) {
  autoscaler::FakeClock clock;
  std::atomic<int> calls{0};
  ScriptedHttpServer app([&](const auto&, size_t) {
    ++calls;
    return Json(R"({"status":"RETRY"})");
  });
  Acks acks;
  std::mutex mu;
  std::vector<std::string> dead;
  Deliverer d({.name = "default/f",
               .retry = {.max_attempts = 3, .initial_backoff = 1000ms, .max_backoff = 10s},
               .clock = &clock});
  d.SetEndpoints({At(app)});
  Event e = PubSubEvent("poison", acks.Make());
  e.dead_letter = [&](const Message& m, const std::string&) {
    std::lock_guard lk(mu);
    dead.push_back(m.data);
    return Status::Ok();
  };
  d.Submit(std::move(e));
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().retried == 1; }));
  // The second attempt waits for its backoff on the injected clock.
  clock.Advance(999ms);
  d.Wake();
  EXPECT_FALSE(acks.WaitFor(1, 100ms));
  EXPECT_EQ(calls.load(), 1);
  clock.Advance(1ms);
  d.Wake();
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().retried == 2; }));
  clock.Advance(2000ms);
  d.Wake();
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(acks.outcomes()[0], Outcome::kSuccess);  // handled: it is in the dead-letter topic
  std::lock_guard lk(mu);
  EXPECT_EQ(dead, std::vector<std::string>{"poison"});
  EXPECT_EQ(d.Stats().dead_lettered, 1u);
  EXPECT_EQ(d.Stats().retried, 2u);
}

TEST(DelivererTest, DropWithoutDeadLetterTopicIsAckedAsDropped) {
  ScriptedHttpServer app([](const auto&, size_t) { return Json(R"({"status":"DROP"})"); });
  Acks acks;
  Deliverer d({.name = "default/f"});
  d.SetEndpoints({At(app)});
  d.Submit(PubSubEvent("x", acks.Make()));
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kDrop);
  EXPECT_EQ(app.requests().size(), 1u);  // DROP is final: no retry
  EXPECT_EQ(d.Stats().dropped, 1u);
}

TEST(DelivererTest, FailedDeadLetterPublishLeavesTheEventWithTheBroker) {
  ScriptedHttpServer app([](const auto&, size_t) { return Json(R"({"status":"DROP"})"); });
  Acks acks;
  Deliverer d({.name = "default/f"});
  d.SetEndpoints({At(app)});
  Event e = PubSubEvent("x", acks.Make());
  e.dead_letter = [](const Message&, const std::string&) { return Status::Unavailable("broker down"); };
  d.Submit(std::move(e));
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kRetry);
}

TEST(DelivererTest, EventsWaitForAnInstanceAndAskForOne) {
  std::atomic<int> demands{0};
  Acks acks;
  Deliverer d({.name = "default/f", .on_demand = [&] { ++demands; }});
  d.Submit(PubSubEvent("a", acks.Make()));
  d.Submit(PubSubEvent("b", acks.Make()));
  EXPECT_EQ(demands.load(), 1);  // once per stretch without instances
  EXPECT_EQ(d.Held(), 2u);
  ScriptedHttpServer app([](const auto&, size_t) { return Json(""); });
  d.SetEndpoints({At(app)});
  ASSERT_TRUE(acks.WaitFor(2));
  // Both go out at once, on two of the instance's call slots: either may arrive first.
  std::multiset<std::string> bodies;
  for (const auto& r : app.requests()) bodies.insert(r.body);
  EXPECT_EQ(bodies, (std::multiset<std::string>{"a", "b"}));
  EXPECT_EQ(d.Held(), 0u);
}

TEST(DelivererTest, AnInstanceThatVanishesDoesNotUseUpAttempts) {
  Acks acks;
  int dead_port = testing::ScriptedHttpServer([](const auto&, size_t) { return Json(""); }).port();
  Deliverer d({.name = "default/f", .retry = {.max_attempts = 1}});
  d.SetEndpoints({Endpoint{"gone", "127.0.0.1", dead_port}});
  d.Submit(PubSubEvent("survivor", acks.Make()));
  // Nobody listens: the event stays held, not dropped.
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().unreachable >= 2; }));
  EXPECT_TRUE(acks.outcomes().empty());
  ScriptedHttpServer app([](const auto&, size_t) { return Json(""); });
  d.SetEndpoints({At(app, "i2")});
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kSuccess);
  EXPECT_EQ(app.requests().at(0).body, "survivor");
}

TEST(DelivererTest, AtMostPerInstanceCallsInFlight) {
  // The first two calls never get an answer (until the Deliverer's timeout);
  // meanwhile the other three must wait rather than open more calls.
  ScriptedHttpServer app([&](const auto&, size_t index) {
    if (index < 2) return ScriptedHttpServer::Reply{"", false, true};
    return Json("");
  });
  Acks acks;
  Deliverer d({.name = "default/f", .per_instance = 2, .call_timeout = 500ms});
  d.SetEndpoints({At(app)});
  for (int i = 0; i < 5; ++i) d.Submit(PubSubEvent(std::to_string(i), acks.Make()));
  ASSERT_TRUE(app.WaitForRequests(2));
  auto stats = d.Stats();
  EXPECT_EQ(stats.in_flight, 2u);
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_EQ(app.requests().size(), 2u);
  // The timed-out calls count as failed attempts and go again.
  ASSERT_TRUE(acks.WaitFor(5));
  for (auto o : acks.outcomes()) EXPECT_EQ(o, Outcome::kSuccess);
  EXPECT_EQ(d.Stats().retried, 2u);
}

// Answers a bulk call with the given status for each entry, in order ("" leaves it out).
ScriptedHttpServer::Reply Statuses(const std::string& body, const std::vector<std::string>& statuses) {
  auto entries = nlohmann::json::parse(body)["entries"];
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < entries.size() && i < statuses.size(); ++i) {
    if (!statuses[i].empty()) out.push_back({{"entryId", entries[i]["entryId"]}, {"status", statuses[i]}});
  }
  return Json(nlohmann::json{{"statuses", out}}.dump());
}

std::vector<std::string> EventIds(const std::string& bulk_body) {
  std::vector<std::string> ids;
  auto body = nlohmann::json::parse(bulk_body);
  for (const auto& e : body["entries"]) ids.push_back(e["event"]["id"]);
  return ids;
}

Event BulkEvent(const std::string& id, Ack ack) {
  Event e = PubSubEvent(R"({"specversion":"1.0","id":")" + id + R"("})", std::move(ack));
  e.bulk = 10;
  e.message.metadata["__key"] = "k-" + id;
  return e;
}

// Holds the app's first answer back until the test has queued more events
// (at most 10 s, so a failed test still ends).
class Gate {
 public:
  void Wait() {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, 10s, [&] { return open_; });
  }
  void Open() {
    {
      std::lock_guard lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(DelivererTest, BulkRoutesGetTheEventsWaitingInOneCallAndEachEntrySettlesAlone) {
  Gate gate;
  ScriptedHttpServer app([&](const ScriptedHttpServer::Request& r, size_t index) {
    if (index == 0) {  // the first event goes alone, at once; hold it while the others queue up
      gate.Wait();
      return Statuses(r.body, {"SUCCESS"});
    }
    if (index == 1) return Statuses(r.body, {"SUCCESS", "RETRY", "DROP", ""});
    return Statuses(r.body, {"SUCCESS", "SUCCESS"});
  });
  Acks acks;
  Deliverer d({.name = "default/f",
               .per_instance = 1,
               .retry = {.max_attempts = 3, .initial_backoff = 1ms, .max_backoff = 1ms}});
  d.SetEndpoints({At(app)});
  d.Submit(BulkEvent("e1", acks.Make()));
  ASSERT_TRUE(app.WaitForRequests(1));
  for (const char* id : {"e2", "e3", "e4", "e5"}) d.Submit(BulkEvent(id, acks.Make()));
  gate.Open();
  ASSERT_TRUE(acks.WaitFor(5));

  auto reqs = app.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(EventIds(reqs[0].body), (std::vector<std::string>{"e1"}));
  EXPECT_EQ(EventIds(reqs[1].body), (std::vector<std::string>{"e2", "e3", "e4", "e5"}));
  EXPECT_EQ(EventIds(reqs[2].body), (std::vector<std::string>{"e3", "e5"}))
      << "RETRY and a missing status go again, in order";
  EXPECT_EQ(reqs[1].target, "/orders");
  EXPECT_EQ(reqs[1].header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(body["type"], "com.dapr.event.sent.bulk");
  EXPECT_EQ(body["topic"], "orders");
  EXPECT_EQ(body["pubsubname"], "bus");
  EXPECT_EQ(body["entries"][0]["contentType"], "application/cloudevents+json");
  EXPECT_EQ(body["entries"][0]["metadata"]["__key"], "k-e2");
  EXPECT_EQ(body["entries"][0]["metadata"]["pubsubName"], "bus");
  auto stats = d.Stats();
  EXPECT_EQ(stats.delivered, 4u);
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.calls, 3u);
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST(DelivererTest, WhileACallIsInFlightABulkCallWaitsToFillUpWithinMaxAwait) {
  // Two instances (a test server answers one request at a time): `held`
  // keeps the first call in flight while `busy` takes the others.
  Gate gate;
  ScriptedHttpServer held([&](const ScriptedHttpServer::Request& r, size_t) {
    gate.Wait();
    return Statuses(r.body, {"SUCCESS"});
  });
  ScriptedHttpServer busy([&](const ScriptedHttpServer::Request& r, size_t) {
    return Statuses(r.body, std::vector<std::string>(4, "SUCCESS"));
  });
  Acks acks;
  Deliverer d({.name = "default/f", .per_instance = 1});
  d.SetEndpoints({At(held, "held"), At(busy, "busy")});
  auto event = [&](const std::string& id, std::chrono::milliseconds await) {
    Event e = BulkEvent(id, acks.Make());
    e.bulk = 4;
    e.bulk_await = await;
    return e;
  };
  d.Submit(event("e1", 10s));  // nothing in flight: goes at once, alone
  ASSERT_TRUE(held.WaitForRequests(1));
  // e1 is in flight, so the next call waits for a full load (here up to
  // 10 s): arriving one at a time, e2..e5 still travel together.
  for (const char* id : {"e2", "e3", "e4", "e5"}) d.Submit(event(id, 10s));
  ASSERT_TRUE(busy.WaitForRequests(1));
  EXPECT_EQ(EventIds(busy.requests()[0].body), (std::vector<std::string>{"e2", "e3", "e4", "e5"}));
  ASSERT_TRUE(acks.WaitFor(4));
  // With a short wait, a call that is not full goes when the wait ends.
  auto start = std::chrono::steady_clock::now();
  d.Submit(event("e6", 20ms));
  ASSERT_TRUE(busy.WaitForRequests(2));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(EventIds(busy.requests()[1].body), (std::vector<std::string>{"e6"}));
  EXPECT_EQ(held.requests().size(), 1u);
  gate.Open();
  ASSERT_TRUE(acks.WaitFor(6));
  EXPECT_EQ(d.Stats().delivered, 6u);
  EXPECT_EQ(d.Stats().calls, 3u);
}

TEST(DelivererTest, AnInstanceHasAtMostTwoBulkCallsInFlight) {
  Acks acks;
  Deliverer d({.name = "default/f", .per_instance = 8});
  // Declared after the Deliverer, so destroyed first: closing the held
  // connections ends the calls still in flight.
  ScriptedHttpServer app([&](const ScriptedHttpServer::Request& r, size_t index) {
    if (index == 0) return Statuses(r.body, {"SUCCESS"});
    return ScriptedHttpServer::Reply{.hang = true};  // held: stays in flight
  });
  d.SetEndpoints({At(app)});
  d.Submit(BulkEvent("e0", acks.Make()));  // shows that the subscription takes bulk calls
  ASSERT_TRUE(acks.WaitFor(1));
  for (int i = 1; i <= 40; ++i) d.Submit(BulkEvent("e" + std::to_string(i), acks.Make()));
  // Eight call slots, but two bulk calls carry what they can and the rest waits for them.
  ASSERT_TRUE(app.WaitForRequests(3));
  ASSERT_TRUE(WaitUntil([&] {
    auto s = d.Stats();
    return s.in_flight + s.queued == 40 && s.queued >= 20;
  }));
  EXPECT_EQ(app.requests().size(), 3u);
  EXPECT_EQ(d.Stats().calls, 1u);
}

TEST(DelivererTest, BulkCallsCarryRawBytesAndDropWhatIsNotACloudEvent) {
  Gate gate;
  ScriptedHttpServer app([&](const ScriptedHttpServer::Request& r, size_t index) {
    if (index == 0) gate.Wait();
    return Statuses(r.body, {"SUCCESS", "SUCCESS", "SUCCESS"});
  });
  Acks acks;
  std::vector<std::string> dead;
  Deliverer d({.name = "default/f", .per_instance = 1});
  d.SetEndpoints({At(app)});
  d.Submit(BulkEvent("e1", acks.Make()));
  ASSERT_TRUE(app.WaitForRequests(1));
  Event raw = BulkEvent("x", acks.Make());
  raw.raw = true;
  raw.message.data = "raw bytes";
  d.Submit(std::move(raw));
  Event broken = BulkEvent("x", acks.Make());
  broken.message.data = R"({"id":"e3"} trailing)";
  broken.dead_letter = [&dead](const Message& m, const std::string&) {
    dead.push_back(m.data);
    return Status::Ok();
  };
  d.Submit(std::move(broken));
  gate.Open();
  ASSERT_TRUE(acks.WaitFor(3));
  auto reqs = app.requests();
  ASSERT_EQ(reqs.size(), 2u);
  auto entries = nlohmann::json::parse(reqs[1].body)["entries"];
  ASSERT_EQ(entries.size(), 1u) << "the broken event is not sent, so it cannot spoil the call";
  EXPECT_EQ(entries[0]["event"], "cmF3IGJ5dGVz");
  EXPECT_EQ(entries[0]["contentType"], "application/octet-stream");
  EXPECT_EQ(dead, (std::vector<std::string>{R"({"id":"e3"} trailing)"}));
  EXPECT_EQ(d.Stats().dead_lettered, 1u);
  EXPECT_EQ(d.Stats().delivered, 2u);
}

TEST(DelivererTest, AnUnansweredBulkCallSendsItsEventsAgainInOrder) {
  Acks acks;
  Deliverer d({.name = "default/f", .per_instance = 1});
  int dead_port = testing::ScriptedHttpServer([](const auto&, size_t) { return Json(""); }).port();
  d.SetEndpoints({Endpoint{"gone", "127.0.0.1", dead_port}});
  for (const char* id : {"e1", "e2", "e3"}) d.Submit(BulkEvent(id, acks.Make()));
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().unreachable >= 2; }));
  ScriptedHttpServer app([&](const ScriptedHttpServer::Request& r, size_t) {
    return Statuses(r.body, {"SUCCESS", "SUCCESS", "SUCCESS"});
  });
  d.SetEndpoints({At(app)});
  ASSERT_TRUE(acks.WaitFor(3));
  for (auto o : acks.outcomes()) EXPECT_EQ(o, Outcome::kSuccess);
  std::vector<std::string> seen;
  for (const auto& r : app.requests()) {
    for (auto& id : EventIds(r.body)) seen.push_back(id);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"e1", "e2", "e3"}));
  EXPECT_EQ(d.Stats().retried, 0u) << "no answer is not an attempt";
}

TEST(DelivererTest, DestructionHandsHeldEventsBackForRedelivery) {
  Acks acks;
  {
    Deliverer d({.name = "default/f"});
    d.Submit(PubSubEvent("a", acks.Make()));
  }
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_EQ(acks.outcomes()[0], Outcome::kRetry);
}

}  // namespace
}  // namespace ofn::components

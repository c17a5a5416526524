#include "components/host.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/scripted_http_server.h"

namespace ofn::components {
namespace {

using testing::ScriptedHttpServer;
using namespace std::chrono_literals;

// A fake in-memory pub/sub (type "pubsub.fake") that records what it was
// asked to publish and lets the test push messages to subscribers and see
// their acks. Stands in for a broker so the host's wiring is tested alone;
// the real brokers have their own tests.
struct FakeBus {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<PublishRequest> published;
  std::vector<std::pair<std::string, MessageHandler>> subscribers;  // topic, handler
  std::vector<Outcome> acks;
  int64_t backlog = 0;

  void Push(const std::string& topic, std::string data) {
    MessageHandler h;
    {
      std::lock_guard lk(mu);
      for (auto& [t, handler] : subscribers)
        if (t == topic) h = handler;
    }
    ASSERT_TRUE(h) << "nobody subscribed to " << topic;
    h(Message{topic, std::move(data), {}}, [this](Outcome o) {
      std::lock_guard lk(mu);
      acks.push_back(o);
      cv.notify_all();
    });
  }
  bool WaitForAcks(size_t n) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return acks.size() >= n; });
  }
};

class FakePubSub : public PubSub {
 public:
  explicit FakePubSub(FakeBus* bus) : bus_(bus) {}
  Status Publish(const PublishRequest& r) override {
    std::lock_guard lk(bus_->mu);
    bus_->published.push_back(r);
    return Status::Ok();
  }
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& r, MessageHandler h) override {
    struct Sub : Subscription {
      FakeBus* bus;
      Result<int64_t> Backlog() override { return bus->backlog; }
    };
    std::lock_guard lk(bus_->mu);
    bus_->subscribers.emplace_back(r.topic, std::move(h));
    auto s = std::make_unique<Sub>();
    s->bus = bus_;
    return std::unique_ptr<Subscription>(std::move(s));
  }

 private:
  FakeBus* bus_;
};

// A publish through the Dapr API, as an instance would send it.
int Publish(DaprApi& api, const std::string& target, const std::string& token) {
  HttpRequest req;
  req.set_method("POST");
  req.set_target(target);
  if (!token.empty()) req.add_header("dapr-api-token", token);
  req.set_body("hi");
  HttpResponse resp;
  api.Handle(req, resp);
  return resp.status();
}

ScriptedHttpServer::Reply Json(std::string_view body) {
  return {ScriptedHttpServer::Response(200, "OK", body, "Content-Type: application/json\r\n")};
}

class HostTest : public ::testing::Test {
 protected:
  HostTest() {
    registry_.Add("pubsub.fake", [this](const ComponentSpec& spec) -> Result<Component> {
      if (!spec.metadata.Has("address")) return Status::InvalidArgument("metadata address is required");
      Component c;
      c.pubsub = std::make_shared<FakePubSub>(&bus_);
      return c;
    });
  }

  FunctionComponents Subscriber() {
    FunctionComponents f;
    f.ns = "default";
    f.name = "sub";
    f.inline_specs["bus"] = R"({"type":"pubsub.fake","version":"v1","metadata":[{"name":"address","value":"x"}]})";
    f.inputs.push_back(FunctionInput{"bus", "pubsub.fake", "orders", "in"});
    f.on_demand = [this] { ++demands_; };
    return f;
  }

  testing::TempDir dir_{"ofn-host"};
  FakeBus bus_;
  Registry registry_;
  DaprApi api_{DaprApiOptions{}};
  ComponentHost host_{{.data_dir = dir_.path(), .registry = &registry_, .api = &api_, .backlog_interval = {}}};
  std::atomic<int> demands_{0};
};

TEST_F(HostTest, EventsWaitAtZeroThenFollowTheRoutesTheAppDeclares) {
  ScriptedHttpServer app([](const ScriptedHttpServer::Request& r, size_t) {
    if (r.target == "/dapr/subscribe") {
      return Json(R"([{"pubsubname":"bus","topic":"orders","route":"/in","deadLetterTopic":"orders-dead"}])");
    }
    if (r.body == "poison") return Json(R"({"status":"DROP"})");
    return Json(R"({"status":"SUCCESS"})");
  });
  auto token = host_.ApplyFunction(Subscriber());
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_FALSE(token->empty());

  bus_.Push("orders", "first");
  EXPECT_EQ(demands_.load(), 1) << "an event at zero asks for an instance";
  host_.SetEndpoints("default/sub", {Endpoint{"sub-1", "127.0.0.1", app.port()}});
  ASSERT_TRUE(bus_.WaitForAcks(1));
  bus_.Push("orders", "poison");
  ASSERT_TRUE(bus_.WaitForAcks(2));

  auto reqs = app.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/dapr/subscribe");
  EXPECT_EQ(reqs[1].target, "/in");
  EXPECT_EQ(reqs[1].body, "first");
  EXPECT_EQ(reqs[1].header("pubsubName"), "bus");
  std::lock_guard lk(bus_.mu);
  EXPECT_EQ(bus_.acks, (std::vector<Outcome>{Outcome::kSuccess, Outcome::kSuccess}));
  ASSERT_EQ(bus_.published.size(), 1u) << "the dropped event went to the dead-letter topic";
  EXPECT_EQ(bus_.published[0].topic, "orders-dead");
  EXPECT_EQ(bus_.published[0].data, "poison");
}

TEST_F(HostTest, RawPayloadSubscriptionsGetACloudEventMadeAroundTheBytes) {
  ScriptedHttpServer app([](const ScriptedHttpServer::Request& r, size_t) {
    if (r.target == "/dapr/subscribe") {
      return Json(R"([{"pubsubname":"bus","topic":"orders","route":"in","metadata":{"rawPayload":"true"}}])");
    }
    return Json("");
  });
  ASSERT_TRUE(host_.ApplyFunction(Subscriber()).ok());
  host_.SetEndpoints("default/sub", {Endpoint{"sub-1", "127.0.0.1", app.port()}});
  bus_.Push("orders", "not json");
  ASSERT_TRUE(bus_.WaitForAcks(1));
  auto reqs = app.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/in");
  auto ce = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(ce["data_base64"], "bm90IGpzb24=");
  EXPECT_EQ(ce["datacontenttype"], "application/octet-stream");
  EXPECT_EQ(ce["type"], "com.dapr.event.sent");
  EXPECT_EQ(ce["topic"], "orders");
  EXPECT_EQ(ce["pubsubname"], "bus");
  EXPECT_FALSE(ce["id"].get<std::string>().empty());
}

TEST_F(HostTest, BulkSubscriptionsGetDaprBulkCalls) {
  ScriptedHttpServer app([](const ScriptedHttpServer::Request& r, size_t) {
    if (r.target == "/dapr/subscribe") {
      return Json(R"([{"pubsubname":"bus","topic":"orders","route":"/in",
                       "bulkSubscribe":{"enabled":true,"maxMessagesCount":2,"maxAwaitDurationMs":1000}}])");
    }
    auto id = nlohmann::json::parse(r.body)["entries"][0]["entryId"];
    return Json(nlohmann::json{{"statuses", {{{"entryId", id}, {"status", "SUCCESS"}}}}}.dump());
  });
  ASSERT_TRUE(host_.ApplyFunction(Subscriber()).ok());
  host_.SetEndpoints("default/sub", {Endpoint{"sub-1", "127.0.0.1", app.port()}});
  bus_.Push("orders", R"({"specversion":"1.0","id":"a"})");
  ASSERT_TRUE(bus_.WaitForAcks(1)) << "a lone event goes at once, without waiting maxAwaitDurationMs";
  auto reqs = app.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/in");
  auto body = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(body["type"], "com.dapr.event.sent.bulk");
  EXPECT_EQ(body["entries"][0]["event"]["id"], "a");
  EXPECT_NE(host_.Metrics().find(R"(ofn_event_calls_total{namespace="default",name="sub"} 1)"), std::string::npos)
      << host_.Metrics();
  std::lock_guard lk(bus_.mu);
  EXPECT_EQ(bus_.acks, (std::vector<Outcome>{Outcome::kSuccess}));
}

TEST_F(HostTest, AbsurdBulkSettingsFromTheAppAreBounded) {
  ScriptedHttpServer app([](const ScriptedHttpServer::Request& r, size_t) {
    if (r.target == "/dapr/subscribe") {
      return Json(R"([{"pubsubname":"bus","topic":"orders","route":"/in","bulkSubscribe":{"enabled":true,
                       "maxMessagesCount":9223372036854775807,"maxAwaitDurationMs":9223372036854775807}}])");
    }
    auto id = nlohmann::json::parse(r.body)["entries"][0]["entryId"];
    return Json(nlohmann::json{{"statuses", {{{"entryId", id}, {"status", "SUCCESS"}}}}}.dump());
  });
  ASSERT_TRUE(host_.ApplyFunction(Subscriber()).ok());
  host_.SetEndpoints("default/sub", {Endpoint{"sub-1", "127.0.0.1", app.port()}});
  bus_.Push("orders", R"({"specversion":"1.0","id":"a"})");
  ASSERT_TRUE(bus_.WaitForAcks(1)) << "the event is delivered in a bulk call as usual";
  EXPECT_EQ(nlohmann::json::parse(app.requests().back().body)["type"], "com.dapr.event.sent.bulk");
}

TEST_F(HostTest, EachFunctionReachesItsComponentsWithItsOwnToken) {
  auto token = host_.ApplyFunction(Subscriber());
  ASSERT_TRUE(token.ok());
  auto call = [&](const std::string& tok) { return Publish(api_, "/v1.0/publish/bus/orders", tok); };
  EXPECT_EQ(call(*token), 204);
  EXPECT_EQ(call("not-a-token"), 401);
  host_.RemoveFunction("default/sub");
  EXPECT_EQ(call(*token), 401) << "a removed function's token is revoked";
}

TEST_F(HostTest, ProblemsNameTheComponentAndInput) {
  FunctionComponents f = Subscriber();
  f.inline_specs["bus"] = R"({"type":"pubsub.fake","version":"v1","metadata":[]})";
  auto r = host_.ApplyFunction(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("metadata address is required"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("bus"), std::string::npos);

  f = Subscriber();
  f.inputs[0].component = "nothere";
  r = host_.ApplyFunction(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input in: no component named nothere"), std::string::npos);
}

TEST_F(HostTest, StandaloneComponentsServeTheirNamespaceAndTokenlessCallers) {
  ASSERT_TRUE(host_.ApplyComponent("default", "shared",
                                   R"({"type":"pubsub.fake","version":"v1","metadata":[{"name":"address","value":"x"}]})",
                                   {})
                  .ok());
  EXPECT_EQ(Publish(api_, "/v1.0/publish/shared/t", ""), 204);
  auto bad = host_.ApplyComponent("default", "odd", R"({"type":"pubsub.nope","version":"v1"})", {});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("unknown type pubsub.nope"), std::string::npos);
}

TEST_F(HostTest, BacklogIsWhatTheBrokerReports) {
  ASSERT_TRUE(host_.ApplyFunction(Subscriber()).ok());
  bus_.backlog = 42;
  host_.RefreshBacklogs();
  EXPECT_EQ(host_.Backlog("default/sub"), 42);
  EXPECT_EQ(host_.Backlog("default/none"), 0);
}

}  // namespace
}  // namespace ofn::components

// An OpenFunction-style example run as an Async function: Dapr's app callbacks
// over real HTTP, in a real process.
#include <signal.h>

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "net/http_server.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::testing {
namespace {

using namespace std::chrono_literals;

std::string StatusOf(const RawResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("status") ? j["status"].get<std::string>() : "<" + r.body + ">";
}

TEST(AsyncForwarder, ReceivesBindingAndPubSubEvents) {
  std::mutex mu;
  std::vector<std::string> received;
  auto sink = net::HttpServer::Start({.host = "127.0.0.1", .port = 0}, [&](HttpRequest& req, HttpResponse& resp) {
    std::lock_guard lk(mu);
    received.push_back(std::string(req.body()));
    resp = HttpResponse(200, "stored");
  });
  ASSERT_TRUE(sink.ok());
  nlohmann::json fc = {
      {"name", "forwarder"},
      {"version", "v1"},
      {"runtime", "Async"},
      {"inputs",
       {{"in", {{"componentName", "kafka-in"}, {"componentType", "bindings.kafka"}, {"uri", "sample-topic"}}},
        {"orders", {{"componentName", "redis-pubsub"}, {"componentType", "pubsub.redis"}, {"uri", "orders"}}}}},
      {"outputs",
       {{"sink",
         {{"componentName", "sink"},
          {"componentType", "bindings.http"},
          {"operation", "post"},
          {"metadata", {{"url", "http://127.0.0.1:" + std::to_string((*sink)->port()) + "/in"}}}}}}}};

  TempDir dir("ofn-async-example");
  int port = FreePort();
  ProcessOptions o;
  o.argv = {OFN_FORWARDER};
  o.env = {{"FUNC_CONTEXT", fc.dump()}, {"PORT", std::to_string(port)}};
  o.unset_env = {"FUNCTION_TARGET", "OFN_LOG_FORMAT"};
  o.output_file = dir.Sub("output.log");
  auto p = Process::Start(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::unique_ptr<Process> process = std::move(*p);
  Status up = process->WaitForPort(port, After(10s));
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << process->Output();

  auto subs = RoundTrip(port, Get("/dapr/subscribe").Header("Content-Type", "application/json"), After(5s));
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(subs->status, 200);
  EXPECT_EQ(nlohmann::json::parse(subs->body),
            nlohmann::json::parse(R"([{"pubsubname":"redis-pubsub","topic":"orders","route":"/orders",
                "bulkSubscribe":{"enabled":true,"maxMessagesCount":32,"maxAwaitDurationMs":1}}])"));

  auto binding = RoundTrip(port, Post("/kafka-in", "hello", "application/json"), After(5s));
  ASSERT_TRUE(binding.ok());
  EXPECT_EQ(binding->status, 200) << binding->Describe();

  std::string envelope =
      R"({"specversion":"1.0","id":"e1","source":"Dapr","type":"com.dapr.event.sent","datacontenttype":"text/plain",)"
      R"("topic":"orders","pubsubname":"redis-pubsub","data":"abc"})";
  auto event = RoundTrip(port, Post("/orders", envelope, "application/cloudevents+json"), After(5s));
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->status, 200);
  EXPECT_EQ(StatusOf(*event), "SUCCESS");
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(received, (std::vector<std::string>{"HELLO", "ABC"}));
  }
  auto poison = RoundTrip(port, Post("/orders", "{oops", "application/cloudevents+json"), After(5s));
  ASSERT_TRUE(poison.ok());
  EXPECT_EQ(StatusOf(*poison), "DROP");
  auto own_path = RoundTrip(port, Post("/", "x"), After(5s));
  ASSERT_TRUE(own_path.ok());
  EXPECT_EQ(own_path->status, 404);

  // With the output gone the function fails: a retry for pub/sub, 500 for bindings.
  (*sink)->Shutdown(1s);
  sink->reset();
  auto retry = RoundTrip(port, Post("/orders", envelope, "application/cloudevents+json"), After(10s));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->status, 200);
  EXPECT_EQ(StatusOf(*retry), "RETRY");
  auto failed = RoundTrip(port, Post("/in", "again"), After(10s));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 500);

  ASSERT_TRUE(process->Signal(SIGTERM).ok());
  auto st = process->Wait(After(10s));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->ToString() << "\n" << process->Output();
}

}  // namespace
}  // namespace ofn::testing

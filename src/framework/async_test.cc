// The Async runtime: Dapr's app callbacks served by the Dispatcher.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "framework/dispatcher.h"
#include "framework/dispatcher_testing.h"
#include "ofn/plugin.h"

namespace ofn {
namespace {

using testing::Call;
using testing::Invoke;

Component Input(std::string name, std::string type, std::string uri = "") {
  Component c;
  c.component_name = std::move(name);
  c.component_type = std::move(type);
  c.uri = std::move(uri);
  return c;
}

FunctionContext AsyncContext() {
  FunctionContext fc;
  fc.name = "f";
  fc.runtime = "Async";
  fc.inputs["cron"] = Input("cron-abc12", "bindings.cron");
  fc.inputs["orders"] = Input("redis-pubsub", "pubsub.redis", "orders-topic");
  fc.inputs["kafka"] = Input("kafka-xyz", "bindings.kafka", "sample-topic");
  return fc;
}

Result<std::unique_ptr<Dispatcher>> Create(std::vector<Function> fns, FunctionContext fc) {
  DispatcherOptions o;
  o.single = fns.size() == 1;
  o.functions = std::move(fns);
  o.context = std::move(fc);
  return Dispatcher::Create(std::move(o));
}

// What the function saw on its last call.
struct Seen {
  int calls = 0;
  std::string input_name, input, event_id, header;
  bool had_event = false;
  // Bulk deliveries: more of the context, and every call's input in order.
  std::string body, content_type, pubsub_header, event_source, event_type, data_content_type;
  std::vector<std::string> inputs;
};

std::string HeaderOr(const HttpRequest* req, std::string_view name) {
  auto h = req ? req->header(name) : std::nullopt;
  return h ? std::string(*h) : "";
}

// A function that answers with the code given in the event data ("500",
// "500-noretry", "throw"), and 200 otherwise.
Function Recorder(Seen& seen, std::string name = "f") {
  return OpenFunction(std::move(name), [&seen](Context& ctx, std::string_view input) {
    ++seen.calls;
    seen.input_name = std::string(ctx.input_name());
    seen.input = std::string(input);
    seen.had_event = ctx.cloud_event() != nullptr;
    seen.event_id = seen.had_event ? ctx.cloud_event()->id() : "";
    seen.event_source = seen.had_event ? ctx.cloud_event()->source() : "";
    seen.event_type = seen.had_event ? ctx.cloud_event()->type() : "";
    seen.data_content_type = seen.had_event ? ctx.cloud_event()->data_content_type().value_or("") : "";
    seen.header = HeaderOr(ctx.http_request(), "__key");
    seen.pubsub_header = HeaderOr(ctx.http_request(), "pubsubName");
    seen.content_type = HeaderOr(ctx.http_request(), "Content-Type");
    seen.body = ctx.http_request() ? std::string(ctx.http_request()->body()) : "";
    seen.inputs.emplace_back(input);
    if (input == "throw") throw std::runtime_error("boom");
    if (input == "500") return Out{500, "failed", {}};
    if (input == "500-noretry") return Out{500, {}, {{"retry", "false"}}};
    return Out{200, "done:" + std::string(input), {}};
  });
}

std::unique_ptr<Dispatcher> Make(Seen& seen, FunctionContext fc = AsyncContext()) {
  auto d = Create({Recorder(seen)}, std::move(fc));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(*d);
}

std::string Envelope(std::string_view data_json, std::string id = "ev-1") {
  return R"({"specversion":"1.0","id":")" + id +
         R"(","source":"Dapr","type":"com.dapr.event.sent","datacontenttype":"application/json",)"
         R"("topic":"orders-topic","pubsubname":"redis-pubsub","traceid":"00-1-2-01","data":)" +
         std::string(data_json) + "}";
}

// Dapr's envelope of a text/plain publish: data is the text itself.
std::string TextEnvelope(std::string_view text) {
  return R"({"specversion":"1.0","id":"t1","source":"Dapr","type":"com.dapr.event.sent",)"
         R"("datacontenttype":"text/plain","topic":"orders-topic","pubsubname":"redis-pubsub","data":")" +
         std::string(text) + "\"}";
}

Call PubSub(std::string body, std::string content_type = "application/cloudevents+json") {
  return {"POST", "/orders", {{"Content-Type", std::move(content_type)}, {"pubsubName", "redis-pubsub"}},
          std::move(body)};
}

std::string StatusOf(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body(), nullptr, false);
  return j.is_object() && j.contains("status") ? j["status"].get<std::string>() : "<" + r.body() + ">";
}

TEST(Async, SubscribeListsEveryPubSubInputWithBulkSubscribe) {
  Seen seen;
  FunctionContext fc = AsyncContext();
  fc.inputs["raw"] = Input("nats", "pubsub.jetstream", "raw-topic");
  fc.inputs["raw"].metadata["rawPayload"] = "true";
  auto d = Make(seen, fc);
  HttpResponse r = Invoke(*d, {"GET", "/dapr/subscribe", {{"Content-Type", "application/json"}}});
  ASSERT_EQ(r.status(), 200);
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body()),
            nlohmann::json::parse(R"([{"pubsubname":"redis-pubsub","topic":"orders-topic","route":"/orders",
                                       "bulkSubscribe":{"enabled":true,"maxMessagesCount":32,
                                                        "maxAwaitDurationMs":1}},
                                      {"pubsubname":"nats","topic":"raw-topic","route":"/raw",
                                       "metadata":{"rawPayload":"true"},
                                       "bulkSubscribe":{"enabled":true,"maxMessagesCount":32,
                                                        "maxAwaitDurationMs":1}}])"));
  EXPECT_EQ(seen.calls, 0);
}

TEST(Async, SubscribeIsAnEmptyListWithoutPubSubInputs) {
  Seen seen;
  FunctionContext fc;
  fc.name = "f";
  fc.runtime = "Async";
  fc.inputs["cron"] = Input("cron-abc12", "bindings.cron");
  auto d = Make(seen, fc);
  HttpResponse r = Invoke(*d, {"GET", "/dapr/subscribe"});
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "[]");
  EXPECT_EQ(Invoke(*d, {"POST", "/dapr/subscribe"}).status(), 405);
}

TEST(Async, BindingEventCallsTheFunctionWithTheBody) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse r = Invoke(*d, {"POST", "/kafka", {{"Content-Type", "application/json"}, {"__key", "k1"}}, "hello"});
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "done:hello");
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.input_name, "kafka");
  EXPECT_EQ(seen.input, "hello");
  EXPECT_EQ(seen.header, "k1") << "the component's metadata arrives as headers";
  EXPECT_FALSE(seen.had_event);
}

TEST(Async, BindingIsAlsoServedAtItsComponentName) {
  Seen seen;
  auto d = Make(seen);
  EXPECT_EQ(Invoke(*d, {"POST", "/cron-abc12", {{"Content-Type", "application/json"}}, ""}).status(), 200);
  EXPECT_EQ(seen.input_name, "cron");
  EXPECT_EQ(seen.input, "");
  FunctionContext fc = AsyncContext();
  fc.inputs["cron"].metadata["route"] = "/ticks";
  auto routed = Make(seen, fc);
  EXPECT_EQ(Invoke(*routed, {"POST", "/ticks"}).status(), 200);
  EXPECT_EQ(seen.input_name, "cron");
  EXPECT_EQ(Invoke(*routed, {"POST", "/cron-abc12"}).status(), 404) << "the route metadata replaces the name";
}

TEST(Async, BindingErrorsAnswer500) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse failed = Invoke(*d, {"POST", "/kafka", {}, "500"});
  EXPECT_EQ(failed.status(), 500);
  EXPECT_EQ(failed.body(), "failed");
  EXPECT_EQ(Invoke(*d, {"POST", "/kafka", {}, "throw"}).status(), 500);
  EXPECT_EQ(seen.calls, 2);
}

TEST(Async, PubSubEventCallsTheFunctionWithTheEventData) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse r = Invoke(*d, PubSub(Envelope(R"({"n":1})")));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(StatusOf(r), "SUCCESS");
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.input_name, "orders");
  EXPECT_EQ(nlohmann::json::parse(seen.input), nlohmann::json::parse(R"({"n":1})"));
  EXPECT_TRUE(seen.had_event);
  EXPECT_EQ(seen.event_id, "ev-1");
  // Content-Type application/json carries the same envelope.
  EXPECT_EQ(StatusOf(Invoke(*d, PubSub(Envelope(R"("text")", "ev-2"), "application/json"))), "SUCCESS");
  EXPECT_EQ(seen.input, "\"text\"");
  EXPECT_EQ(seen.event_id, "ev-2");
}

TEST(Async, PubSubRawPayloadIsDecodedFromBase64) {
  Seen seen;
  auto d = Make(seen);
  std::string body =
      R"({"id":"r1","specversion":"1.0","datacontenttype":"application/octet-stream","source":"Dapr",)"
      R"("type":"com.dapr.event.sent","topic":"orders-topic","pubsubname":"redis-pubsub","data_base64":"aGk="})";
  EXPECT_EQ(StatusOf(Invoke(*d, PubSub(body))), "SUCCESS");
  EXPECT_EQ(seen.input, "hi");
}

TEST(Async, PubSubErrorsAskForARetryUnlessTheFunctionSaysNot) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse retry = Invoke(*d, PubSub(TextEnvelope("500")));
  EXPECT_EQ(retry.status(), 200);
  EXPECT_EQ(StatusOf(retry), "RETRY");
  HttpResponse thrown = Invoke(*d, PubSub(TextEnvelope("throw")));
  EXPECT_EQ(thrown.status(), 200);
  EXPECT_EQ(StatusOf(thrown), "RETRY");
  EXPECT_EQ(StatusOf(Invoke(*d, PubSub(TextEnvelope("500-noretry")))), "DROP");
  EXPECT_EQ(seen.input, "500-noretry") << "text data arrives as the text";
  EXPECT_EQ(seen.calls, 3);
}

TEST(Async, MalformedEnvelopesAreDroppedWithoutCallingTheFunction) {
  Seen seen;
  auto d = Make(seen);
  for (const std::string& body : {std::string("not json"), std::string("[1,2]"), std::string(""),
                                  std::string(R"({"specversion":"1.0","source":"s","type":"t","data":1})")}) {
    HttpResponse r = Invoke(*d, PubSub(body));
    EXPECT_EQ(r.status(), 200) << body;
    EXPECT_EQ(StatusOf(r), "DROP") << body;
  }
  EXPECT_EQ(seen.calls, 0);
}

// --- Bulk deliveries (Dapr >= 1.10 with bulkSubscribe, or Ofn's component host)

// One entry of a bulk body: a CloudEvent object (`event` is its JSON).
std::string Entry(std::string id, std::string_view event, std::string_view metadata = "{}") {
  return R"({"entryId":")" + id + R"(","event":)" + std::string(event) +
         R"(,"contentType":"application/cloudevents+json","metadata":)" + std::string(metadata) + "}";
}

std::string BulkBody(const std::vector<std::string>& entries) {
  std::string body = R"({"id":"b-1","type":"com.dapr.event.sent.bulk","topic":"orders-topic",)"
                     R"("pubsubname":"redis-pubsub","metadata":{"pubsubName":"redis-pubsub"},"entries":[)";
  for (size_t i = 0; i < entries.size(); ++i) body += (i ? "," : "") + entries[i];
  return body + "]}";
}

Call Bulk(const std::vector<std::string>& entries) {
  return {"POST", "/orders", {{"Content-Type", "application/json"}}, BulkBody(entries)};
}

// [[entryId, status], ...] from a bulk response.
std::vector<std::pair<std::string, std::string>> Statuses(const HttpResponse& r) {
  std::vector<std::pair<std::string, std::string>> out;
  auto j = nlohmann::json::parse(r.body(), nullptr, false);
  if (!j.is_object() || !j.contains("statuses") || !j["statuses"].is_array()) {
    out.emplace_back("<bad body>", r.body());
    return out;
  }
  for (const auto& s : j["statuses"]) out.emplace_back(s.value("entryId", "?"), s.value("status", "?"));
  return out;
}

using StatusList = std::vector<std::pair<std::string, std::string>>;

TEST(Async, BulkCallsTheFunctionOncePerEntryInOrder) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse r = Invoke(*d, Bulk({Entry("e1", TextEnvelope("ok")), Entry("e2", TextEnvelope("500")),
                                    Entry("e3", TextEnvelope("500-noretry")), Entry("e4", TextEnvelope("throw"))}));
  EXPECT_EQ(r.status(), 200);
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  EXPECT_EQ(Statuses(r), (StatusList{{"e1", "SUCCESS"}, {"e2", "RETRY"}, {"e3", "DROP"}, {"e4", "RETRY"}}));
  EXPECT_EQ(seen.calls, 4);
  EXPECT_EQ(seen.inputs, (std::vector<std::string>{"ok", "500", "500-noretry", "throw"}));
  EXPECT_EQ(seen.input_name, "orders");
  EXPECT_EQ(seen.event_id, "t1");
}

TEST(Async, BulkEntryMetadataArrivesAsHeaders) {
  Seen seen;
  auto d = Make(seen);
  std::string event = Envelope(R"({"n":1})", "ev-7");
  HttpResponse r = Invoke(*d, Bulk({Entry("e1", event, R"({"__key":"k7","n":5})")}));
  EXPECT_EQ(Statuses(r), (StatusList{{"e1", "SUCCESS"}}));
  EXPECT_EQ(seen.header, "k7") << "the entry's metadata, as a single event's broker metadata";
  EXPECT_EQ(seen.pubsub_header, "redis-pubsub") << "then the delivery's metadata";
  EXPECT_EQ(seen.content_type, "application/cloudevents+json");
  EXPECT_EQ(seen.body, event) << "the request body is the entry's event as sent";
  EXPECT_EQ(nlohmann::json::parse(seen.input), nlohmann::json::parse(R"({"n":1})"));
  EXPECT_EQ(seen.event_id, "ev-7");
}

TEST(Async, BulkRawEntryGivesTheDecodedBytes) {
  Seen seen;
  auto d = Make(seen);
  std::string raw = R"({"entryId":"r1","event":"aGk=","contentType":"application/octet-stream","metadata":{}})";
  EXPECT_EQ(Statuses(Invoke(*d, Bulk({raw}))), (StatusList{{"r1", "SUCCESS"}}));
  EXPECT_EQ(seen.input, "hi");
  EXPECT_EQ(seen.body, "hi");
  // As the single raw path's event (PubSubRawPayloadIsDecodedFromBase64).
  EXPECT_EQ(seen.event_id, "r1");
  EXPECT_EQ(seen.event_source, "Dapr");
  EXPECT_EQ(seen.event_type, "com.dapr.event.sent");
  EXPECT_EQ(seen.data_content_type, "application/octet-stream");
}

TEST(Async, BulkMalformedEntriesAreDroppedAndTheirNeighboursProcessed) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse r = Invoke(
      *d, Bulk({Entry("e1", TextEnvelope("a")),
                Entry("ce-without-id", R"({"specversion":"1.0","source":"s","type":"t","data":1})"),
                R"({"entryId":"bad64","event":"%%%","contentType":"application/octet-stream"})",
                Entry("number", "42"), R"({"entryId":"no-event"})",
                R"({"event":{"specversion":"1.0","id":"x","source":"s","type":"t"}})",  // no entryId: no status
                R"({"entryId":7,"event":{"specversion":"1.0","id":"x","source":"s","type":"t"}})", "[]",
                Entry("e2", TextEnvelope("b"))}));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(Statuses(r), (StatusList{{"e1", "SUCCESS"},
                                     {"ce-without-id", "DROP"},
                                     {"bad64", "DROP"},
                                     {"number", "DROP"},
                                     {"no-event", "DROP"},
                                     {"e2", "SUCCESS"}}));
  EXPECT_EQ(seen.inputs, (std::vector<std::string>{"a", "b"}));
}

TEST(Async, BulkIsRecognizedByItsShapeWhateverTheContentType) {
  Seen seen;
  auto d = Make(seen);
  EXPECT_EQ(Statuses(Invoke(*d, PubSub(BulkBody({Entry("e1", TextEnvelope("a"))})))),
            (StatusList{{"e1", "SUCCESS"}}));
  EXPECT_EQ(Statuses(Invoke(*d, PubSub(BulkBody({}), "text/plain"))), StatusList{});
  EXPECT_EQ(Invoke(*d, PubSub(BulkBody({}))).body(), R"({"statuses":[]})");
  EXPECT_EQ(seen.calls, 1);
}

TEST(Async, SingleEventsStillWorkNextToBulk) {
  Seen seen;
  auto d = Make(seen);
  EXPECT_EQ(Statuses(Invoke(*d, Bulk({Entry("e1", TextEnvelope("a"))}))), (StatusList{{"e1", "SUCCESS"}}));
  HttpResponse single = Invoke(*d, PubSub(Envelope(R"({"n":2})", "ev-9")));
  EXPECT_EQ(single.status(), 200);
  EXPECT_EQ(single.body(), R"({"status":"SUCCESS"})");
  EXPECT_EQ(seen.event_id, "ev-9");
  // A CloudEvent may have a (scalar) extension named entries.
  std::string with_ext = R"({"specversion":"1.0","id":"x1","source":"s","type":"t","entries":"3"})";
  EXPECT_EQ(StatusOf(Invoke(*d, PubSub(with_ext))), "SUCCESS");
  EXPECT_EQ(seen.event_id, "x1");
  EXPECT_EQ(seen.calls, 3);
}

TEST(Async, EntriesThatAreNotAnArrayMakeASingleEvent) {
  Seen seen;
  auto d = Make(seen);
  for (const std::string& entries : {std::string(R"({"e1":{}})"), std::string("null"), std::string("[1")}) {
    std::string body = R"({"id":"b","type":"com.dapr.event.sent.bulk","entries":)" + entries + "}";
    HttpResponse r = Invoke(*d, {"POST", "/orders", {{"Content-Type", "application/json"}}, body});
    EXPECT_EQ(r.status(), 200) << body;
    EXPECT_EQ(r.body(), R"({"status":"DROP"})") << body;
  }
  // The depth limit covers the whole body: too deep is no bulk, and no event.
  std::string deep = BulkBody({Entry("e1", std::string(600, '[') + std::string(600, ']'))});
  EXPECT_EQ(StatusOf(Invoke(*d, PubSub(deep, "application/json"))), "DROP");
  EXPECT_EQ(seen.calls, 0);
}

TEST(Async, ProbesHealthAndOtherPaths) {
  Seen seen;
  auto d = Make(seen);
  HttpResponse probe = Invoke(*d, {"OPTIONS", "/kafka"});
  EXPECT_EQ(probe.status(), 200);
  ASSERT_NE(probe.header("Allow"), nullptr);
  EXPECT_EQ(*probe.header("Allow"), "POST, OPTIONS");
  EXPECT_EQ(Invoke(*d, {"GET", "/orders"}).status(), 405);
  EXPECT_EQ(Invoke(*d, {"GET", "/healthz"}).status(), 200);
  EXPECT_EQ(Invoke(*d, {"POST", "/"}).status(), 404) << "an async function is not served at its own path";
  EXPECT_EQ(Invoke(*d, {"POST", "/orders-topic"}).status(), 404);
  EXPECT_EQ(seen.calls, 0);
}

TEST(Async, KnativeRuntimeIsUnchanged) {
  Seen seen;
  FunctionContext fc = AsyncContext();
  fc.runtime = "Knative";
  auto d = Make(seen, fc);
  EXPECT_EQ(Invoke(*d, {"POST", "/anything", {}, "x"}).body(), "done:x");
  EXPECT_EQ(seen.input_name, "");
  EXPECT_EQ(Invoke(*d, {"GET", "/dapr/subscribe"}).body(), "done:") << "a sync function answers every path";
}

TEST(Async, ChoosesTheFunctionNamedByTheContext) {
  Seen a, b;
  auto d = Create({Recorder(a, "a"), Recorder(b, "f")}, AsyncContext());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(Invoke(**d, {"POST", "/kafka", {}, "x"}).status(), 200);
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(b.calls, 1);
}

TEST(Async, RejectsWhatCannotReceiveEvents) {
  Seen seen;
  auto ambiguous = Create({Recorder(seen, "a"), Recorder(seen, "b")}, AsyncContext());
  EXPECT_FALSE(ambiguous.ok());
  auto http = Create({HttpFunction("f", [](const HttpRequest&) { return HttpResponse(200); })}, AsyncContext());
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.status().message().find("OpenFunction-style"), std::string::npos);
  FunctionContext no_topic = AsyncContext();
  no_topic.inputs["orders"].uri.clear();
  auto bad = Create({Recorder(seen)}, no_topic);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("inputs.orders"), std::string::npos);
}

class CountingPlugin : public Plugin {
 public:
  std::string_view name() const override { return "async-test-counter"; }
  void Pre(CallInfo& c) override { ++pre; function = std::string(c.function); }
  void Post(CallInfo& c) override {
    ++post;
    if (c.response) last_status = c.response->status();
  }
  int pre = 0, post = 0, last_status = 0;
  std::string function;
};

TEST(Async, PluginsRunAroundEachDelivery) {
  auto plugin = std::make_shared<CountingPlugin>();
  RegisterPlugin(plugin);
  Seen seen;
  FunctionContext fc = AsyncContext();
  fc.pre_plugins = {"async-test-counter"};
  fc.post_plugins = {"async-test-counter"};
  auto d = Make(seen, fc);
  Invoke(*d, {"POST", "/kafka", {}, "x"});
  Invoke(*d, {"GET", "/dapr/subscribe"});
  EXPECT_EQ(plugin->pre, 1) << "only deliveries call the function";
  EXPECT_EQ(plugin->post, 1);
  EXPECT_EQ(plugin->function, "f");
  EXPECT_EQ(plugin->last_status, 200);
}

}  // namespace
}  // namespace ofn

#include "framework/dispatcher.h"
#include "framework/dispatcher_testing.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "ofn/typed_function.h"

namespace ofn {
namespace {

// Records what a function sends to its outputs (the real sender is covered by
// output_sender_test.cc).
class RecordingSender : public OutputSender {
 public:
  Result<std::string> Send(const Component& out, std::string_view data) override {
    sent.emplace_back(out.component_name, std::string(data));
    return std::string("ack");
  }
  std::vector<std::pair<std::string, std::string>> sent;
};

using testing::Call;
using testing::Invoke;

std::unique_ptr<Dispatcher> Make(std::vector<Function> fns, FunctionContext fc = {}, OutputSender* sender = nullptr) {
  DispatcherOptions o;
  o.single = fns.size() == 1;
  o.functions = std::move(fns);
  o.context = std::move(fc);
  o.sender = sender;
  auto d = Dispatcher::Create(std::move(o));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(*d);
}

TEST(Dispatcher, SingleFunctionGetsEveryPathButRobotsAndFavicon) {
  int calls = 0;
  auto d = Make({HttpFunction("f", [&](const HttpRequest& r) {
    ++calls;
    return HttpResponse(200, std::string(r.path()));
  })});
  EXPECT_EQ(Invoke(*d, {"PATCH", "/deep/path?q=1"}).body(), "/deep/path");
  EXPECT_EQ(Invoke(*d, {"GET", "/robots.txt"}).status(), 404);
  EXPECT_EQ(Invoke(*d, {"GET", "/favicon.ico?x"}).status(), 404);
  EXPECT_EQ(calls, 1);
}

TEST(Dispatcher, SeveralFunctionsRouteByPathAndMethod) {
  auto d = Make({HttpFunction("greet", [](const HttpRequest& r) {
                   return HttpResponse(200, "hi " + std::string(*r.path_param("name")));
                 }).WithPath("/hello/{name}").WithMethods({"GET"}),
                 HttpFunction("other", [](const HttpRequest&) { return HttpResponse(201); })});
  EXPECT_EQ(Invoke(*d, {"GET", "/hello/bob"}).body(), "hi bob");
  HttpResponse wrong = Invoke(*d, {"POST", "/hello/bob"});
  EXPECT_EQ(wrong.status(), 405);
  ASSERT_NE(wrong.header("Allow"), nullptr);
  EXPECT_EQ(*wrong.header("Allow"), "GET");
  EXPECT_EQ(Invoke(*d, {"GET", "/other"}).status(), 201) << "a function without a path is served at /NAME";
  EXPECT_EQ(Invoke(*d, {"GET", "/nothing"}).status(), 404);
}

TEST(Dispatcher, RejectsTwoFunctionsOnOnePath) {
  DispatcherOptions o;
  o.single = false;
  o.functions = {HttpFunction("a", nullptr).WithPath("/x"), HttpFunction("b", nullptr).WithPath("/x")};
  auto d = Dispatcher::Create(std::move(o));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("/x"), std::string::npos);
}

TEST(Dispatcher, ExceptionBecomes500) {
  auto d = Make({HttpFunction("f", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("x"); })});
  EXPECT_EQ(Invoke(*d, {}).status(), 500);
}

TEST(Dispatcher, CloudEventFunctionGetsDecodedEventsAndRejectsBadOnes) {
  std::vector<std::string> seen;
  auto d = Make({CloudEventFunction("ce", [&](const CloudEvent& e) { seen.push_back(e.id()); })});
  Call binary{"POST", "/", {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}}, "x"};
  EXPECT_EQ(Invoke(*d, binary).status(), 200);
  Call missing = binary;
  missing.headers.pop_back();
  HttpResponse bad = Invoke(*d, missing);
  EXPECT_EQ(bad.status(), 400);
  EXPECT_NE(bad.body().find("type"), std::string::npos) << bad.body();
  EXPECT_EQ(Invoke(*d, {"POST", "/", {}, "plain"}).status(), 400);
  Call batch{"POST", "/", {{"Content-Type", "application/cloudevents-batch+json"}},
             R"([{"specversion":"1.0","id":"b1","source":"/s","type":"t"},{"specversion":"1.0","id":"b2","source":"/s","type":"t"}])"};
  EXPECT_EQ(Invoke(*d, batch).status(), 200);
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "b1", "b2"}));
}

TEST(Dispatcher, CloudEventFunctionErrorsAndReplies) {
  auto d = Make({CloudEventFunction("ce", [](const CloudEvent& e) -> CloudEventResult {
    if (e.type() == "bad") return Status::InvalidArgument("bad input");
    if (e.type() == "fail") return Status::Internal("broken");
    CloudEvent reply("r-" + e.id(), "/reply", "reply.type");
    reply.set_data_content_type("text/plain");
    reply.set_data("pong");
    return std::optional<CloudEvent>(reply);
  })});
  auto call = [&](std::string type) {
    return Invoke(*d, {"POST", "/", {{"ce-specversion", "1.0"}, {"ce-id", "7"}, {"ce-source", "/s"}, {"ce-type", type}}, ""});
  };
  EXPECT_EQ(call("bad").status(), 400);
  EXPECT_EQ(call("fail").status(), 500);
  HttpResponse ok = call("ping");
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.body(), "pong");
  ASSERT_NE(ok.header("ce-id"), nullptr);
  EXPECT_EQ(*ok.header("ce-id"), "r-7");
}

TEST(Dispatcher, StructuredReplyOnRequest) {
  auto d = Make({CloudEventFunction("ce", [](const CloudEvent& e) { return CloudEvent("r", "/s", "t"); }).WithStructuredReply()});
  HttpResponse r = Invoke(*d, {"POST", "/", {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}}, ""});
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_NE(r.header("Content-Type")->find("application/cloudevents+json"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(r.body())["id"], "r");
}

TEST(Dispatcher, OpenFunctionStyleStatusHeaderAndInputs) {
  RecordingSender sender;
  FunctionContext fc;
  fc.name = "of";
  fc.outputs["sink"] = Component{"", "my-sink", "bindings.http", {}, ""};
  auto d = Make({OpenFunction("of",
                              [](Context& ctx, std::string_view in) {
                                if (in == "crash") throw std::runtime_error("crash");
                                if (in == "err") return ctx.ReturnOnInternalError();
                                auto r = ctx.Send("sink", in);
                                Out out = ctx.ReturnOnSuccess().WithData(std::string(in) + "/" + r.value());
                                out.metadata["X-Seen-Event"] = ctx.cloud_event() ? ctx.cloud_event()->id() : "none";
                                return out;
                              })},
                fc, &sender);
  HttpResponse raw = Invoke(*d, {"POST", "/", {}, "body"});
  EXPECT_EQ(raw.status(), 200);
  EXPECT_EQ(raw.body(), "body/ack");
  EXPECT_EQ(*raw.header("X-OpenFunction-Status"), "success");
  EXPECT_EQ(*raw.header("X-Seen-Event"), "none");
  HttpResponse event = Invoke(
      *d, {"POST", "/", {{"ce-specversion", "1.0"}, {"ce-id", "e1"}, {"ce-source", "/s"}, {"ce-type", "t"}}, "evdata"});
  EXPECT_EQ(event.body(), "evdata/ack") << "the input is the event's data";
  EXPECT_EQ(*event.header("X-Seen-Event"), "e1");
  HttpResponse err = Invoke(*d, {"POST", "/", {}, "err"});
  EXPECT_EQ(err.status(), 500);
  EXPECT_EQ(*err.header("X-OpenFunction-Status"), "error");
  HttpResponse crash = Invoke(*d, {"POST", "/", {}, "crash"});
  EXPECT_EQ(crash.status(), 500);
  EXPECT_EQ(*crash.header("X-OpenFunction-Status"), "crash");
  EXPECT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[0], (std::pair<std::string, std::string>{"my-sink", "body"}));
}

struct Point {
  int x = 0, y = 0;
};
void from_json(const nlohmann::json& j, Point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
}
void to_json(nlohmann::json& j, const Point& p) { j = {{"x", p.x}, {"y", p.y}}; }

TEST(Dispatcher, TypedFunctionRejectsUndecodableBodiesBeforeTheCall) {
  int calls = 0;
  auto d = Make({TypedFunction<Point, Point>("swap", [&](const Point& p) {
    ++calls;
    return Point{p.y, p.x};
  })});
  HttpResponse ok = Invoke(*d, {"POST", "/", {}, R"({"x":1,"y":2})"});
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body()), (nlohmann::json{{"x", 2}, {"y", 1}}));
  EXPECT_EQ(*ok.header("Content-Type"), "application/json");
  EXPECT_EQ(Invoke(*d, {"POST", "/", {}, "not json"}).status(), 400);
  EXPECT_EQ(Invoke(*d, {"POST", "/", {}, R"({"x":1})"}).status(), 400);
  EXPECT_EQ(calls, 1);
}

class ThrowingPlugin : public Plugin {
 public:
  std::string_view name() const override { return "throws"; }
  void Pre(CallInfo&) override { throw std::runtime_error("plugin broke"); }
};

TEST(Dispatcher, PluginsRunAroundCallsAndTheirFailuresAreNotFatal) {
  RegisterPlugin(std::make_shared<ThrowingPlugin>());
  FunctionContext fc;
  fc.pre_plugins = {"throws", "no-such-plugin"};
  fc.post_plugins = {"timing"};
  auto d = Make({HttpFunction("f", [](const HttpRequest&) { return HttpResponse(200, "ok"); })}, fc);
  EXPECT_EQ(d->unknown_plugins(), std::vector<std::string>{"no-such-plugin"});
  HttpResponse r = Invoke(*d, {});
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "ok");
  ASSERT_NE(r.header("Server-Timing"), nullptr);
  EXPECT_EQ(r.header("Server-Timing")->rfind("fn;dur=", 0), 0u);
}

}  // namespace
}  // namespace ofn

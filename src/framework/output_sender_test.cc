#include "framework/output_sender.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ofn/context.h"
#include "support/scripted_http_server.h"

namespace ofn {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// Stand-in for the Dapr sidecar (Ofn's component host) and for the endpoints
// of bindings.http outputs: records each request and answers as the test scripts.
using FakeSidecar = ofn::testing::ScriptedHttpServer;
using Reply = FakeSidecar::Reply;

Component Output(std::string type, std::string name, std::string uri = "",
                 std::map<std::string, std::string> metadata = {}, std::string operation = "") {
  Component c;
  c.component_type = std::move(type);
  c.component_name = std::move(name);
  c.uri = std::move(uri);
  c.metadata = std::move(metadata);
  c.operation = std::move(operation);
  return c;
}

// ---------------------------------------------------------------------------
// Other bindings: through the Dapr binding API.

TEST(OutputSenderTest, BindingGoesToDaprBindingApi) {
  FakeSidecar dapr([](const auto&, size_t) { return FakeSidecar::Ok(R"({"offset":7})"); });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("bindings.kafka", "serving-x-bindings-kafka-server-abc", "kafka-server",
                                  {{"key", "k1"}}, "create"),
                           R"({"hello": [1, 2.5, "three"]})");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, R"({"offset":7})");

  auto reqs = dapr.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1.0/bindings/serving-x-bindings-kafka-server-abc");
  std::vector<std::pair<std::string, std::string>> want_headers = {
      {"Host", "127.0.0.1:" + std::to_string(dapr.port())},
      {"Content-Type", "application/json"},
      {"Content-Length", std::to_string(reqs[0].body.size())},
  };
  EXPECT_EQ(reqs[0].headers, want_headers);
  // JSON data travels as a JSON value, compact with sorted keys (as Dapr re-encodes it).
  EXPECT_EQ(reqs[0].body,
            R"({"data":{"hello":[1,2.5,"three"]},"metadata":{"key":"k1"},"operation":"create"})");
}

TEST(OutputSenderTest, BindingTextDataDefaultsAndNoContent) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("bindings.redis", "cache"), "plain text, not JSON");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "");
  auto body = Json::parse(dapr.requests().at(0).body);
  EXPECT_EQ(body, Json::parse(R"({"data":"plain text, not JSON","metadata":{},"operation":"create"})"));
}

TEST(OutputSenderTest, BindingErrorCarriesStatusAndBody) {
  FakeSidecar dapr([](const auto&, size_t) {
    return Reply{FakeSidecar::Response(
        500, "Internal Server Error",
        R"({"errorCode":"ERR_INVOKE_OUTPUT_BINDING","message":"error invoking output binding cache: boom"})",
        "Content-Type: application/json\r\n")};
  });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("bindings.redis", "cache"), "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  const std::string& msg = reply.status().message();
  EXPECT_NE(msg.find("bindings.redis \"cache\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("HTTP 500"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ERR_INVOKE_OUTPUT_BINDING"), std::string::npos) << msg;
}

TEST(OutputSenderTest, BindingRejectsBinaryDataAndEmptyName) {
  HttpOutputSender sender("127.0.0.1", 1);  // never reached
  EXPECT_EQ(sender.Send(Output("bindings.kafka", "k"), std::string("\xff\xfe", 2)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(sender.Send(Output("bindings.kafka", ""), "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(OutputSenderTest, ApiTokenIsSent) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  HttpOutputSender sender("127.0.0.1", dapr.port(), "s3cret");
  ASSERT_TRUE(sender.Send(Output("bindings.kafka", "k"), "1").ok());
  ASSERT_TRUE(sender.Send(Output("pubsub.kafka", "ps", "t"), "1").ok());
  for (const auto& r : dapr.requests()) EXPECT_EQ(r.header("dapr-api-token"), "s3cret");
}

// ---------------------------------------------------------------------------
// Pub/sub: through the Dapr publish API.

TEST(OutputSenderTest, PublishJsonWithMetadata) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("pubsub.kafka", "serving-y-pubsub-kafka-server-q", "sample-topic",
                                  {{"rawPayload", "true"}, {"partition key", "a&b=c/d"}}),
                           R"({"n":1})");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "");
  auto reqs = dapr.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target,
            "/v1.0/publish/serving-y-pubsub-kafka-server-q/sample-topic"
            "?metadata.partition%20key=a%26b%3Dc%2Fd&metadata.rawPayload=true");
  std::vector<std::pair<std::string, std::string>> want_headers = {
      {"Host", "127.0.0.1:" + std::to_string(dapr.port())},
      {"Content-Type", "application/json"},
      {"Content-Length", "7"},
  };
  EXPECT_EQ(reqs[0].headers, want_headers);
  EXPECT_EQ(reqs[0].body, R"({"n":1})");
}

TEST(OutputSenderTest, PublishTextTopicWithSlash) {
  FakeSidecar dapr([](const auto&, size_t) { return FakeSidecar::Ok(""); });  // 200 is accepted too
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("pubsub.redis", "ps", "orders/eu west"), "hello");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto r = dapr.requests().at(0);
  EXPECT_EQ(r.target, "/v1.0/publish/ps/orders/eu%20west");
  EXPECT_EQ(r.header("Content-Type"), "text/plain");
  EXPECT_EQ(r.body, "hello");
}

TEST(OutputSenderTest, PublishNeedsATopic) {
  HttpOutputSender sender("127.0.0.1", 1);
  auto reply = sender.Send(Output("pubsub.kafka", "ps", ""), "x");
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("topic"), std::string::npos);
}

TEST(OutputSenderTest, PublishErrorCarriesStatusAndBody) {
  FakeSidecar dapr([](const auto&, size_t) {
    return Reply{FakeSidecar::Response(404, "Not Found",
                                       R"({"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub ps not found"})")};
  });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("pubsub.kafka", "ps", "t"), "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kNotFound);
  EXPECT_NE(reply.status().message().find("HTTP 404"), std::string::npos);
  EXPECT_NE(reply.status().message().find("ERR_PUBSUB_NOT_FOUND"), std::string::npos);
}

TEST(OutputSenderTest, SidecarDownIsUnavailable) {
  std::unique_ptr<FakeSidecar> gone = std::make_unique<FakeSidecar>([](const auto&, size_t) { return Reply{}; });
  int port = gone->port();
  gone.reset();  // nothing listens there any more
  HttpOutputSender sender("127.0.0.1", port);
  auto reply = sender.Send(Output("pubsub.kafka", "ps", "t"), "x");
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << reply.status().message();
}

TEST(OutputSenderTest, KeepsOneConnectionToTheSidecar) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sender.Send(Output("pubsub.kafka", "ps", "t"), std::to_string(i)).ok());
  EXPECT_EQ(dapr.accepted(), 1);
}

TEST(OutputSenderTest, TimeoutIsDeadlineExceeded) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"", false, true}; });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  sender.set_timeout(200ms);
  auto start = std::chrono::steady_clock::now();
  auto reply = sender.Send(Output("bindings.kafka", "k"), "x");
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded) << reply.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(OutputSenderTest, FromEnv) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  ::setenv("DAPR_HOST", "127.0.0.1", 1);
  ::setenv("DAPR_HTTP_PORT", std::to_string(dapr.port()).c_str(), 1);
  ::unsetenv("DAPR_API_TOKEN");
  auto sender = HttpOutputSender::FromEnv();
  EXPECT_EQ(sender->dapr_host(), "127.0.0.1");
  EXPECT_EQ(sender->dapr_http_port(), dapr.port());
  ASSERT_TRUE(sender->Send(Output("pubsub.kafka", "ps", "t"), "x").ok());
  EXPECT_TRUE(dapr.WaitForRequests(1));

  ::unsetenv("DAPR_HOST");
  ::setenv("DAPR_HTTP_PORT", "not-a-port", 1);
  auto defaults = HttpOutputSender::FromEnv();
  EXPECT_EQ(defaults->dapr_host(), "127.0.0.1");
  EXPECT_EQ(defaults->dapr_http_port(), 3500);
  ::unsetenv("DAPR_HTTP_PORT");
}

// ---------------------------------------------------------------------------
// bindings.http: called directly.

TEST(OutputSenderTest, HttpBindingPostsToMetadataUrlWithPathAndHeaders) {
  FakeSidecar endpoint([](const auto& req, size_t) {
    return Reply{FakeSidecar::Response(201, "Created", "created " + req.body)};
  });
  HttpOutputSender sender("127.0.0.1", 1);  // the sidecar is not involved
  auto reply = sender.Send(Output("bindings.http", "http-out", "http-out",
                                  {{"url", endpoint.url("/api/")},
                                   {"path", "/things/1234"},
                                   {"X-Api-Key", "k"},
                                   {"Content-Type", "application/vnd.custom"}},
                                  "create"),
                           "payload");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "created payload");
  auto r = endpoint.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/things/1234");
  std::vector<std::pair<std::string, std::string>> want_headers = {
      {"Host", "127.0.0.1:" + std::to_string(endpoint.port())},
      {"Content-Type", "application/vnd.custom"},
      {"X-Api-Key", "k"},
      {"Content-Length", "7"},
  };
  EXPECT_EQ(r.headers, want_headers);
  EXPECT_EQ(r.body, "payload");
}

TEST(OutputSenderTest, HttpBindingUsesUriAndOperationAsMethod) {
  FakeSidecar endpoint([](const auto& req, size_t) { return FakeSidecar::Ok(req.method + " " + req.target); });
  HttpOutputSender sender("127.0.0.1", 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "POST"}, {"create", "POST"}, {"post", "POST"}, {"get", "GET"},       {"PUT", "PUT"},
      {"delete", "DELETE"}, {"patch", "PATCH"}, {"head", "HEAD"},
  };
  for (const auto& [op, method] : cases) {
    auto reply = sender.Send(Output("bindings.http", "h", endpoint.url("/base?x=1"), {}, op), "");
    ASSERT_TRUE(reply.ok()) << op << ": " << reply.status().ToString();
    if (method != "HEAD") {
      EXPECT_EQ(*reply, method + " /base?x=1") << op;
    }
  }
  auto reqs = endpoint.requests();
  ASSERT_EQ(reqs.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(reqs[i].method, cases[i].second);
  // JSON bodies are labelled as such when the metadata sets no Content-Type.
  ASSERT_TRUE(sender.Send(Output("bindings.http", "h", endpoint.url("/j")), "[1]").ok());
  EXPECT_EQ(endpoint.requests().back().header("Content-Type"), "application/json");
}

TEST(OutputSenderTest, HttpBindingNon2xxIsAnError) {
  FakeSidecar endpoint([](const auto&, size_t) {
    return Reply{FakeSidecar::Response(422, "Unprocessable Entity", "field x is bad")};
  });
  HttpOutputSender sender("127.0.0.1", 1);
  auto reply = sender.Send(Output("bindings.http", "h", endpoint.url("/v")), "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("HTTP 422"), std::string::npos) << reply.status().message();
  EXPECT_NE(reply.status().message().find("field x is bad"), std::string::npos);
}

TEST(OutputSenderTest, HttpBindingConfigErrors) {
  HttpOutputSender sender("127.0.0.1", 1);
  auto https = sender.Send(Output("bindings.http", "web", "", {{"url", "https://example.com/"}}), "x");
  EXPECT_EQ(https.status().code(), StatusCode::kInvalidArgument);
  auto bad_op = sender.Send(Output("bindings.http", "web", "http://127.0.0.1:1/", {}, "explode"), "x");
  EXPECT_EQ(bad_op.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_op.status().message().find("explode"), std::string::npos);
}

TEST(OutputSenderTest, HttpBindingWithoutItsOwnUrlGoesThroughTheDaprApi) {
  // The URL is then in the Component the component host serves.
  FakeSidecar dapr([](const auto&, size_t) { return Reply{FakeSidecar::Response(200, "OK", "pong")}; });
  HttpOutputSender sender("127.0.0.1", dapr.port());
  auto reply = sender.Send(Output("bindings.http", "web", "web", {}, "post"), "x");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "pong");
  ASSERT_EQ(dapr.requests().size(), 1u);
  EXPECT_EQ(dapr.requests()[0].target, "/v1.0/bindings/web");
}

TEST(OutputSenderTest, UnknownBuildingBlock) {
  HttpOutputSender sender("127.0.0.1", 1);
  EXPECT_EQ(sender.Send(Output("state.redis", "s"), "x").status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Context::Send

class RecordingSender : public OutputSender {
 public:
  Result<std::string> Send(const Component& output, std::string_view data) override {
    calls.emplace_back(output.component_name, std::string(data));
    if (fail) return Status::Unavailable("sidecar down");
    return std::string("reply");
  }
  std::vector<std::pair<std::string, std::string>> calls;
  bool fail = false;
};

TEST(OutputSenderTest, ContextSendDelegatesByOutputName) {
  FunctionContext fc;
  fc.outputs["sink"] = Output("bindings.kafka", "kafka-server");
  RecordingSender sender;
  Context ctx(fc, &sender);
  auto reply = ctx.Send("sink", "data");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "reply");
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0], (std::pair<std::string, std::string>{"kafka-server", "data"}));

  sender.fail = true;
  auto failed = ctx.Send("sink", "x");
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.status().message(), "output \"sink\": sidecar down");
}

TEST(OutputSenderTest, ContextSendUnknownOutput) {
  FunctionContext fc;
  fc.outputs["sink"] = Output("bindings.kafka", "kafka-server");
  RecordingSender sender;
  Context ctx(fc, &sender);
  auto reply = ctx.Send("other", "data");
  EXPECT_EQ(reply.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reply.status().message(), "output \"other\" not found in FUNC_CONTEXT");
  EXPECT_TRUE(sender.calls.empty());
}

TEST(OutputSenderTest, ContextSendWithoutOutputs) {
  FunctionContext fc;
  RecordingSender sender;
  Context ctx(fc, &sender);
  auto reply = ctx.Send("sink", "data");
  EXPECT_EQ(reply.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reply.status().message(), "function has no outputs");
}

TEST(OutputSenderTest, ContextSendEndToEnd) {
  FakeSidecar dapr([](const auto&, size_t) { return Reply{"HTTP/1.1 204 No Content\r\n\r\n"}; });
  auto fc = FunctionContext::Parse(
      R"({"name":"f","runtime":"Async","outputs":{"events":{"uri":"sample-topic","componentName":"kafka-server",)"
      R"("componentType":"pubsub.kafka"}}})");
  ASSERT_TRUE(fc.ok()) << fc.status().ToString();
  HttpOutputSender sender("127.0.0.1", dapr.port());
  Context ctx(*fc, &sender);
  ASSERT_TRUE(ctx.Send("events", R"({"a":1})").ok());
  EXPECT_EQ(dapr.requests().at(0).target, "/v1.0/publish/kafka-server/sample-topic");
}

}  // namespace
}  // namespace ofn

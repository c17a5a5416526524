#include "components/http_binding.h"

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <strings.h>

#include <gtest/gtest.h>

#include "support/process.h"
#include "support/scripted_http_server.h"

namespace ofn::components {
namespace {

using namespace std::chrono_literals;
using ofn::testing::ScriptedHttpServer;
using Reply = ScriptedHttpServer::Reply;

ComponentSpec Spec(std::map<std::string, std::string> metadata) {
  ComponentSpec spec;
  spec.name = "endpoint";
  spec.type = "bindings.http";
  for (auto& [k, v] : metadata) spec.metadata.Set(k, v);
  return spec;
}

std::unique_ptr<HttpBinding> Make(std::map<std::string, std::string> metadata) {
  auto b = HttpBinding::Create(Spec(std::move(metadata)));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : nullptr;
}

BindingRequest Call(std::string operation, std::string data = "", std::map<std::string, std::string> metadata = {}) {
  return BindingRequest{std::move(operation), std::move(data), std::move(metadata)};
}

// Answers every request with 200 and the body "ok".
ScriptedHttpServer::Handler AlwaysOk() {
  return [](const ScriptedHttpServer::Request&, size_t) { return ScriptedHttpServer::Ok("ok"); };
}

TEST(HttpBindingTest, MetadataIsValidated) {
  const struct {
    std::map<std::string, std::string> metadata;
    StatusCode code;
    const char* want;
  } cases[] = {
      {{}, StatusCode::kInvalidArgument, "metadata url is required"},
      {{{"url", "https://example.com"}}, StatusCode::kUnimplemented, "https is not supported"},
      {{{"url", "ftp://example.com"}}, StatusCode::kInvalidArgument, "metadata url"},
      {{{"url", "http://127.0.0.1:1"}, {"responseTimeout", "soon"}}, StatusCode::kInvalidArgument,
       "metadata responseTimeout"},
      {{{"url", "http://127.0.0.1:1"}, {"responseTimeout", "0s"}}, StatusCode::kInvalidArgument,
       "metadata responseTimeout: must be positive"},
      {{{"url", "http://127.0.0.1:1"}, {"maxResponseBodySize", "lots"}}, StatusCode::kInvalidArgument,
       "metadata maxResponseBodySize: \"lots\""},
      {{{"url", "http://127.0.0.1:1"}, {"maxResponseBodySize", "10Xi"}}, StatusCode::kInvalidArgument,
       "metadata maxResponseBodySize"},
  };
  for (const auto& c : cases) {
    auto b = HttpBinding::Create(Spec(c.metadata));
    ASSERT_FALSE(b.ok()) << c.want;
    EXPECT_EQ(b.status().code(), c.code) << b.status().ToString();
    EXPECT_NE(b.status().message().find(c.want), std::string::npos) << b.status().ToString();
  }
  EXPECT_TRUE(HttpBinding::Create(Spec({{"url", "http://h"}, {"maxResponseBodySize", "1.5Mi"}})).ok());
  EXPECT_TRUE(HttpBinding::Create(Spec({{"url", "http://h"}, {"responseTimeout", "30"}})).ok());  // seconds
}

TEST(HttpBindingTest, RegistersAnOutputBindingOnly) {
  Registry registry;
  RegisterHttp(registry);
  auto c = registry.Create(Spec({{"url", "http://127.0.0.1:1"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->output, nullptr);
  EXPECT_EQ(c->input, nullptr);
  EXPECT_EQ(c->output->Operations(),
            (std::vector<std::string>{"create", "get", "head", "post", "put", "patch", "delete", "options", "trace"}));
  auto err = registry.Create(Spec({}));
  EXPECT_NE(err.status().message().find("bindings.http component endpoint: metadata url is required"),
            std::string::npos)
      << err.status().message();
}

TEST(HttpBindingTest, OperationsBecomeMethodsAndOnlyWritesSendData) {
  ScriptedHttpServer server(AlwaysOk());
  auto binding = Make({{"url", server.url("/")}});
  const std::pair<const char*, const char*> ops[] = {
      {"create", "POST"}, {"get", "GET"},         {"head", "HEAD"},   {"post", "POST"},   {"put", "PUT"},
      {"patch", "PATCH"}, {"delete", "DELETE"}, {"options", "OPTIONS"}, {"trace", "TRACE"}};
  for (const auto& [op, method] : ops) {
    auto r = binding->Invoke(Call(op, R"({"a":1})"));
    ASSERT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    ASSERT_TRUE(r->has_value());
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), std::size(ops));
  for (size_t i = 0; i < reqs.size(); ++i) {
    const std::string method = ops[i].second;
    const bool writes = method == "POST" || method == "PUT" || method == "PATCH";
    EXPECT_EQ(reqs[i].method, method);
    EXPECT_EQ(reqs[i].body, writes ? R"({"a":1})" : "") << method;
    EXPECT_EQ(reqs[i].header("Content-Type"), writes ? "application/json; charset=utf-8" : "<absent>") << method;
    EXPECT_EQ(reqs[i].header("Accept"), "application/json; charset=utf-8") << method;
  }
  auto bad = binding->Invoke(Call("increment"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), std::size(ops));
}

TEST(HttpBindingTest, PathIsAppendedToTheUrl) {
  ScriptedHttpServer server(AlwaysOk());
  auto with_slash = Make({{"url", server.url("/api/")}});
  auto without = Make({{"url", server.url("/api")}});
  ASSERT_TRUE(with_slash->Invoke(Call("get", "", {{"path", "/v1/items?limit=2"}})).ok());
  ASSERT_TRUE(without->Invoke(Call("get", "", {{"path", "v1"}})).ok());
  ASSERT_TRUE(with_slash->Invoke(Call("get")).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/api/v1/items?limit=2");
  EXPECT_EQ(reqs[1].target, "/api/v1");
  EXPECT_EQ(reqs[2].target, "/api/");
}

TEST(HttpBindingTest, UpperCaseMetadataBecomesHeaders) {
  ScriptedHttpServer server(AlwaysOk());
  auto binding = Make({{"url", server.url("/")}, {"securityToken", "s3cret"}, {"securityTokenHeader", "x-api-key"}});
  auto r = binding->Invoke(Call("post", "a,b",
                                {{"X-Request-Id", "42"},
                                 {"Content-Type", "text/csv"},
                                 {"lowercase", "not a header"},
                                 {"path", "items"},
                                 {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.header("X-Request-Id"), "42");
  EXPECT_EQ(q.header("Content-Type"), "text/csv");
  EXPECT_EQ(q.header("Accept"), "application/json; charset=utf-8");
  EXPECT_EQ(q.header("X-Api-Key"), "s3cret");
  EXPECT_EQ(q.header("Traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(q.header("lowercase"), "<absent>");
  EXPECT_EQ(q.header("path"), "<absent>");
  int content_types = 0;  // the caller's replaced the default rather than adding a second one
  for (const auto& [name, value] : q.headers) content_types += strcasecmp(name.c_str(), "content-type") == 0;
  EXPECT_EQ(content_types, 1);

  // A caller's header of the same canonical name replaces the token header.
  ASSERT_TRUE(binding->Invoke(Call("get", "", {{"X-api-key", "override"}, {"Accept", "text/plain"}})).ok());
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].header("X-Api-Key"), "override");
  EXPECT_EQ(reqs[1].header("Accept"), "text/plain");
}

TEST(HttpBindingTest, ResponseCarriesBodyStatusAndHeaders) {
  ScriptedHttpServer server([](const ScriptedHttpServer::Request&, size_t) {
    return Reply{ScriptedHttpServer::Response(201, "Created", R"({"id":7})",
                                              "content-type: application/json\r\nx-multi: a\r\nX-Multi: b\r\n")};
  });
  auto binding = Make({{"url", server.url("/")}});
  auto r = binding->Invoke(Call("create", "{}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  const BindingResponse& resp = **r;
  EXPECT_EQ(resp.data, R"({"id":7})");
  EXPECT_EQ(resp.metadata.at("statusCode"), "201");
  EXPECT_EQ(resp.metadata.at("status"), "201 Created");
  EXPECT_EQ(resp.metadata.at("Content-Type"), "application/json");
  EXPECT_EQ(resp.metadata.at("X-Multi"), "a, b");
  EXPECT_EQ(resp.metadata.at("Content-Length"), "8");
  EXPECT_EQ(resp.content_type, "");
}

TEST(HttpBindingTest, Non2xxIsAnErrorUnlessErrorIfNot2XXIsOff) {
  ScriptedHttpServer server([](const ScriptedHttpServer::Request& q, size_t) {
    return q.target == "/down" ? Reply{ScriptedHttpServer::Response(503, "Service Unavailable", "later")}
                               : Reply{ScriptedHttpServer::Response(404, "Not Found", "no such item")};
  });
  auto strict = Make({{"url", server.url("/")}});
  auto lenient = Make({{"url", server.url("/")}, {"errorIfNot2XX", "false"}});

  auto missing = strict->Invoke(Call("get", "", {{"path", "item"}}));
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("received status code 404"), std::string::npos)
      << missing.status().message();
  auto down = strict->Invoke(Call("get", "", {{"path", "down"}}));
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);

  auto per_call_off = strict->Invoke(Call("get", "", {{"path", "item"}, {"errorIfNot2XX", "false"}}));
  ASSERT_TRUE(per_call_off.ok()) << per_call_off.status().ToString();
  EXPECT_EQ((*per_call_off)->metadata.at("statusCode"), "404");
  EXPECT_EQ((*per_call_off)->metadata.at("status"), "404 Not Found");
  EXPECT_EQ((*per_call_off)->data, "no such item");

  auto component_off = lenient->Invoke(Call("get", "", {{"path", "item"}}));
  ASSERT_TRUE(component_off.ok()) << component_off.status().ToString();
  EXPECT_EQ((*component_off)->metadata.at("statusCode"), "404");

  auto per_call_on = lenient->Invoke(Call("get", "", {{"path", "item"}, {"errorIfNot2XX", "yes"}}));
  EXPECT_FALSE(per_call_on.ok());
  EXPECT_EQ(server.requests().size(), 5u);
}

TEST(HttpBindingTest, ResponseTimeoutBoundsTheCall) {
  ScriptedHttpServer server([](const ScriptedHttpServer::Request&, size_t) { return Reply{"", false, true}; });
  auto binding = Make({{"url", server.url("/")}, {"responseTimeout", "200ms"}});
  const auto start = std::chrono::steady_clock::now();
  auto r = binding->Invoke(Call("post", "x"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("POST " + server.url("/")), std::string::npos) << r.status().message();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 5s);
}

TEST(HttpBindingTest, MaxResponseBodySizeRejectsLargerBodies) {
  ScriptedHttpServer server([](const ScriptedHttpServer::Request& q, size_t) {
    return ScriptedHttpServer::Ok(q.target == "/big" ? "0123456789A" : "0123456789");
  });
  auto binding = Make({{"url", server.url("/")}, {"maxResponseBodySize", "10"}});
  auto fits = binding->Invoke(Call("get", "", {{"path", "small"}}));
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ((*fits)->data, "0123456789");
  auto big = binding->Invoke(Call("get", "", {{"path", "big"}}));
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted) << big.status().ToString();
}

TEST(HttpBindingTest, UnreachableEndpointIsUnavailable) {
  const std::string url = "http://127.0.0.1:" + std::to_string(ofn::testing::FreePort()) + "/";
  auto binding = Make({{"url", url}});
  auto r = binding->Invoke(Call("get"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("GET " + url), std::string::npos) << r.status().message();
}

TEST(HttpBindingTest, ConcurrentInvokesGetTheirOwnAnswers) {
  ScriptedHttpServer server(
      [](const ScriptedHttpServer::Request& q, size_t) { return ScriptedHttpServer::Ok(q.body); });
  auto binding = Make({{"url", server.url("/")}});
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string body = std::to_string(t) + "-" + std::to_string(i);
        auto r = binding->Invoke(Call("post", body));
        if (!r.ok() || (*r)->data != body) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(server.requests().size(), 100u);
}

}  // namespace
}  // namespace ofn::components

#include "components/dapr_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "components/sqlite_state_store.h"
#include "net/http_server.h"
#include "support/raw_http.h"
#include "support/process.h"  // TempDir

namespace ofn::components {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

using ofn::testing::TempDir;

// A store that is not transactional, to reach ERR_STATE_STORE_NOT_SUPPORTED,
// and that can be told to fail, to reach the 500s.
class FakeStore : public StateStore {
 public:
  std::string_view type() const override { return "state.fake"; }
  std::vector<std::string> features() const override { return {"ETAG"}; }
  Result<std::optional<StateItem>> Get(std::string_view) override { return Status::Unavailable("backend down"); }
  Result<std::vector<std::optional<StateItem>>> BulkGet(const std::vector<std::string>&) override {
    return Status::Unavailable("backend down");
  }
  Status Set(const SetRequest&) override { return Status::Unavailable("backend down"); }
  Status Delete(const DeleteRequest&) override { return Status::Unavailable("backend down"); }
  Status Transaction(const std::vector<StateOperation>&) override { return Status::Unimplemented("no"); }
};

class DaprApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStateStore::Open(dir_.Sub("state.db"), {.sync_full = false, .max_transaction_operations = 3});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::shared_ptr<StateStore>(std::move(*s));
    api_.AddStateStore("statestore", store_, ResolveKeyPrefix("appid", "myapp", "statestore"));
    api_.AddStateStore("fake", std::make_shared<FakeStore>(), "");
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    // HttpRequest holds views: keep the strings alive for the call.
    HttpRequest req;
    req.set_method(method);
    req.set_target(target);
    req.set_body(body);
    for (const auto& [n, v] : headers) req.add_header(n, v);
    HttpResponse resp;
    api_.Handle(req, resp);
    return resp;
  }
  static json ErrorBody(const HttpResponse& r) { return json::parse(r.body(), nullptr, false); }
  static std::string Code(const HttpResponse& r) {
    json j = ErrorBody(r);
    return j.is_object() && j.contains("errorCode") ? j["errorCode"].get<std::string>() : "<" + r.body() + ">";
  }
  static std::string Etag(const HttpResponse& r) {
    const std::string* e = r.header("ETag");
    return e != nullptr ? *e : "";
  }

  TempDir dir_;
  std::shared_ptr<StateStore> store_;
  DaprApi api_{DaprApiOptions{.app_id = "myapp", .runtime_version = "ofn-test", .api_token = ""}};
};

TEST_F(DaprApiTest, SaveGetRoundTripReencodesValues) {
  auto r = Call("POST", "/v1.0/state/statestore",
                R"([{"key":"k1","value":{"b":1,"a":"<x&y>"}},{"key":"k2","value":"hi"},{"key":"k3","value":7}])");
  ASSERT_EQ(r.status(), 204) << r.body();
  EXPECT_TRUE(r.body().empty());

  r = Call("GET", "/v1.0/state/statestore/k1");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), R"({"a":"\u003cx\u0026y\u003e","b":1})");
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  EXPECT_FALSE(Etag(r).empty());
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/k2").body(), "\"hi\"");  // a string keeps its quotes
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/k3?consistency=strong&metadata.x=1").body(), "7");
  // Stored under Dapr's "<appid>||<key>".
  auto raw = store_->Get("myapp||k3");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->value, "7");
}

TEST_F(DaprApiTest, PutSavesAndEmptyArraySucceeds) {
  EXPECT_EQ(Call("PUT", "/v1.0/state/statestore", R"([{"KEY":"k","Value":1}])").status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/k").body(), "1");  // field names are case-insensitive
  EXPECT_EQ(Call("POST", "/v1.0/state/statestore?", "[]").status(), 204);
}

TEST_F(DaprApiTest, GetMissingIs204) {
  auto r = Call("GET", "/v1.0/state/statestore/missing");
  EXPECT_EQ(r.status(), 204);
  EXPECT_TRUE(r.body().empty());
}

TEST_F(DaprApiTest, SaveEtagSemantics) {
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":1}])").status(), 204);
  std::string etag = Etag(Call("GET", "/v1.0/state/statestore/k"));
  std::string stale = std::to_string(std::stol(etag) + 50);

  auto r = Call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":2,"etag":")" + stale + R"("}])");
  EXPECT_EQ(r.status(), 409);
  EXPECT_EQ(Code(r), "ERR_STATE_SAVE");
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  EXPECT_TRUE(ErrorBody(r).contains("message"));

  r = Call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":2,"etag":"abc"}])");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_STATE_SAVE");

  r = Call("POST", "/v1.0/state/statestore",
           R"([{"key":"k","value":3,"etag":")" + stale + R"(","options":{"concurrency":"last-write"}}])");
  EXPECT_EQ(r.status(), 204);

  etag = Etag(Call("GET", "/v1.0/state/statestore/k"));
  r = Call("POST", "/v1.0/state/statestore",
           R"([{"key":"k","value":4,"etag":")" + etag + R"(","options":{"concurrency":"first-write","consistency":"strong"}}])");
  EXPECT_EQ(r.status(), 204);
  auto got = Call("GET", "/v1.0/state/statestore/k");
  EXPECT_EQ(got.body(), "4");
  EXPECT_NE(Etag(got), etag);
}

TEST_F(DaprApiTest, FirstWriteWithoutEtagIsCreateOnly) {
  const std::string body = R"([{"key":"once","value":1,"options":{"concurrency":"first-write"}}])";
  EXPECT_EQ(Call("POST", "/v1.0/state/statestore", body).status(), 204);
  auto r = Call("POST", "/v1.0/state/statestore", body);
  EXPECT_EQ(r.status(), 500);  // daprd: a plain store error, not an etag error
  EXPECT_EQ(Code(r), "ERR_STATE_SAVE");
}

TEST_F(DaprApiTest, SaveBadRequests) {
  struct Case {
    std::string body;
    int status;
    std::string code;
  } cases[] = {
      {"not json", 400, "ERR_MALFORMED_REQUEST"},
      {R"({"key":"k"})", 400, "ERR_MALFORMED_REQUEST"},
      {R"([{"value":1}])", 400, "ERR_MALFORMED_REQUEST"},
      {R"([{"key":"","value":1}])", 400, "ERR_MALFORMED_REQUEST"},
      {R"([{"key":"a||b","value":1}])", 400, "ERR_MALFORMED_REQUEST"},
      {R"([{"key":"k","value":1,"etag":5}])", 400, "ERR_MALFORMED_REQUEST"},
      {R"([{"key":"k","value":1,"options":{"concurrency":"sometimes"}}])", 500, "ERR_STATE_SAVE"},
      {R"([{"key":"k","value":1,"options":{"consistency":"maybe"}}])", 500, "ERR_STATE_SAVE"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/v1.0/state/statestore", c.body);
    EXPECT_EQ(r.status(), c.status) << c.body;
    EXPECT_EQ(Code(r), c.code) << c.body;
  }
}

TEST_F(DaprApiTest, UnknownStoreAndNoStores) {
  auto r = Call("GET", "/v1.0/state/nosuch/k");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_STATE_STORE_NOT_FOUND");
  EXPECT_EQ(Code(Call("POST", "/v1.0/state/nosuch", "[]")), "ERR_STATE_STORE_NOT_FOUND");
  EXPECT_EQ(Code(Call("DELETE", "/v1.0/state/nosuch/k")), "ERR_STATE_STORE_NOT_FOUND");
  EXPECT_EQ(Code(Call("POST", "/v1.0/state/nosuch/bulk", "{}")), "ERR_STATE_STORE_NOT_FOUND");
  EXPECT_EQ(Code(Call("POST", "/v1.0/state/nosuch/transaction", "{}")), "ERR_STATE_STORE_NOT_FOUND");

  DaprApi empty(DaprApiOptions{.app_id = "a", .runtime_version = "x", .api_token = ""});
  HttpRequest req;
  req.set_method("GET");
  req.set_target("/v1.0/state/statestore/k");
  HttpResponse resp;
  empty.Handle(req, resp);
  EXPECT_EQ(resp.status(), 500);
  EXPECT_EQ(Code(resp), "ERR_STATE_STORE_NOT_CONFIGURED");
}

TEST_F(DaprApiTest, StoreFailuresAre500) {
  auto r = Call("GET", "/v1.0/state/fake/k");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_GET");
  r = Call("POST", "/v1.0/state/fake", R"([{"key":"k","value":1}])");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_SAVE");
  r = Call("DELETE", "/v1.0/state/fake/k");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_DELETE");
  r = Call("POST", "/v1.0/state/fake/bulk", R"({"keys":["a","b"]})");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(json::parse(r.body())[1]["key"], "b");
  EXPECT_TRUE(json::parse(r.body())[1].contains("error"));
}

TEST_F(DaprApiTest, DeleteWithIfMatch) {
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":1}])").status(), 204);
  std::string etag = Etag(Call("GET", "/v1.0/state/statestore/k"));
  auto r = Call("DELETE", "/v1.0/state/statestore/k", "", {{"If-Match", std::to_string(std::stol(etag) + 9)}});
  EXPECT_EQ(r.status(), 409);
  EXPECT_EQ(Code(r), "ERR_STATE_DELETE");
  r = Call("DELETE", "/v1.0/state/statestore/k", "", {{"If-Match", "xyz"}});
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_STATE_DELETE");
  r = Call("DELETE", "/v1.0/state/statestore/k?concurrency=bogus");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_DELETE");
  EXPECT_EQ(Call("DELETE", "/v1.0/state/statestore/k", "", {{"if-match", etag}}).status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/k").status(), 204);
  EXPECT_EQ(Call("DELETE", "/v1.0/state/statestore/k").status(), 204);  // missing: still 204
  // last-write ignores a stale If-Match.
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":1}])").status(), 204);
  EXPECT_EQ(Call("DELETE", "/v1.0/state/statestore/k?concurrency=last-write&consistency=eventual", "",
                 {{"If-Match", etag}})
                .status(),
            204);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/k").status(), 204);
}

TEST_F(DaprApiTest, PercentEncodedKeys) {
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"a b/c","value":1}])").status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/a%20b%2Fc").body(), "1");
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/a%7C%7Cb").status(), 400);
}

TEST_F(DaprApiTest, BulkGet) {
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"a","value":{"x":1}},{"key":"c","value":"s"}])").status(),
            204);
  std::string etag_a = Etag(Call("GET", "/v1.0/state/statestore/a"));
  auto r = Call("POST", "/v1.0/state/statestore/bulk", R"({"keys":["a","missing","c"],"parallelism":10})");
  ASSERT_EQ(r.status(), 200);
  json j = json::parse(r.body());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0], json({{"key", "a"}, {"data", {{"x", 1}}}, {"etag", etag_a}}));
  EXPECT_EQ(j[1], json({{"key", "missing"}}));
  EXPECT_EQ(j[2]["data"], "s");
  EXPECT_EQ(Call("PUT", "/v1.0/state/statestore/bulk", R"({"keys":[]})").body(), "[]");
  EXPECT_EQ(Call("POST", "/v1.0/state/statestore/bulk?", R"({"keys":null})").body(), "[]");
  EXPECT_EQ(Code(Call("POST", "/v1.0/state/statestore/bulk", "nope")), "ERR_MALFORMED_REQUEST");
  EXPECT_EQ(Code(Call("POST", "/v1.0/state/statestore/bulk", R"({"keys":[1]})")), "ERR_MALFORMED_REQUEST");
  EXPECT_EQ(Call("POST", "/v1.0/state/statestore/bulk", R"({"keys":["x||y"]})").status(), 400);
}

TEST_F(DaprApiTest, Transaction) {
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"b","value":1}])").status(), 204);
  std::string etag_b = Etag(Call("GET", "/v1.0/state/statestore/b"));
  auto r = Call("POST", "/v1.0/state/statestore/transaction",
                R"({"operations":[{"operation":"upsert","request":{"key":"a","value":{"n":1}}},
                                  {"operation":"delete","request":{"key":"b","etag":")" +
                    etag_b + R"("}}],"metadata":null})");
  EXPECT_EQ(r.status(), 204) << r.body();
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/a").body(), R"({"n":1})");
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/b").status(), 204);
  EXPECT_EQ(Call("PUT", "/v1.0/state/statestore/transaction", R"({"operations":[]})").status(), 204);
}

TEST_F(DaprApiTest, TransactionFailureRollsBack) {
  auto r = Call("POST", "/v1.0/state/statestore/transaction",
                R"({"operations":[{"operation":"upsert","request":{"key":"x","value":1}},
                                  {"operation":"upsert","request":{"key":"y","value":2,"etag":"77"}}]})");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_TRANSACTION");
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/x").status(), 204);
}

TEST_F(DaprApiTest, TransactionBadRequests) {
  auto r = Call("POST", "/v1.0/state/statestore/transaction",
                R"({"operations":[{"operation":"merge","request":{"key":"x"}}]})");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_NOT_SUPPORTED_STATE_OPERATION");
  r = Call("POST", "/v1.0/state/statestore/transaction", "[");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_MALFORMED_REQUEST");
  r = Call("POST", "/v1.0/state/statestore/transaction", R"({"operations":[{"operation":"upsert","request":{}}]})");
  EXPECT_EQ(Code(r), "ERR_MALFORMED_REQUEST");
  const std::string op = R"({"operation":"upsert","request":{"key":"x","value":1}})";
  r = Call("POST", "/v1.0/state/statestore/transaction",
           R"({"operations":[)" + op + "," + op + "," + op + "," + op + "]}");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS");
  r = Call("POST", "/v1.0/state/fake/transaction", R"({"operations":[)" + op + "]}");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_STATE_STORE_NOT_SUPPORTED");
}

TEST_F(DaprApiTest, WrongMethodsAndUnknownRoutes) {
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore").status(), 405);
  EXPECT_EQ(Call("PATCH", "/v1.0/state/statestore/k").status(), 405);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/a/b").status(), 404);
  EXPECT_EQ(Call("GET", "/v1.0/nothing").status(), 404);
  EXPECT_EQ(Call("GET", "/other").status(), 404);
  // A key named "bulk" is still readable with GET.
  ASSERT_EQ(Call("POST", "/v1.0/state/statestore", R"([{"key":"bulk","value":1}])").status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/state/statestore/bulk").body(), "1");
}

TEST_F(DaprApiTest, HealthAndReadiness) {
  EXPECT_EQ(Call("GET", "/v1.0/healthz").status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/healthz/outbound").status(), 204);
  EXPECT_EQ(Call("GET", "/v1.0/healthz?appid=myapp").status(), 204);
  auto r = Call("GET", "/v1.0/healthz?appid=other");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_HEALTH_APPID_NOT_MATCH");
  api_.set_ready(false);
  r = Call("GET", "/v1.0/healthz");
  EXPECT_EQ(r.status(), 500);
  EXPECT_EQ(Code(r), "ERR_HEALTH_NOT_READY");
  EXPECT_EQ(Call("GET", "/v1.0/healthz/outbound").status(), 204);
}

TEST_F(DaprApiTest, Metadata) {
  auto r = Call("GET", "/v1.0/metadata");
  ASSERT_EQ(r.status(), 200);
  json j = json::parse(r.body());
  EXPECT_EQ(j["id"], "myapp");
  EXPECT_EQ(j["runtimeVersion"], "ofn-test");
  EXPECT_FALSE(j.contains("extended"));  // empty fields are omitted
  ASSERT_EQ(j["components"].size(), 2u);
  EXPECT_EQ(j["components"][1], json({{"name", "statestore"},
                                      {"type", "state.ofn"},
                                      {"version", "v1"},
                                      {"capabilities", {"ETAG", "TRANSACTIONAL"}}}));
  EXPECT_EQ(Call("PUT", "/v1.0/metadata/color", "blue").status(), 204);
  EXPECT_EQ(json::parse(Call("GET", "/v1.0/metadata").body())["extended"], json({{"color", "blue"}}));
  EXPECT_EQ(Call("POST", "/v1.0/metadata").status(), 405);
}

TEST_F(DaprApiTest, PublishAndBindingsAre501) {
  auto r = Call("POST", "/v1.0/publish/pubsub/topic", "{}");
  EXPECT_EQ(r.status(), 501);
  EXPECT_EQ(Code(r), "ERR_NOT_IMPLEMENTED");
  r = Call("POST", "/v1.0/bindings/out", R"({"operation":"create"})");
  EXPECT_EQ(r.status(), 501);
  EXPECT_EQ(Code(r), "ERR_NOT_IMPLEMENTED");
  EXPECT_EQ(Call("POST", "/v1.0-alpha1/state/statestore/query", "{}").status(), 501);
}

TEST_F(DaprApiTest, ApiToken) {
  DaprApi api(DaprApiOptions{.app_id = "a", .runtime_version = "x", .api_token = "s3cret"});
  api.AddStateStore("statestore", store_);
  auto call = [&](std::string target, std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest req;
    req.set_method("GET");
    req.set_target(target);
    for (const auto& [n, v] : headers) req.add_header(n, v);
    HttpResponse resp;
    api.Handle(req, resp);
    return resp;
  };
  auto r = call("/v1.0/metadata", {});
  EXPECT_EQ(r.status(), 401);
  EXPECT_EQ(r.body(), "invalid api token");
  EXPECT_EQ(call("/v1.0/metadata", {{"dapr-api-token", "wrong"}}).status(), 401);
  EXPECT_EQ(call("/v1.0/metadata", {{"dapr-api-token", "s3cret"}}).status(), 200);
  EXPECT_EQ(call("/v1.0/healthz", {}).status(), 204);  // exempt
  EXPECT_EQ(call("/v1.0/healthz/outbound", {}).status(), 204);
}

TEST(ResolveKeyPrefixTest, DaprModes) {
  EXPECT_EQ(ResolveKeyPrefix("", "app", "store"), "app");
  EXPECT_EQ(ResolveKeyPrefix("appid", "app", "store"), "app");
  EXPECT_EQ(ResolveKeyPrefix("name", "app", "store"), "store");
  EXPECT_EQ(ResolveKeyPrefix("namespace", "app", "store", "ns"), "ns.app");
  EXPECT_EQ(ResolveKeyPrefix("none", "app", "store"), "");
  EXPECT_EQ(ResolveKeyPrefix("custom", "app", "store"), "custom");
}

// The handler behind a real HttpServer, spoken to over TCP.
TEST_F(DaprApiTest, ServedOverHttp) {
  auto server = net::HttpServer::Start({.host = "127.0.0.1", .port = 0, .loops = 1},
                                       [this](HttpRequest& req, HttpResponse& resp) { api_.Handle(req, resp); });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  auto deadline = [] { return testing::After(5000ms); };

  auto r = testing::RoundTrip(port, testing::Post("/v1.0/state/statestore", R"([{"key":"k","value":{"v":1}}])",
                                                  "application/json"),
                              deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204) << r->Describe();

  r = testing::RoundTrip(port, testing::Get("/v1.0/state/statestore/k"), deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->body, R"({"v":1})");
  auto etag = r->Header("ETag");
  ASSERT_TRUE(etag.has_value());

  testing::RawRequest del;
  del.method = "DELETE";
  del.target = "/v1.0/state/statestore/k";
  del.Header("If-Match", std::to_string(std::stol(*etag) + 1));
  r = testing::RoundTrip(port, del, deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 409) << r->Describe();
  EXPECT_EQ(json::parse(r->body)["errorCode"], "ERR_STATE_DELETE");

  del.headers.clear();
  del.Header("If-Match", *etag);
  r = testing::RoundTrip(port, del, deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204) << r->Describe();

  r = testing::RoundTrip(port, testing::Get("/v1.0/state/nosuch/k"), deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["errorCode"], "ERR_STATE_STORE_NOT_FOUND");

  r = testing::RoundTrip(port, testing::Get("/v1.0/metadata"), deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["id"], "myapp");

  r = testing::RoundTrip(port, testing::Get("/v1.0/healthz"), deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204);
  (*server)->Shutdown(1000ms);
}

}  // namespace
}  // namespace ofn::components

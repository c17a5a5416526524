#include "components/dapr_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

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

// Records what is published. A message whose metadata has "fail" is refused
// with that value in the error, to reach the broker-error paths.
class FakePubSub : public PubSub {
 public:
  Status Publish(const PublishRequest& request) override {
    if (auto it = request.metadata.find("fail"); it != request.metadata.end()) {
      return Status::Unavailable("broker says no: " + it->second);
    }
    std::lock_guard lock(mu_);
    published_.push_back(request);
    return Status::Ok();
  }
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest&, MessageHandler) override {
    return Status::Unimplemented("FakePubSub does not deliver");
  }
  std::vector<PublishRequest> published() const {
    std::lock_guard lock(mu_);
    return published_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<PublishRequest> published_;
};

// Records invocations. "create" answers no response (like redis); "get"
// answers the request's data with response metadata, in the content type
// named by request metadata "as" (if any); request metadata "fail" fails it.
class FakeOutputBinding : public OutputBinding {
 public:
  std::vector<std::string> Operations() const override { return {"create", "get"}; }
  Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    if (request.metadata.contains("fail")) return Status::Unavailable("backend down");
    if (request.operation == "create") return std::optional<BindingResponse>();
    auto as = request.metadata.find("as");
    return std::optional<BindingResponse>(BindingResponse{
        .data = request.data,
        .metadata = {{"statusCode", "200"}, {"bad\r\nheader", "x"}, {"split", "a\r\nInjected: 1"}},
        .content_type = as == request.metadata.end() ? "" : as->second});
  }
  std::vector<BindingRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<BindingRequest> requests_;
};

class DaprApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStateStore::Open(dir_.Sub("state.db"), {.sync_full = false, .max_transaction_operations = 3});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::shared_ptr<StateStore>(std::move(*s));
    auto scope = std::make_shared<ApiScope>();
    scope->app_id = "myapp";
    scope->states["statestore"] = {store_, ResolveKeyPrefix("appid", "myapp", "statestore")};
    scope->states["fake"] = {std::make_shared<FakeStore>(), ""};
    scope->pubsubs["pubsub"] = pubsub_;
    scope->outputs["out"] = binding_;
    scope->types = {{"pubsub", "pubsub.redis"}, {"out", "bindings.http"}, {"cron", "bindings.cron"}};
    api_.SetScope("", scope);
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

  // The single message the fake pub/sub received, parsed as a CloudEvent.
  json OnlyEvent() {
    auto published = pubsub_->published();
    EXPECT_EQ(published.size(), 1u);
    if (published.size() != 1) return json();
    json ce = json::parse(published[0].data, nullptr, false);
    EXPECT_TRUE(ce.is_object()) << published[0].data;
    return ce;
  }

  TempDir dir_;
  std::shared_ptr<StateStore> store_;
  std::shared_ptr<FakePubSub> pubsub_ = std::make_shared<FakePubSub>();
  std::shared_ptr<FakeOutputBinding> binding_ = std::make_shared<FakeOutputBinding>();
  DaprApi api_{DaprApiOptions{.runtime_version = "ofn-test"}};
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

  DaprApi empty;
  empty.SetScope("", std::make_shared<ApiScope>(ApiScope{.app_id = "a"}));
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
  // Every kind of component of the scope, by name, with what is known of it.
  EXPECT_EQ(j["components"],
            json::parse(R"([{"name":"cron","type":"bindings.cron","version":"v1"},
                            {"name":"fake","type":"state.fake","version":"v1","capabilities":["ETAG"]},
                            {"name":"out","type":"bindings.http","version":"v1","capabilities":["OUTPUT_BINDING"]},
                            {"name":"pubsub","type":"pubsub.redis","version":"v1"},
                            {"name":"statestore","type":"state.ofn","version":"v1",
                             "capabilities":["ETAG","TRANSACTIONAL"]}])"));
  EXPECT_EQ(Call("PUT", "/v1.0/metadata/color", "blue").status(), 204);
  EXPECT_EQ(json::parse(Call("GET", "/v1.0/metadata").body())["extended"], json({{"color", "blue"}}));
  EXPECT_EQ(Call("POST", "/v1.0/metadata").status(), 405);
}

TEST_F(DaprApiTest, OtherAlphaRoutesAre501) {
  auto r = Call("POST", "/v1.0-alpha1/state/statestore/query", "{}");
  EXPECT_EQ(r.status(), 501);
  EXPECT_EQ(Code(r), "ERR_NOT_IMPLEMENTED");
  EXPECT_EQ(Call("POST", "/v1.0-alpha1/publish/pubsub/t", "x").status(), 501);  // single publish is v1.0 only
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

  // Publish as the JS SDK sends it: a bare "?".
  r = testing::RoundTrip(port, testing::Post("/v1.0/publish/pubsub/orders?", "hello", "text/plain"), deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204) << r->Describe();
  ASSERT_EQ(pubsub_->published().size(), 1u);
  EXPECT_EQ(json::parse(pubsub_->published()[0].data)["data"], "hello");

  // A binding response: body, Content-Type and metadata.* headers.
  r = testing::RoundTrip(port, testing::Post("/v1.0/bindings/out", R"({"operation":"get","data":{"a":1}})",
                                             "application/json"),
                         deadline());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->body, R"({"a":1})");
  EXPECT_EQ(r->Header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(r->Header("metadata.statusCode").value_or(""), "200");
  EXPECT_EQ(r->HeaderCount("Injected"), 0u);
  (*server)->Shutdown(1000ms);
}


// ---- publish (fact sheet §1.1) ----

// "2024-05-06T07:08:09Z" within `slack` of now.
::testing::AssertionResult IsRecentRfc3339(const json& v, std::chrono::seconds slack = 60s) {
  if (!v.is_string()) return ::testing::AssertionFailure() << v.dump() << " is not a string";
  std::tm tm{};
  const std::string s = v.get<std::string>();
  if (s.size() != 20 || strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) {
    return ::testing::AssertionFailure() << s << " is not RFC 3339 in seconds, UTC";
  }
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto now = std::chrono::system_clock::now();
  if (t < now - slack || t > now + slack) return ::testing::AssertionFailure() << s << " is not now";
  return ::testing::AssertionSuccess();
}

TEST_F(DaprApiTest, PublishWrapsTheBodyInACloudEvent) {
  auto r = Call("POST", "/v1.0/publish/pubsub/orders/eu%2F1?metadata.k=v&metadata.k=w&other=1&metadata.partitionKey=p",
                "hello", {{"Content-Type", "text/plain"}, {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
  EXPECT_EQ(r.status(), 204) << r.body();
  EXPECT_TRUE(r.body().empty());
  auto published = pubsub_->published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].topic, "orders/eu/1");  // the rest of the path, decoded
  // metadata.* only, prefix removed, the first of a repeated key wins.
  EXPECT_EQ(published[0].metadata, (std::map<std::string, std::string>{{"k", "v"}, {"partitionKey", "p"}}));
  json ce = OnlyEvent();
  EXPECT_TRUE(std::regex_match(ce.value("id", ""), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << ce.dump();
  EXPECT_EQ(ce["source"], "myapp");
  EXPECT_EQ(ce["type"], "com.dapr.event.sent");
  EXPECT_EQ(ce["specversion"], "1.0");
  EXPECT_EQ(ce["datacontenttype"], "text/plain");
  EXPECT_EQ(ce["topic"], "orders/eu/1");
  EXPECT_EQ(ce["pubsubname"], "pubsub");
  EXPECT_EQ(ce["traceid"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(ce["traceparent"], ce["traceid"]);
  EXPECT_EQ(ce["tracestate"], "");
  EXPECT_EQ(ce["data"], "hello");
  EXPECT_TRUE(IsRecentRfc3339(ce["time"]));
  EXPECT_FALSE(ce.contains("expiration"));

  // Each event gets its own id.
  ASSERT_EQ(Call("PUT", "/v1.0/publish/pubsub/orders", "again").status(), 204);
  published = pubsub_->published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_NE(json::parse(published[1].data)["id"], ce["id"]);
}

TEST_F(DaprApiTest, PublishOverridesAndTtl) {
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/t?metadata.cloudevent.id=my-id&metadata.CloudEvent.Subject=s1&metadata.ttlInSeconds=60",
                 R"({"a":1})", {{"Content-Type", "application/json"}})
                .status(),
            204);
  json ce = OnlyEvent();
  EXPECT_EQ(ce["id"], "my-id");
  EXPECT_EQ(ce["subject"], "s1");
  EXPECT_EQ(ce["data"], json({{"a", 1}}));
  ASSERT_TRUE(IsRecentRfc3339(ce["expiration"], 120s));
  EXPECT_GT(ce["expiration"].get<std::string>(), ce["time"].get<std::string>());
  // The metadata also reaches the component.
  EXPECT_EQ(pubsub_->published()[0].metadata.at("ttlInSeconds"), "60");
}

TEST_F(DaprApiTest, PublishRawPayload) {
  for (std::string value : {"true", "True", "1", "t"}) {
    const std::string body = "{not wrapped " + value + "}";
    auto r = Call("POST", "/v1.0/publish/pubsub/raw?metadata.rawPayload=" + value, body,
                  {{"Content-Type", "application/cloudevents+json"}});
    ASSERT_EQ(r.status(), 204) << value << " " << r.body();
    EXPECT_EQ(pubsub_->published().back().data, body);
    EXPECT_EQ(pubsub_->published().back().metadata.at("rawPayload"), value);
  }
  // false (or empty) wraps as usual.
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/raw?metadata.rawPayload=false", "x").status(), 204);
  EXPECT_EQ(json::parse(pubsub_->published().back().data)["data"], "x");
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/raw?metadata.rawPayload=", "y").status(), 204);
  EXPECT_EQ(json::parse(pubsub_->published().back().data)["data"], "y");
  const size_t count = pubsub_->published().size();

  auto r = Call("POST", "/v1.0/publish/pubsub/raw?metadata.rawPayload=yes", "x");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(Code(r), "ERR_PUBSUB_REQUEST_METADATA");
  EXPECT_EQ(pubsub_->published().size(), count);
}

TEST_F(DaprApiTest, PublishErrors) {
  struct Case {
    std::string method, target, content_type, body;
    int status;
    std::string code;
  } cases[] = {
      {"GET", "/v1.0/publish/pubsub/t", "", "", 405, "ERR_METHOD_NOT_ALLOWED"},
      {"POST", "/v1.0/publish//t", "", "x", 404, "ERR_PUBSUB_EMPTY"},
      {"POST", "/v1.0/publish/", "", "x", 404, "ERR_PUBSUB_EMPTY"},
      {"POST", "/v1.0/publish/nosuch/t", "", "x", 404, "ERR_PUBSUB_NOT_FOUND"},
      {"POST", "/v1.0/publish/pubsub", "", "x", 404, "ERR_TOPIC_NAME_EMPTY"},
      {"POST", "/v1.0/publish/pubsub/", "", "x", 404, "ERR_TOPIC_NAME_EMPTY"},
      {"POST", "/v1.0/publish/pubsub/t%zz", "", "x", 400, "ERR_MALFORMED_REQUEST"},
      {"POST", "/v1.0/publish/pubsub/t", "application/cloudevents+json", "not json", 500, "ERR_PUBSUB_CLOUD_EVENTS_SER"},
      {"PUT", "/v1.0/publish/pubsub/t", "application/cloudevents+json", "[1]", 500, "ERR_PUBSUB_CLOUD_EVENTS_SER"},
      {"POST", "/v1.0/publish/pubsub/t?metadata.fail=full", "", "x", 500, "ERR_PUBSUB_PUBLISH_MESSAGE"},
  };
  for (const auto& c : cases) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    auto r = Call(c.method, c.target, c.body, headers);
    EXPECT_EQ(r.status(), c.status) << c.method << " " << c.target;
    EXPECT_EQ(Code(r), c.code) << c.method << " " << c.target;
  }
  EXPECT_TRUE(pubsub_->published().empty());
  auto r = Call("POST", "/v1.0/publish/pubsub/t?metadata.fail=full", "x");
  EXPECT_EQ(ErrorBody(r)["message"], "error when publish to topic t in pubsub pubsub: broker says no: full");

  // An app without any pub/sub.
  DaprApi bare;
  bare.SetScope("", std::make_shared<ApiScope>(ApiScope{.app_id = "bare"}));
  HttpRequest req;
  req.set_method("POST");
  req.set_target("/v1.0/publish/pubsub/t");
  HttpResponse resp;
  bare.Handle(req, resp);
  EXPECT_EQ(resp.status(), 400);
  EXPECT_EQ(Code(resp), "ERR_PUBSUB_NOT_CONFIGURED");
}

// ---- bulk publish (§1.2) ----

TEST_F(DaprApiTest, BulkPublish) {
  // The JS SDK 3.x shape: "entryID", a bare "?" when there is no metadata.
  const std::string body = R"([
      {"entryID":"e1","event":"hello","contentType":"text/plain","metadata":{}},
      {"entryId":"e2","event":{"b":1.0,"a":"<"},"contentType":"application/json","metadata":{"k":"entry"}},
      {"ENTRYID":"e3","event":"aGk=","contentType":"application/octet-stream"},
      {"entryId":"e4","event":{"id":"ce-4","source":"s","type":"t","specversion":"1.0","data":7},
       "contentType":"application/cloudevents+json","metadata":null}])";
  auto r = Call("POST", "/v1.0-alpha1/publish/bulk/pubsub/orders?metadata.k=req&metadata.r=1", body,
                {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status(), 204) << r.body();
  auto published = pubsub_->published();
  ASSERT_EQ(published.size(), 4u);  // one publish per entry, in order
  std::vector<json> events;
  for (const auto& p : published) {
    EXPECT_EQ(p.topic, "orders");
    EXPECT_EQ(p.metadata.at("r"), "1");
    events.push_back(json::parse(p.data));
  }
  EXPECT_EQ(published[0].metadata.at("k"), "req");
  EXPECT_EQ(published[1].metadata.at("k"), "entry");  // the entry's metadata wins
  EXPECT_EQ(events[0]["data"], "hello");
  EXPECT_EQ(events[0]["datacontenttype"], "text/plain");
  EXPECT_EQ(events[0]["source"], "myapp");
  EXPECT_EQ(events[1]["data"], json({{"a", "<"}, {"b", 1}}));
  EXPECT_NE(published[1].data.find(R"("data":{"a":"\u003c","b":1})"), std::string::npos) << published[1].data;
  EXPECT_EQ(events[2]["data_base64"], "aGk=");
  EXPECT_EQ(events[3]["id"], "ce-4");
  EXPECT_EQ(events[3]["data"], 7);
  EXPECT_EQ(events[3]["pubsubname"], "pubsub");
  EXPECT_NE(events[0]["id"], events[1]["id"]);

  // The same route under /v1.0/, PUT, rawPayload, and an empty array.
  r = Call("PUT", "/v1.0/publish/bulk/pubsub/raw?metadata.rawPayload=true",
           R"([{"entryId":"1","event":"plain","contentType":"text/plain"}])");
  ASSERT_EQ(r.status(), 204) << r.body();
  EXPECT_EQ(pubsub_->published().back().data, "plain");
  EXPECT_EQ(pubsub_->published().back().topic, "raw");
  EXPECT_EQ(Call("POST", "/v1.0-alpha1/publish/bulk/pubsub/t?", "[]").status(), 204);
  EXPECT_EQ(pubsub_->published().size(), 5u);
}

TEST_F(DaprApiTest, BulkPublishRejectsBadEntriesBeforePublishing) {
  struct Case {
    std::string target, body;
    int status;
    std::string code;
  } cases[] = {
      {"/v1.0-alpha1/publish/bulk/pubsub/t", "nope", 400, "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"({"entryId":"1"})", 400, "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t",
       R"([{"entryId":"1","event":"a","contentType":"text/plain"},{"entryId":"1","event":"b","contentType":"text/plain"}])",
       400, "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"([{"event":"a","contentType":"text/plain"}])", 400,
       "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"([{"entryId":1,"event":"a","contentType":"text/plain"}])", 400,
       "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"([{"entryId":"1","event":{"a":1},"contentType":"text/plain"}])", 400,
       "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"([{"entryId":"1","event":"a","contentType":"image/png"}])", 400,
       "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t", R"([{"entryId":"1","event":"a","metadata":{"n":1}}])", 400,
       "ERR_PUBSUB_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t",
       R"([{"entryId":"1","event":"a","contentType":"application/cloudevents+json"}])", 500,
       "ERR_PUBSUB_CLOUD_EVENTS_SER"},
      {"/v1.0-alpha1/publish/bulk/pubsub/t?metadata.rawPayload=maybe", "[]", 400, "ERR_PUBSUB_REQUEST_METADATA"},
      {"/v1.0-alpha1/publish/bulk/nosuch/t", "[]", 404, "ERR_PUBSUB_NOT_FOUND"},
      {"/v1.0-alpha1/publish/bulk/pubsub/", "[]", 404, "ERR_TOPIC_NAME_EMPTY"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", c.target, c.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status(), c.status) << c.target << " " << c.body;
    EXPECT_EQ(Code(r), c.code) << c.target << " " << c.body;
  }
  EXPECT_TRUE(pubsub_->published().empty());
}

TEST_F(DaprApiTest, BulkPublishReportsFailedEntries) {
  auto r = Call("POST", "/v1.0-alpha1/publish/bulk/pubsub/t",
                R"([{"entryId":"ok1","event":"a","contentType":"text/plain"},
                    {"entryId":"bad","event":"b","contentType":"text/plain","metadata":{"fail":"disk full"}},
                    {"entryId":"ok2","event":"c","contentType":"text/plain"}])");
  EXPECT_EQ(r.status(), 500);
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(r.body()),
            json::parse(R"({"failedEntries":[{"entryId":"bad","error":"broker says no: disk full"}],
                            "errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE"})"));
  auto published = pubsub_->published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(json::parse(published[0].data)["data"], "a");
  EXPECT_EQ(json::parse(published[1].data)["data"], "c");
}

// ---- output bindings (§1.3) ----

TEST_F(DaprApiTest, OutputBinding) {
  // No response object: 204. A JSON string reaches the component with its quotes.
  auto r = Call("POST", "/v1.0/bindings/out", R"({"operation":"create","data":"hi","metadata":{"k":"v"}})",
                {{"Content-Type", "application/json"}, {"traceparent", "00-aa-bb-01"}});
  EXPECT_EQ(r.status(), 204) << r.body();
  EXPECT_TRUE(r.body().empty());
  auto requests = binding_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].operation, "create");
  EXPECT_EQ(requests[0].data, "\"hi\"");
  EXPECT_EQ(requests[0].metadata,
            (std::map<std::string, std::string>{{"k", "v"}, {"traceparent", "00-aa-bb-01"}}));

  // A response: its bytes, metadata.<key> headers, application/json by default.
  r = Call("PUT", "/v1.0/bindings/out", R"({"Operation":"get","DATA":{"b":[1.0,2],"a":"<&>"}})");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), R"({"a":"\u003c\u0026\u003e","b":[1,2]})");
  ASSERT_NE(r.header("Content-Type"), nullptr);
  EXPECT_EQ(*r.header("Content-Type"), "application/json");
  ASSERT_NE(r.header("metadata.statusCode"), nullptr);
  EXPECT_EQ(*r.header("metadata.statusCode"), "200");
  // Entries that would break the header block are left out.
  EXPECT_EQ(r.headers().size(), 2u);

  r = Call("POST", "/v1.0/bindings/out", R"({"operation":"get","metadata":{"as":"text/plain"}})");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "null");  // absent data is Go's nil
  EXPECT_EQ(*r.header("Content-Type"), "text/plain");
}

TEST_F(DaprApiTest, OutputBindingErrors) {
  struct Case {
    std::string method, target, body;
    int status;
    std::string code, message;
  } cases[] = {
      {"POST", "/v1.0/bindings/out", "not json", 400, "ERR_MALFORMED_REQUEST", ""},
      {"POST", "/v1.0/bindings/out", "", 400, "ERR_MALFORMED_REQUEST", ""},
      {"POST", "/v1.0/bindings/out", "[]", 400, "ERR_MALFORMED_REQUEST", ""},
      {"POST", "/v1.0/bindings/out", R"({"operation":"create","metadata":{"n":1}})", 400, "ERR_MALFORMED_REQUEST", ""},
      {"POST", "/v1.0/bindings/out", R"({"operation":5})", 400, "ERR_MALFORMED_REQUEST", ""},
      {"POST", "/v1.0/bindings/out", R"({"data":1})", 500, "ERR_INVOKE_OUTPUT_BINDING",
       "error invoking output binding out: operation field is missing from request"},
      {"POST", "/v1.0/bindings/out", R"({"operation":"delete"})", 500, "ERR_INVOKE_OUTPUT_BINDING",
       "error invoking output binding out: binding out does not support operation delete. supported operations: "
       "create get"},
      {"POST", "/v1.0/bindings/nosuch", R"({"operation":"create"})", 500, "ERR_INVOKE_OUTPUT_BINDING",
       "error invoking output binding nosuch: couldn't find output binding nosuch"},
      {"POST", "/v1.0/bindings/out", R"({"operation":"get","metadata":{"fail":"1"}})", 500,
       "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding out: backend down"},
      {"GET", "/v1.0/bindings/out", "", 405, "ERR_METHOD_NOT_ALLOWED", ""},
      {"POST", "/v1.0/bindings/out/x", "{}", 404, "ERR_NOT_FOUND", ""},
      {"POST", "/v1.0/bindings/", "{}", 404, "ERR_NOT_FOUND", ""},
  };
  for (const auto& c : cases) {
    auto r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status(), c.status) << c.target << " " << c.body;
    EXPECT_EQ(Code(r), c.code) << c.target << " " << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(ErrorBody(r)["message"], c.message);
    }
  }
  // Only the component error reached the component.
  EXPECT_EQ(binding_->requests().size(), 1u);
}

// ---- what the JS SDK sends (§6) ----

TEST_F(DaprApiTest, JsSdkV3Requests) {
  // pubsub.publish(ps, topic, "hello"): text/plain, a bare "?".
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/topic?", "hello", {{"Content-Type", "text/plain"}}).status(), 204);
  // An object: application/json.
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/topic?metadata.priority=1", R"({"order":42})",
                 {{"Content-Type", "application/json"}})
                .status(),
            204);
  // An object shaped like a CloudEvent: application/cloudevents+json.
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/topic?",
                 R"({"id":"ev-1","source":"js","type":"my.type","specversion":"1.0","data":{"x":1}})",
                 {{"Content-Type", "application/cloudevents+json"}})
                .status(),
            204);
  auto published = pubsub_->published();
  ASSERT_EQ(published.size(), 3u);
  json text = json::parse(published[0].data), object = json::parse(published[1].data),
       ce = json::parse(published[2].data);
  EXPECT_EQ(text["data"], "hello");
  EXPECT_EQ(text["datacontenttype"], "text/plain");
  EXPECT_EQ(object["data"], json({{"order", 42}}));
  EXPECT_EQ(object["datacontenttype"], "application/json");
  EXPECT_EQ(published[1].metadata, (std::map<std::string, std::string>{{"priority", "1"}}));
  EXPECT_EQ(ce["id"], "ev-1");
  EXPECT_EQ(ce["source"], "js");
  EXPECT_EQ(ce["type"], "my.type");
  EXPECT_EQ(ce["data"], json({{"x", 1}}));
  EXPECT_EQ(ce["topic"], "topic");
  EXPECT_EQ(ce["pubsubname"], "pubsub");
  EXPECT_FALSE(ce.contains("datacontenttype"));

  // binding.send(name, "get", {a: 1}, {k: "v"}); the SDK parses the answer as JSON.
  auto r = Call("POST", "/v1.0/bindings/out", R"({"operation":"get","data":{"a":1},"metadata":{"k":"v"}})",
                {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status(), 200);
  EXPECT_EQ(json::parse(r.body()), json({{"a", 1}}));
}

TEST_F(DaprApiTest, JsSdkV25Requests) {
  // v2.5 always sends application/json: a string arrives as a JSON string.
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/topic?", R"("hello")", {{"Content-Type", "application/json"}}).status(),
            204);
  ASSERT_EQ(Call("POST", "/v1.0/publish/pubsub/topic?metadata.rawPayload=true", R"({"n":1})",
                 {{"Content-Type", "application/json"}})
                .status(),
            204);
  auto published = pubsub_->published();
  ASSERT_EQ(published.size(), 2u);
  json ce = json::parse(published[0].data);
  EXPECT_EQ(ce["data"], "hello");
  EXPECT_EQ(ce["datacontenttype"], "application/json");
  EXPECT_EQ(published[1].data, R"({"n":1})");

  // binding.send with a string: Dapr hands the component the quoted JSON.
  auto r = Call("POST", "/v1.0/bindings/out", R"({"operation":"create","data":"a string","metadata":{}})",
                {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status(), 204);
  ASSERT_EQ(binding_->requests().size(), 1u);
  EXPECT_EQ(binding_->requests()[0].data, R"("a string")");
}

// ---- scopes ----

struct AppFakes {
  std::shared_ptr<StateStore> store;
  std::shared_ptr<FakePubSub> pubsub = std::make_shared<FakePubSub>();
  std::shared_ptr<FakeOutputBinding> binding = std::make_shared<FakeOutputBinding>();

  std::shared_ptr<ApiScope> Scope(std::string app_id) const {
    auto scope = std::make_shared<ApiScope>();
    scope->app_id = app_id;
    scope->states["statestore"] = {store, ResolveKeyPrefix("appid", app_id, "statestore")};
    scope->pubsubs["pubsub"] = pubsub;
    scope->outputs["out"] = binding;
    return scope;
  }
};

TEST_F(DaprApiTest, ScopesIsolateApps) {
  // Two apps whose components have the same names; a.store is app B's store too
  // underneath, with its own key prefix.
  AppFakes a{.store = store_}, b{.store = store_};
  DaprApi api;
  api.SetScope("token-a", a.Scope("app-a"));
  api.SetScope("token-b", b.Scope("app-b"));
  auto call = [&](std::string method, std::string target, std::string body, std::optional<std::string> token) {
    HttpRequest req;
    req.set_method(method);
    req.set_target(target);
    req.set_body(body);
    if (token) req.add_header("dapr-api-token", *token);
    HttpResponse resp;
    api.Handle(req, resp);
    return resp;
  };

  ASSERT_EQ(call("POST", "/v1.0/state/statestore", R"([{"key":"k","value":"from-a"}])", "token-a").status(), 204);
  EXPECT_EQ(call("GET", "/v1.0/state/statestore/k", "", "token-b").status(), 204);  // B does not see A's key
  EXPECT_EQ(call("GET", "/v1.0/state/statestore/k", "", "token-a").body(), "\"from-a\"");
  ASSERT_EQ(call("POST", "/v1.0/publish/pubsub/t", "for-b", "token-b").status(), 204);
  ASSERT_EQ(call("POST", "/v1.0/bindings/out", R"({"operation":"create","data":1})", "token-a").status(), 204);
  EXPECT_TRUE(a.pubsub->published().empty());
  ASSERT_EQ(b.pubsub->published().size(), 1u);
  EXPECT_EQ(json::parse(b.pubsub->published()[0].data)["source"], "app-b");
  EXPECT_EQ(a.binding->requests().size(), 1u);
  EXPECT_TRUE(b.binding->requests().empty());
  EXPECT_EQ(json::parse(call("GET", "/v1.0/metadata", "", "token-b").body())["id"], "app-b");

  // Extended metadata is per app.
  ASSERT_EQ(call("PUT", "/v1.0/metadata/color", "blue", "token-a").status(), 204);
  EXPECT_EQ(json::parse(call("GET", "/v1.0/metadata", "", "token-a").body())["extended"], json({{"color", "blue"}}));
  EXPECT_FALSE(json::parse(call("GET", "/v1.0/metadata", "", "token-b").body()).contains("extended"));

  // Wrong token, and no token without a "" scope: 401 in plain text.
  for (auto token : {std::optional<std::string>("wrong"), std::optional<std::string>()}) {
    auto r = call("GET", "/v1.0/metadata", "", token);
    EXPECT_EQ(r.status(), 401);
    EXPECT_EQ(r.body(), "invalid api token");
    EXPECT_EQ(call("POST", "/v1.0/publish/pubsub/t", "x", token).status(), 401);
    EXPECT_EQ(call("POST", "/v1.0/bindings/out", R"({"operation":"create"})", token).status(), 401);
    EXPECT_EQ(call("GET", "/v1.0/healthz", "", token).status(), 204);  // exempt
    EXPECT_EQ(call("GET", "/v1.0/healthz/outbound", "", token).status(), 204);
  }
  EXPECT_EQ(a.pubsub->published().size() + b.pubsub->published().size(), 1u);

  // healthz?appid= checks the id of the token's app.
  EXPECT_EQ(call("GET", "/v1.0/healthz?appid=app-a", "", "token-a").status(), 204);
  EXPECT_EQ(Code(call("GET", "/v1.0/healthz?appid=app-a", "", "token-b")), "ERR_HEALTH_APPID_NOT_MATCH");
  EXPECT_EQ(Code(call("GET", "/v1.0/healthz?appid=app-a", "", "wrong")), "ERR_HEALTH_APPID_NOT_MATCH");

  // Token-less requests use the "" scope, and only it.
  api.SetScope("", b.Scope("app-anon"));
  EXPECT_EQ(json::parse(call("GET", "/v1.0/metadata", "", std::nullopt).body())["id"], "app-anon");
  EXPECT_EQ(call("GET", "/v1.0/metadata", "", "wrong").status(), 401);

  // A replaced scope takes effect at once; a removed one is gone.
  api.SetScope("token-a", b.Scope("app-a2"));
  EXPECT_EQ(json::parse(call("GET", "/v1.0/metadata", "", "token-a").body())["id"], "app-a2");
  EXPECT_EQ(json::parse(call("GET", "/v1.0/metadata", "", "token-a").body())["extended"],
            json({{"color", "blue"}}));  // same token, same app metadata
  api.RemoveScope("token-a");
  EXPECT_EQ(call("GET", "/v1.0/metadata", "", "token-a").status(), 401);
  api.SetScope("token-a", a.Scope("app-a"));
  EXPECT_FALSE(json::parse(call("GET", "/v1.0/metadata", "", "token-a").body()).contains("extended"));
}

// A pub/sub whose Publish waits until released, to hold a request in flight.
class GatedPubSub : public FakePubSub {
 public:
  Status Publish(const PublishRequest& request) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, 10s, [&] { return released_; });
    lock.unlock();
    return FakePubSub::Publish(request);
  }
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
};

TEST_F(DaprApiTest, RemovingAScopeLetsRequestsInFlightFinish) {
  auto gated = std::make_shared<GatedPubSub>();
  std::weak_ptr<GatedPubSub> watch = gated;
  DaprApi api;
  {
    auto scope = std::make_shared<ApiScope>();
    scope->app_id = "app";
    scope->pubsubs["pubsub"] = std::move(gated);
    api.SetScope("tok", std::move(scope));
  }
  HttpResponse resp;
  std::thread caller([&] {
    HttpRequest req;
    req.set_method("POST");
    req.set_target("/v1.0/publish/pubsub/t");
    req.set_body("x");
    req.add_header("dapr-api-token", "tok");
    api.Handle(req, resp);
  });
  auto pubsub = watch.lock();
  if (!pubsub->WaitEntered()) {
    pubsub->Release();
    caller.join();
    FAIL() << "the publish never reached the pub/sub";
  }
  pubsub.reset();
  api.RemoveScope("tok");
  EXPECT_FALSE(watch.expired());  // the request still holds its scope
  watch.lock()->Release();
  caller.join();
  EXPECT_EQ(resp.status(), 204) << resp.body();
  EXPECT_TRUE(watch.expired());  // and lets go of it when done
}

}  // namespace
}  // namespace ofn::components

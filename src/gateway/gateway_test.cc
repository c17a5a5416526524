#include "gateway/gateway.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::gateway {
namespace {

using namespace std::chrono_literals;
using testing::After;
using testing::Get;
using testing::RoundTrip;

// Real HTTP servers standing in for function instances.
struct Backend {
  std::unique_ptr<net::HttpServer> server;
  Endpoint ep() const { return Endpoint{"127.0.0.1", server->port()}; }
};

Backend StartBackend(net::Handler h) {
  auto s = net::HttpServer::Start({.host = "127.0.0.1", .port = 0}, std::move(h));
  EXPECT_TRUE(s.ok());
  return Backend{std::move(*s)};
}

Backend EchoBackend(std::string name) {
  return StartBackend([name](HttpRequest& req, HttpResponse& resp) {
    resp = HttpResponse(200, name + " " + std::string(req.method()) + " " + std::string(req.target()));
    resp.set_header("X-Host-Seen", std::string(req.header("host").value_or("")));
    resp.set_header("X-Forwarded-Host-Seen", std::string(req.header("x-forwarded-host").value_or("")));
  });
}

class RecordingListener : public GatewayListener {
 public:
  void OnDemand(const std::string& key) override {
    std::lock_guard lk(mu);
    demands.push_back(key);
    if (on_demand) on_demand(key);
  }
  void OnConcurrency(const std::string& key, int c) override {
    std::lock_guard lk(mu);
    max_concurrency = std::max(max_concurrency, c);
  }
  std::mutex mu;
  std::vector<std::string> demands;
  int max_concurrency = 0;
  std::function<void(const std::string&)> on_demand;
};

std::unique_ptr<Gateway> StartGateway(GatewayListener* l) {
  auto g = Gateway::Start({.host = "127.0.0.1", .port = 0}, l);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return std::move(*g);
}

RouteSpec Route(std::string key, std::string prefix) {
  RouteSpec r;
  r.key = std::move(key);
  r.path_prefixes = {std::move(prefix)};
  return r;
}

TEST(Gateway, RoutesByPathPrefixAndRemovesIt) {
  RecordingListener l;
  auto g = StartGateway(&l);
  Backend b = EchoBackend("b");
  g->Upsert(Route("default/echo", "/default/echo"));
  g->SetEndpoints("default/echo", {b.ep()});
  auto r = RoundTrip(g->port(), Get("/default/echo/a/b?x=1"), After(5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "b GET /a/b?x=1");
  EXPECT_EQ(r->Header("X-Forwarded-Host-Seen"), "127.0.0.1");
  auto root = RoundTrip(g->port(), Get("/default/echo"), After(5s));
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->body, "b GET /");
  auto other = RoundTrip(g->port(), Get("/default/echoes"), After(5s));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(g->Stats("default/echo").requests, 2);
}

TEST(Gateway, RoutesByHost) {
  RecordingListener l;
  auto g = StartGateway(&l);
  Backend b = EchoBackend("h");
  RouteSpec r;
  r.key = "default/hello";
  r.hosts = {"hello.default.ofn.local"};
  g->Upsert(r);
  g->SetEndpoints("default/hello", {b.ep()});
  auto resp = RoundTrip(g->port(), Get("/x").Header("Host", "hello.default.ofn.local:8080"), After(5s));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->body, "h GET /x");
  EXPECT_EQ(resp->Header("X-Host-Seen"), "hello.default.ofn.local:8080");
}

TEST(Gateway, HoldsRequestsUntilAnInstanceIsReadyAndAsksForOneAtOnce) {
  RecordingListener l;
  auto g = StartGateway(&l);
  g->Upsert(Route("default/cold", "/cold"));
  Backend b = EchoBackend("cold");
  Gateway* gp = g.get();
  // Plays the autoscaler: the instance "starts" when demand is signalled.
  l.on_demand = [&](const std::string& key) {
    std::thread([gp, key, ep = b.ep()] { gp->SetEndpoints(key, {ep}); }).detach();
  };
  auto r = RoundTrip(g->port(), Get("/cold/first"), After(5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "cold GET /first");
  std::lock_guard lk(l.mu);
  EXPECT_EQ(l.demands, std::vector<std::string>{"default/cold"});
  EXPECT_EQ(g->Stats("default/cold").cold_waits, 1);
}

TEST(Gateway, WaitingPastTheDeadlineGets503WithTheReason) {
  RecordingListener l;
  auto g = StartGateway(&l);
  RouteSpec r = Route("default/never", "/never");
  r.queue_timeout = 100ms;
  g->Upsert(r);
  auto start = std::chrono::steady_clock::now();
  auto resp = RoundTrip(g->port(), Get("/never"), After(5s));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 503);
  EXPECT_NE(resp->body.find("no instance of default/never became ready"), std::string::npos) << resp->body;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST(Gateway, FullQueueGets503) {
  RecordingListener l;
  auto g = StartGateway(&l);
  RouteSpec r = Route("default/q", "/q");
  r.queue_limit = 1;
  r.queue_timeout = 2s;
  g->Upsert(r);
  auto first = std::async(std::launch::async, [&] { return RoundTrip(g->port(), Get("/q"), After(5s)); });
  for (auto d = After(5s); g->Stats("default/q").queued < 1 && std::chrono::steady_clock::now() < d;) {
    std::this_thread::yield();
  }
  auto second = RoundTrip(g->port(), Get("/q"), After(5s));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 503);
  EXPECT_NE(second->body.find("too many requests waiting"), std::string::npos);
  g->Remove("default/q");
  auto f = first.get();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->status, 503);
}

TEST(Gateway, NeverExceedsContainerConcurrency) {
  RecordingListener l;
  auto g = StartGateway(&l);
  std::atomic<int> now{0}, peak{0};
  Backend b = StartBackend([&](HttpRequest&, HttpResponse& resp) {
    int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
    std::this_thread::sleep_for(50ms);
    --now;
    resp = HttpResponse(200, "ok");
  });
  RouteSpec r = Route("default/cc", "/cc");
  r.container_concurrency = 2;
  g->Upsert(r);
  g->SetEndpoints("default/cc", {b.ep()});
  std::vector<std::future<int>> calls;
  for (int i = 0; i < 8; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      auto resp = RoundTrip(g->port(), Get("/cc"), After(10s));
      return resp.ok() ? resp->status : -1;
    }));
  }
  for (auto& c : calls) EXPECT_EQ(c.get(), 200);
  EXPECT_EQ(peak.load(), 2);
  std::lock_guard lk(l.mu);
  EXPECT_GE(l.max_concurrency, 3) << "queued requests count as demand";
}

TEST(Gateway, RetriesOnAnotherInstanceOnlyWhenTheRequestNeverArrived) {
  RecordingListener l;
  auto g = StartGateway(&l);
  Backend live = EchoBackend("live");
  int dead_port = testing::FreePort();  // nothing listens there: connect is refused
  g->Upsert(Route("default/r", "/r"));
  g->SetEndpoints("default/r", {Endpoint{"127.0.0.1", dead_port}, live.ep()});
  for (int i = 0; i < 5; ++i) {
    auto resp = RoundTrip(g->port(), Get("/r"), After(5s));
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "live GET /");
  }
  EXPECT_EQ(g->Stats("default/r").errors, 0);
}

TEST(Gateway, InstanceDyingMidRequestGives502AndSlowOneGives504) {
  RecordingListener l;
  auto g = StartGateway(&l);
  // An instance that reads the request and closes without answering.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread dying([fd] {
    int c = accept(fd, nullptr, nullptr);
    char buf[4096];
    ssize_t n = read(c, buf, sizeof buf);
    (void)n;
    close(c);
  });
  g->Upsert(Route("default/dies", "/dies"));
  g->SetEndpoints("default/dies", {Endpoint{"127.0.0.1", ntohs(addr.sin_port)}});
  auto resp = RoundTrip(g->port(), testing::Post("/dies", "payload"), After(5s));
  dying.join();
  close(fd);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 502) << "it reached the instance: not retried";

  Backend slow = StartBackend([](HttpRequest&, HttpResponse& r) {
    std::this_thread::sleep_for(500ms);
    r = HttpResponse(200);
  });
  RouteSpec rs = Route("default/slow", "/slow");
  rs.timeout = 100ms;
  g->Upsert(rs);
  g->SetEndpoints("default/slow", {slow.ep()});
  auto timed = RoundTrip(g->port(), Get("/slow"), After(5s));
  ASSERT_TRUE(timed.ok());
  EXPECT_EQ(timed->status, 504);
}

TEST(Gateway, KeepsServingAcrossManySequentialRequests) {
  RecordingListener l;
  auto g = StartGateway(&l);
  Backend b = EchoBackend("k");
  g->Upsert(Route("default/k", "/k"));
  g->SetEndpoints("default/k", {b.ep()});
  auto conn = testing::RawConnection::Connect(g->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(conn->Send(testing::Post("/k/" + std::to_string(i), std::string(i, 'x')).Serialize(), After(5s)).ok());
    auto r = conn->ReadResponse(After(5s));
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    ASSERT_EQ(r->body, "k POST /" + std::to_string(i));
  }
}

}  // namespace
}  // namespace ofn::gateway

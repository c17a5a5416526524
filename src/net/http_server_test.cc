#include "net/http_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "support/raw_http.h"

namespace ofn::net {
namespace {

using namespace std::chrono_literals;
using ofn::testing::After;
using ofn::testing::RawConnection;

std::unique_ptr<HttpServer> StartServer(Handler h, HttpServerOptions o = {}) {
  o.host = "127.0.0.1";
  o.port = 0;
  auto s = HttpServer::Start(o, std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

void Echo(HttpRequest& req, HttpResponse& resp) {
  resp = HttpResponse(200, std::string(req.method()) + " " + std::string(req.target()) + " " + std::string(req.body()));
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = StartServer(Echo);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn->Send(testing::Get("/n" + std::to_string(i)).Serialize(), After(5s)).ok());
    auto r = conn->ReadResponse(After(5s));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET /n" + std::to_string(i) + " ");
    EXPECT_FALSE(r->Header("ETag").has_value());
    EXPECT_TRUE(r->Header("Date").has_value());
  }
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer(Echo);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  std::string all;
  for (int i = 0; i < 20; ++i) all += testing::Post("/p" + std::to_string(i), "body" + std::to_string(i)).Serialize();
  ASSERT_TRUE(conn->Send(all, After(5s)).ok());
  auto rs = conn->ReadResponses(20, After(10s));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*rs)[i].body, "POST /p" + std::to_string(i) + " body" + std::to_string(i));
}

TEST(HttpServer, BlockingHandlersOverlapAndDoNotDelayOthers) {
  HttpServerOptions o;
  o.loops = 1;  // one loop: only the watchdog's hand-off lets calls overlap
  std::atomic<int> sleeping{0};
  auto server = StartServer(
      [&](HttpRequest& req, HttpResponse& resp) {
        if (req.path() == "/slow") {
          ++sleeping;
          std::this_thread::sleep_for(400ms);
        }
        resp = HttpResponse(200, std::string(req.path()));
      },
      o);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<int>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::async(std::launch::async, [&] {
      auto r = testing::RoundTrip(server->port(), testing::Get("/slow"), After(10s));
      return r.ok() ? r->status : -1;
    }));
  }
  // All six calls are inside the handler at once...
  for (auto d = After(5s); sleeping < 6 && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  EXPECT_EQ(sleeping, 6);
  // ...and a fast request still gets through promptly.
  auto fast_start = std::chrono::steady_clock::now();
  auto fast = testing::RoundTrip(server->port(), testing::Get("/fast"), After(5s));
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->body, "/fast");
  EXPECT_LT(std::chrono::steady_clock::now() - fast_start, 200ms);
  for (auto& f : slow) EXPECT_EQ(f.get(), 200);
  // Serialized they would take 2.4 s; overlapping, about one sleep.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
}

TEST(HttpServer, PipelinedRequestsStayInOrderAcrossAHandOff) {
  HttpServerOptions o;
  o.loops = 1;
  auto server = StartServer(
      [](HttpRequest& req, HttpResponse& resp) {
        if (req.path() == "/slow") std::this_thread::sleep_for(100ms);
        resp = HttpResponse(200, std::string(req.path()));
      },
      o);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  std::string all = testing::Get("/a").Serialize() + testing::Get("/slow").Serialize() + testing::Get("/b").Serialize() +
                    testing::Get("/slow").Serialize() + testing::Get("/c").Serialize();
  ASSERT_TRUE(conn->Send(all, After(5s)).ok());
  auto rs = conn->ReadResponses(5, After(10s));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  std::vector<std::string> bodies;
  for (auto& r : *rs) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"/a", "/slow", "/b", "/slow", "/c"}));
  // The connection is still usable afterwards.
  ASSERT_TRUE(conn->Send(testing::Get("/d").Serialize(), After(5s)).ok());
  auto r = conn->ReadResponse(After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "/d");
}

TEST(HttpServer, LimitsAnswer413And431AndCloseTheConnection) {
  HttpServerOptions o;
  o.limits.max_body_bytes = 1000;
  o.limits.max_header_bytes = 2000;
  auto server = StartServer(Echo, o);
  auto big = testing::RoundTrip(server->port(), testing::Post("/", std::string(1001, 'x')), After(5s));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->Header("Connection"), "close");
  auto headers = testing::RoundTrip(server->port(), testing::Get("/").Header("X-Big", std::string(3000, 'h')), After(5s));
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ(headers->status, 431);
}

TEST(HttpServer, SlowRequestGets408) {
  HttpServerOptions o;
  o.read_timeout = 200ms;
  auto server = StartServer(Echo, o);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn->Send("GET / HTTP/1.1\r\nHost: x\r\n", After(5s)).ok());
  auto r = conn->ReadResponse(After(5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(conn->WaitForClose(After(5s)));
}

TEST(HttpServer, IdleConnectionIsClosed) {
  HttpServerOptions o;
  o.idle_timeout = 100ms;
  auto server = StartServer(Echo, o);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  EXPECT_TRUE(conn->WaitForClose(After(5s)));
}

TEST(HttpServer, HandlerExceptionGives500AndServerKeepsServing) {
  auto server = StartServer([](HttpRequest& req, HttpResponse& resp) {
    if (req.path() == "/throw") throw std::runtime_error("boom");
    resp = HttpResponse(200, "fine");
  });
  auto bad = testing::RoundTrip(server->port(), testing::Get("/throw"), After(5s));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 500);
  auto good = testing::RoundTrip(server->port(), testing::Get("/ok"), After(5s));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->body, "fine");
}

TEST(HttpServer, ExpectContinueGetsInterimResponseBeforeBody) {
  auto server = StartServer(Echo);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn->Send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", After(5s)).ok());
  EXPECT_EQ(conn->PeekStatus(After(5s)), 100);
  ASSERT_TRUE(conn->Send("data", After(5s)).ok());
  auto r = conn->ReadResponse(After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->interim, std::vector<int>{100});
  EXPECT_EQ(r->body, "POST /e data");
}

TEST(HttpServer, HeadAnswersHeadersOnly) {
  auto server = StartServer(Echo);
  auto r = testing::RoundTripBytes(server->port(), "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n", After(5s), /*no_body=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(std::string("HEAD /h ").size()));
  EXPECT_EQ(r->body, "");
}

TEST(HttpServer, HeadersWithLineBreaksAreNotEmitted) {
  auto server = StartServer([](HttpRequest&, HttpResponse& resp) {
    resp = HttpResponse(200, "x");
    resp.set_header("X-Evil", "a\r\nSet-Cookie: stolen=1");
    resp.set_header("X-Good", "yes");
  });
  auto r = testing::RoundTrip(server->port(), testing::Get("/"), After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->Header("Set-Cookie").has_value());
  EXPECT_FALSE(r->Header("X-Evil").has_value());
  EXPECT_EQ(r->Header("X-Good"), "yes");
}

TEST(HttpServer, ShutdownLetsInFlightRequestsFinishAndRefusesNewOnes) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> entered{false};
  auto server = StartServer([&](HttpRequest&, HttpResponse& resp) {
    entered = true;
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return release; });
    resp = HttpResponse(200, "done");
  });
  int port = server->port();
  auto inflight = std::async(std::launch::async, [&] { return testing::RoundTrip(port, testing::Get("/"), After(10s)); });
  auto deadline = After(5s);
  while (!entered && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(entered);
  auto drained = std::async(std::launch::async, [&] { return server->Shutdown(5s); });
  // New connections are refused once the listener is gone.
  bool refused = false;
  for (auto d = After(5s); !refused && std::chrono::steady_clock::now() < d;) {
    refused = !RawConnection::Connect(port, After(100ms)).ok();
  }
  EXPECT_TRUE(refused);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  auto r = inflight.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(drained.get());
}

TEST(HttpServer, AdoptsAListeningSocket) {
  // Connections made before the server starts wait in the backlog: that is
  // what makes a socket-activated instance routable from its first instant.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  auto early = RawConnection::Connect(port, After(5s));
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(early->Send(testing::Get("/early").Serialize(), After(5s)).ok());
  HttpServerOptions o;
  o.listen_fd = fd;
  auto server = HttpServer::Start(o, Echo);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->port(), port);
  auto r = early->ReadResponse(After(5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "GET /early ");
}

TEST(HttpServer, RefusesAnFdThatIsNotAListener) {
  HttpServerOptions o;
  o.listen_fd = 0;  // stdin
  auto server = HttpServer::Start(o, Echo);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("not a listening"), std::string::npos);
}

TEST(HttpServer, GarbageNeverStopsTheServer) {
  auto server = StartServer(Echo);
  for (std::string junk : {std::string("\x16\x03\x01\x02\x00", 5), std::string("GET /\0 HTTP/1.1\r\n\r\n", 20),
                           std::string(100, '\n') + "X", std::string("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n")}) {
    auto conn = RawConnection::Connect(server->port(), After(5s));
    ASSERT_TRUE(conn.ok());
    (void)conn->Send(junk, After(5s));
    conn->ShutdownWrite();
    (void)conn->WaitForClose(After(5s));
  }
  auto good = testing::RoundTrip(server->port(), testing::Get("/still"), After(5s));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200);
}

}  // namespace
}  // namespace ofn::net

namespace ofn::net {
namespace {

using namespace std::chrono_literals;
using ofn::testing::After;
using ofn::testing::RawConnection;

std::unique_ptr<HttpServer> StartAsyncServer(AsyncHandler h, HttpServerOptions o = {}) {
  o.host = "127.0.0.1";
  o.port = 0;
  auto s = HttpServer::StartAsync(o, std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

// Answers after the number of milliseconds in the path ("/30"), from a timer.
void DelayedEcho(HttpRequest& req, Reactor& reactor, Responder r) {
  int ms = std::stoi(std::string(req.path().substr(1)));
  std::string body(req.path());
  if (ms == 0) {
    r.Send(HttpResponse(200, body));
    return;
  }
  auto shared = std::make_shared<Responder>(std::move(r));
  reactor.AddTimer(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms),
                   [shared, body] { shared->Send(HttpResponse(200, body)); });
}

TEST(AsyncHttpServer, AnswersLaterAndInOrder) {
  auto server = StartAsyncServer(DelayedEcho);
  auto conn = RawConnection::Connect(server->port(), After(5s));
  ASSERT_TRUE(conn.ok());
  // The slow first answer must not be overtaken by the fast ones after it.
  std::string all = testing::Get("/80").Serialize() + testing::Get("/0").Serialize() + testing::Get("/5").Serialize();
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(conn->Send(all, After(5s)).ok());
  auto rs = conn->ReadResponses(3, After(5s));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ((*rs)[0].body, "/80");
  EXPECT_EQ((*rs)[1].body, "/0");
  EXPECT_EQ((*rs)[2].body, "/5");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 80ms) << "the timer fired early";
}

TEST(AsyncHttpServer, ManyConnectionsWaitAtOnceOnOneLoop) {
  HttpServerOptions o;
  o.loops = 1;
  auto server = StartAsyncServer(DelayedEcho, o);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<int>> calls;
  for (int i = 0; i < 20; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      auto r = testing::RoundTrip(server->port(), testing::Get("/200"), After(5s));
      return r.ok() ? r->status : -1;
    }));
  }
  for (auto& c : calls) EXPECT_EQ(c.get(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "twenty 200 ms waits overlap on one loop";
}

TEST(AsyncHttpServer, DroppedResponderAnswers500) {
  auto server = StartAsyncServer([](HttpRequest&, Reactor&, Responder) {});
  auto r = testing::RoundTrip(server->port(), testing::Get("/"), After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
}

TEST(AsyncHttpServer, WatchedFdAndPostFromAnotherThread) {
  // The handler waits on an eventfd that another thread signals; then it
  // hands the answer over through Post.
  std::atomic<int> efd{-1};
  auto server = StartAsyncServer([&](HttpRequest&, Reactor& reactor, Responder r) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    auto shared = std::make_shared<Responder>(std::move(r));
    reactor.Watch(fd, EPOLLIN, [fd, shared, &reactor](uint32_t) {
      uint64_t v = 0;
      ssize_t n = read(fd, &v, sizeof v);
      (void)n;
      reactor.Unwatch(fd);
      close(fd);
      std::thread([shared, &reactor, v] {
        reactor.Post([shared, v] { shared->Send(HttpResponse(200, "got " + std::to_string(v))); });
      }).detach();
    });
    efd = fd;
  });
  auto call = std::async(std::launch::async, [&] { return testing::RoundTrip(server->port(), testing::Get("/"), After(5s)); });
  for (auto d = After(5s); efd < 0 && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  ASSERT_GE(efd.load(), 0);
  uint64_t seven = 7;
  ASSERT_EQ(write(efd, &seven, sizeof seven), static_cast<ssize_t>(sizeof seven));
  auto r = call.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "got 7");
}

TEST(AsyncHttpServer, ClientGoneBeforeTheAnswerIsHarmless) {
  std::atomic<int> answered{0};
  auto server = StartAsyncServer([&](HttpRequest& req, Reactor& reactor, Responder r) {
    auto shared = std::make_shared<Responder>(std::move(r));
    reactor.AddTimer(std::chrono::steady_clock::now() + 100ms, [shared, &answered] {
      shared->Send(HttpResponse(200, "late"));
      ++answered;
    });
  });
  {
    auto conn = RawConnection::Connect(server->port(), After(5s));
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn->Send(testing::Get("/").Serialize(), After(5s)).ok());
    conn->Reset();  // RST: the server's socket breaks while the answer is pending
  }
  for (auto d = After(5s); answered == 0 && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  EXPECT_EQ(answered, 1);
  auto r = testing::RoundTrip(server->port(), testing::Get("/"), After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "late");
}

TEST(AsyncHttpServer, ShutdownWaitsForPendingAnswers) {
  std::atomic<bool> entered{false};
  auto server = StartAsyncServer([&](HttpRequest& req, Reactor& reactor, Responder r) {
    entered = true;
    DelayedEcho(req, reactor, std::move(r));
  });
  int port = server->port();
  auto call = std::async(std::launch::async, [&] { return testing::RoundTrip(port, testing::Get("/300"), After(5s)); });
  for (auto d = After(5s); !entered && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  ASSERT_TRUE(entered);
  EXPECT_TRUE(server->Shutdown(5s));
  auto r = call.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "/300");
}

}  // namespace
}  // namespace ofn::net

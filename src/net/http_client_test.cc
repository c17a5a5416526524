#include "net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/scripted_http_server.h"

namespace ofn::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Stand-in for the HTTP/1.1 endpoints the client talks to.
using ofn::testing::ScriptedHttpServer;
using Reply = ScriptedHttpServer::Reply;

ClientRequest Post(const std::string& url, std::string body) {
  ClientRequest r;
  r.url = url;
  r.body = std::move(body);
  return r;
}

ClientRequest Get(const std::string& url) {
  ClientRequest r;
  r.method = "GET";
  r.url = url;
  return r;
}

// ---------------------------------------------------------------------------

TEST(ParseUrlTest, Defaults) {
  auto u = ParseUrl("http://example.com");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->HostHeader(), "example.com");
}

TEST(ParseUrlTest, PortPathQueryFragment) {
  auto u = ParseUrl("HTTP://127.0.0.1:3500/v1.0/publish/ps/t?metadata.a=b#frag");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 3500);
  EXPECT_EQ(u->target, "/v1.0/publish/ps/t?metadata.a=b");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:3500");

  auto q = ParseUrl("http://h?x=1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->target, "/?x=1");
}

TEST(ParseUrlTest, Ipv6Literal) {
  auto u = ParseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");
}

TEST(ParseUrlTest, ErrorsNameTheUrl) {
  for (const char* bad : {"https://example.com/", "ftp://x", "example.com", "", "http://", "http://:80/",
                          "http://h:0/", "http://h:65536/", "http://h:12ab/", "http://u@h/", "http://h/a b",
                          "http://[::1/", "http://h\r\n/"}) {
    auto u = ParseUrl(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << bad;
    std::string shown(bad);
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    EXPECT_NE(u.status().message().find("\"" + shown + "\""), std::string::npos) << u.status().message();
  }
  EXPECT_NE(ParseUrl("https://x/").status().message().find("only http://"), std::string::npos);
}

TEST(HttpClientTest, SendsExactRequestAndReadsResponse) {
  ScriptedHttpServer server([](const auto& req, size_t) {
    return Reply{ScriptedHttpServer::Response(201, "Created", "made " + req.body, "X-Reply: yes\r\n")};
  });
  HttpClient client;
  ClientRequest req = Post(server.url("/things?id=7"), "hello");
  req.headers = {{"Content-Type", "text/plain"}, {"X-Trace", "abc"}};
  auto resp = client.Do(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, "made hello");
  ASSERT_NE(resp->header("x-reply"), nullptr);
  EXPECT_EQ(*resp->header("X-REPLY"), "yes");
  EXPECT_EQ(resp->header("missing"), nullptr);

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/things?id=7");
  EXPECT_EQ(reqs[0].version, "HTTP/1.1");
  std::vector<std::pair<std::string, std::string>> want = {
      {"Host", "127.0.0.1:" + std::to_string(server.port())},
      {"Content-Type", "text/plain"},
      {"X-Trace", "abc"},
      {"Content-Length", "5"},
  };
  EXPECT_EQ(reqs[0].headers, want);
  EXPECT_EQ(reqs[0].body, "hello");
}

TEST(HttpClientTest, GetWithoutBodyHasNoContentLength) {
  ScriptedHttpServer server([](const auto&, size_t) { return ScriptedHttpServer::Ok("x"); });
  HttpClient client;
  auto resp = client.Do(Get(server.url("/q")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].header("Content-Length"), "<absent>");
  // An empty POST still says its length, so servers need not wait for a body.
  ASSERT_TRUE(client.Do(Post(server.url("/p"), "")).ok());
  EXPECT_EQ(server.requests()[1].header("Content-Length"), "0");
}

TEST(HttpClientTest, CallerHostWinsAndFramingHeadersAreOurs) {
  ScriptedHttpServer server([](const auto&, size_t) { return ScriptedHttpServer::Ok(""); });
  HttpClient client;
  ClientRequest req = Post(server.url("/"), "abc");
  req.headers = {{"Host", "virtual.example"}, {"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}};
  ASSERT_TRUE(client.Do(req).ok());
  auto r = server.requests().at(0);
  std::vector<std::pair<std::string, std::string>> want = {{"Host", "virtual.example"}, {"Content-Length", "3"}};
  EXPECT_EQ(r.headers, want);
  EXPECT_EQ(r.body, "abc");
}

TEST(HttpClientTest, RejectsHeaderInjection) {
  HttpClient client;
  ClientRequest req = Post("http://127.0.0.1:1/", "");
  req.headers = {{"X-A", "v\r\nX-Evil: 1"}};
  EXPECT_EQ(client.Do(req).status().code(), StatusCode::kInvalidArgument);
  req.headers = {{"Bad Name", "v"}};
  EXPECT_EQ(client.Do(req).status().code(), StatusCode::kInvalidArgument);
  req.headers = {};
  req.method = "GE T";
  EXPECT_EQ(client.Do(req).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  ScriptedHttpServer server([](const auto& req, size_t) { return ScriptedHttpServer::Ok("echo:" + req.body); });
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    auto resp = client.Do(Post(server.url("/n"), std::to_string(i)));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, "echo:" + std::to_string(i));
  }
  EXPECT_EQ(server.accepted(), 1);
  for (const auto& r : server.requests()) EXPECT_EQ(r.conn, 1);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST(HttpClientTest, ConcurrentCallersShareThePool) {
  ScriptedHttpServer server([](const auto& req, size_t) { return ScriptedHttpServer::Ok("echo:" + req.body); });
  HttpClient client;
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto resp = client.Do(Post(server.url("/c"), body));
        if (!resp.ok() || resp->body != "echo:" + body) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_LE(server.accepted(), kThreads);  // never more connections than callers in flight
}

TEST(HttpClientTest, ChunkedResponseWithExtensionsAndTrailers) {
  ScriptedHttpServer server([](const auto&, size_t) {
    return Reply{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
        "5;name=value\r\nhello\r\n"
        "7\r\n, world\r\n"
        "A\r\n0123456789\r\n"
        "0\r\nX-Checksum: 42\r\n\r\n"};
  });
  HttpClient client;
  for (int i = 0; i < 2; ++i) {  // the second call proves the framing left the connection clean
    auto resp = client.Do(Get(server.url("/chunks")));
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "hello, world0123456789");
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, LargeChunkedBody) {
  std::string big(300000, 'z');
  for (size_t i = 0; i < big.size(); i += 977) big[i] = static_cast<char>('a' + i % 26);
  ScriptedHttpServer server([&](const auto&, size_t) {
    std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    char size[32];
    for (size_t off = 0; off < big.size(); off += 40000) {
      size_t n = std::min<size_t>(40000, big.size() - off);
      std::snprintf(size, sizeof size, "%zX\r\n", n);
      raw += size + big.substr(off, n) + "\r\n";
    }
    return Reply{raw + "0\r\n\r\n"};
  });
  HttpClient client;
  auto resp = client.Do(Get(server.url("/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, big);
}

TEST(HttpClientTest, InterimResponsesAreSkipped) {
  ScriptedHttpServer server([](const auto&, size_t) {
    return Reply{"HTTP/1.1 100 Continue\r\n\r\n"
                 "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
                 ScriptedHttpServer::Response(200, "OK", "final")};
  });
  HttpClient client;
  auto resp = client.Do(Post(server.url("/"), "x"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "final");
  EXPECT_EQ(resp->header("Link"), nullptr);
}

TEST(HttpClientTest, BodyUntilCloseIsNotPooled) {
  ScriptedHttpServer server([](const auto&, size_t) {
    return Reply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed until the end", true};
  });
  HttpClient client;
  auto resp = client.Do(Get(server.url("/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "streamed until the end");
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(HttpClientTest, Http10WithoutLengthReadsToClose) {
  ScriptedHttpServer server([](const auto&, size_t) { return Reply{"HTTP/1.0 200 OK\r\n\r\nold style", true}; });
  HttpClient client;
  auto resp = client.Do(Get(server.url("/")));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "old style");
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(HttpClientTest, ConnectionCloseFromServerIsHonoured) {
  ScriptedHttpServer server([](const auto&, size_t) {
    return Reply{ScriptedHttpServer::Response(200, "OK", "bye", "Connection: close\r\n"), true};
  });
  HttpClient client;
  ASSERT_TRUE(client.Do(Get(server.url("/"))).ok());
  ASSERT_TRUE(client.Do(Get(server.url("/"))).ok());
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(client.idle_connections(), 0u);
}

TEST(HttpClientTest, NoBodyForHeadAnd204) {
  ScriptedHttpServer server([](const auto& req, size_t) {
    if (req.method == "HEAD") return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"};
    return Reply{"HTTP/1.1 204 No Content\r\n\r\n"};
  });
  HttpClient client;
  ClientRequest head = Get(server.url("/"));
  head.method = "HEAD";
  auto r1 = client.Do(head);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->body, "");
  EXPECT_EQ(*r1->header("content-length"), "1234");
  auto r2 = client.Do(Post(server.url("/"), "x"));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->status, 204);
  auto r3 = client.Do(Post(server.url("/"), "y"));
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, StaleConnectionIsRetriedOnce) {
  // The second request arrives on the pooled connection, and the server closes it
  // without answering, as a server whose idle timeout fired at that moment would.
  ScriptedHttpServer server([](const auto& req, size_t index) {
    if (index == 1) return Reply{"", true};
    return ScriptedHttpServer::Ok("ok:" + req.body);
  });
  HttpClient client;
  ASSERT_TRUE(client.Do(Post(server.url("/a"), "first")).ok());
  auto resp = client.Do(Post(server.url("/b"), "second"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "ok:second");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].conn, 1);
  EXPECT_EQ(reqs[2].conn, 2);
  EXPECT_EQ(reqs[2].target, "/b");
  EXPECT_EQ(reqs[2].body, "second");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientTest, IdleConnectionClosedByServerIsNotUsed) {
  // The server closes after answering but without "Connection: close".
  ScriptedHttpServer server([](const auto& req, size_t) { return Reply{ScriptedHttpServer::Ok(req.body).raw, true}; });
  HttpClient client;
  ASSERT_TRUE(client.Do(Post(server.url("/"), "1")).ok());
  ASSERT_TRUE(server.WaitForOpenConnections(0));
  auto resp = client.Do(Post(server.url("/"), "2"));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "2");
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientTest, FreshConnectionFailureIsNotRetried) {
  ScriptedHttpServer server([](const auto&, size_t) { return Reply{"", true}; });
  HttpClient client;
  auto resp = client.Do(Post(server.url("/"), "once"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClientTest, PartialResponseIsNotRetried) {
  ScriptedHttpServer server([](const auto&, size_t index) {
    if (index == 0) return ScriptedHttpServer::Ok("fine");
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true};
  });
  HttpClient client;
  ASSERT_TRUE(client.Do(Get(server.url("/"))).ok());
  auto resp = client.Do(Get(server.url("/")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable) << resp.status().ToString();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, TimeoutGivesDeadlineExceeded) {
  ScriptedHttpServer server([](const auto&, size_t) { return Reply{"", false, true}; });
  HttpClient client;
  ClientRequest req = Post(server.url("/slow"), "x");
  req.timeout = 300ms;
  auto start = Clock::now();
  auto resp = client.Do(req);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
  EXPECT_NE(resp.status().message().find("127.0.0.1:" + std::to_string(server.port())), std::string::npos);
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_EQ(server.requests().size(), 1u);  // the request did arrive; only the answer was missing
}

TEST(HttpClientTest, TimeoutMidBody) {
  ScriptedHttpServer server([](const auto&, size_t) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"};
  });
  HttpClient client;
  ClientRequest req = Get(server.url("/"));
  req.timeout = 200ms;
  auto resp = client.Do(req);
  EXPECT_EQ(resp.status().code(), StatusCode::kDeadlineExceeded) << resp.status().ToString();
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  // Reserve a port, then free it: nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);

  HttpClient client;
  auto resp = client.Do(Get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(resp.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << resp.status().message();
}

TEST(HttpClientTest, UnresolvableHostIsUnavailable) {
  HttpClient client;
  ClientRequest req = Get("http://no-such-host.invalid/");
  req.timeout = 5s;
  auto resp = client.Do(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(resp.status().message().find("no-such-host.invalid"), std::string::npos);
}

TEST(HttpClientTest, MalformedResponsesAreErrors) {
  for (std::string raw : {std::string("SMTP ready\r\n\r\n"), std::string("HTTP/1.1 2xx OK\r\n\r\n"),
                          std::string("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
                          std::string("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd"),
                          std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
                          std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    ScriptedHttpServer server([&](const auto&, size_t) { return Reply{raw, true}; });
    HttpClient client;
    auto resp = client.Do(Get(server.url("/")));
    ASSERT_FALSE(resp.ok()) << raw;
    EXPECT_EQ(resp.status().code(), StatusCode::kInternal) << raw << " -> " << resp.status().ToString();
  }
}

TEST(HttpClientTest, ResponseSizeLimit) {
  ScriptedHttpServer server([](const auto&, size_t) { return ScriptedHttpServer::Ok(std::string(2000, 'x')); });
  HttpClient::Options options;
  options.max_response_bytes = 1000;
  HttpClient client(options);
  EXPECT_EQ(client.Do(Get(server.url("/"))).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ofn::net

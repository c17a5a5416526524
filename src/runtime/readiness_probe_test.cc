#include "runtime/readiness_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "support/process.h"

namespace ofn::runtime {
namespace {

// Drives an attempt to its end (with a deadline).
ProbeAttempt::Outcome Drive(ProbeAttempt& a) {
  auto outcome = a.Begin();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (outcome == ProbeAttempt::Outcome::kPending && std::chrono::steady_clock::now() < deadline) {
    pollfd p{a.fd(), static_cast<short>(a.events() == EPOLLIN ? POLLIN : POLLOUT), 0};
    if (::poll(&p, 1, 100) > 0) outcome = a.OnEvent();
  }
  return outcome;
}

// A listener on 127.0.0.1 answering each connection with `response` (if any).
class Listener {
 public:
  explicit Listener(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (!response_.empty()) {
      thread_ = std::thread([this] {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        char buf[1024];
        std::string req;
        while (req.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        request_ = req;
        ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
        ::close(c);
      });
    }
  }
  ~Listener() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(ProbeAttemptTest, RefusedWhenNothingListens) {
  ProbeAttempt a(ofn::testing::FreePort(), "");
  EXPECT_EQ(Drive(a), ProbeAttempt::Outcome::kFailure);
  EXPECT_NE(a.detail().find("refused"), std::string::npos) << a.detail();
}

TEST(ProbeAttemptTest, TcpSucceedsOnceSomethingListens) {
  Listener l("");
  ProbeAttempt a(l.port(), "");
  EXPECT_EQ(Drive(a), ProbeAttempt::Outcome::kSuccess);
}

TEST(ProbeAttemptTest, HttpWants2xx) {
  Listener ok("HTTP/1.1 204 No Content\r\n\r\n");
  ProbeAttempt a(ok.port(), "/healthz");
  EXPECT_EQ(Drive(a), ProbeAttempt::Outcome::kSuccess) << a.detail();
  EXPECT_EQ(ok.request().rfind("GET /healthz HTTP/1.1\r\n", 0), 0u);

  Listener unavailable("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  ProbeAttempt b(unavailable.port(), "/healthz");
  EXPECT_EQ(Drive(b), ProbeAttempt::Outcome::kFailure);
  EXPECT_EQ(b.detail(), "HTTP 503");

  Listener garbage("SSH-2.0-OpenSSH\r\n");
  ProbeAttempt c(garbage.port(), "/");
  EXPECT_EQ(Drive(c), ProbeAttempt::Outcome::kFailure);
  EXPECT_NE(c.detail().find("not HTTP"), std::string::npos) << c.detail();
}

}  // namespace
}  // namespace ofn::runtime

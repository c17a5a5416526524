#include "runtime/readiness_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ofn::runtime {

ProbeAttempt::ProbeAttempt(int port, std::string http_path) : port_(port), path_(std::move(http_path)) {}

ProbeAttempt::~ProbeAttempt() {
  if (fd_ >= 0) ::close(fd_);
}

uint32_t ProbeAttempt::events() const { return stage_ == Stage::kReading ? EPOLLIN : EPOLLOUT; }

ProbeAttempt::Outcome ProbeAttempt::Fail(std::string why) {
  detail_ = std::move(why);
  stage_ = Stage::kDone;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return Outcome::kFailure;
}

ProbeAttempt::Outcome ProbeAttempt::Begin() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  // Close with a reset: a probe must not leave TIME_WAIT sockets behind by
  // the thousand when a program takes long to start.
  struct linger lg {1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (path_.empty()) {
      stage_ = Stage::kDone;
      return Outcome::kSuccess;
    }
    out_ = "GET " + path_ + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
           "\r\nUser-Agent: ofn-probe\r\nConnection: close\r\n\r\n";
    stage_ = Stage::kSending;
    return Send();
  }
  if (errno == EINPROGRESS) {
    stage_ = Stage::kConnecting;
    return Outcome::kPending;
  }
  return Fail(std::strerror(errno));
}

ProbeAttempt::Outcome ProbeAttempt::OnEvent() {
  switch (stage_) {
    case Stage::kConnecting: {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) return Fail(std::strerror(err));
      if (path_.empty()) {
        stage_ = Stage::kDone;
        return Outcome::kSuccess;
      }
      out_ = "GET " + path_ + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
             "\r\nUser-Agent: ofn-probe\r\nConnection: close\r\n\r\n";
      stage_ = Stage::kSending;
      return Send();
    }
    case Stage::kSending: return Send();
    case Stage::kReading: return Read();
    default: return Outcome::kPending;
  }
}

ProbeAttempt::Outcome ProbeAttempt::Send() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Outcome::kPending;
      return Fail(std::strerror(errno));
    }
    out_.erase(0, static_cast<size_t>(n));
  }
  stage_ = Stage::kReading;
  return Read();
}

ProbeAttempt::Outcome ProbeAttempt::Read() {
  char buf[512];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Outcome::kPending;
      return Fail(std::strerror(errno));
    }
    if (n == 0) return Fail(in_.empty() ? "connection closed before a response" : "truncated status line");
    in_.append(buf, static_cast<size_t>(n));
    size_t eol = in_.find("\r\n");
    if (eol == std::string::npos) {
      if (in_.size() > 1024) return Fail("status line too long");
      continue;
    }
    // "HTTP/1.1 200 OK"
    std::string line = in_.substr(0, eol);
    if (line.compare(0, 5, "HTTP/") != 0 || line.size() < 12 || line[8] != ' ') return Fail("not HTTP: " + line);
    int status = 0;
    for (int i = 9; i < 12; ++i) {
      if (line[i] < '0' || line[i] > '9') return Fail("not HTTP: " + line);
      status = status * 10 + (line[i] - '0');
    }
    if (status >= 200 && status < 300) {
      stage_ = Stage::kDone;
      return Outcome::kSuccess;
    }
    return Fail("HTTP " + std::to_string(status));
  }
}

}  // namespace ofn::runtime

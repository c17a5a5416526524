#include "support/scripted_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

namespace ofn::testing {
namespace {

using Request = ScriptedHttpServer::Request;

// Parses one Content-Length framed request off the front of buf.
bool TakeRequest(std::string& buf, Request* r) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = buf.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  size_t s1 = first.find(' '), s2 = first.rfind(' ');
  r->method = first.substr(0, s1);
  r->target = first.substr(s1 + 1, s2 - s1 - 1);
  r->version = first.substr(s2 + 1);
  r->headers.clear();
  size_t length = 0;
  while (line_end != std::string::npos) {
    size_t next = head.find("\r\n", line_end + 2);
    std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (strcasecmp(name.c_str(), "content-length") == 0) length = std::stoul(value);
    r->headers.emplace_back(name, value);
    line_end = next;
  }
  if (buf.size() < end + 4 + length) return false;
  r->body = buf.substr(end + 4, length);
  buf.erase(0, end + 4 + length);
  return true;
}

}  // namespace

struct ScriptedHttpServer::Conn {
  int fd;
  int id;
  std::string buf;
  bool hung = false;
  bool closed = false;
};

std::string ScriptedHttpServer::Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) return v;
  }
  return "<absent>";
}

ScriptedHttpServer::ScriptedHttpServer(Handler handler, int port) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(listen_fd_, 64), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  EXPECT_EQ(::pipe2(wake_, O_CLOEXEC), 0);
  thread_ = std::thread([this] { Loop(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  char c = 0;
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string ScriptedHttpServer::url(std::string_view target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(target);
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

int ScriptedHttpServer::accepted() const {
  std::lock_guard<std::mutex> l(mu_);
  return accepted_;
}

bool ScriptedHttpServer::WaitForRequests(size_t n) {
  return WaitUntil([&] { return requests_.size() >= n; });
}

bool ScriptedHttpServer::WaitForOpenConnections(int n) {
  return WaitUntil([&] { return open_ == n; });
}

bool ScriptedHttpServer::WaitUntil(const std::function<bool()>& pred) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::seconds(10), pred);
}

std::string ScriptedHttpServer::Response(int status, std::string_view reason, std::string_view body,
                                         std::string_view extra_headers) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
         std::string(body);
}

ScriptedHttpServer::Reply ScriptedHttpServer::Ok(std::string_view body) {
  return Reply{Response(200, "OK", body)};
}

void ScriptedHttpServer::Serve(Conn& c) {
  Request r;
  while (!c.hung && !c.closed && TakeRequest(c.buf, &r)) {
    r.conn = c.id;
    size_t index;
    {
      std::lock_guard<std::mutex> l(mu_);
      index = requests_.size();
      requests_.push_back(r);
    }
    cv_.notify_all();
    Reply reply = handler_(r, index);
    if (reply.hang) {
      c.hung = true;
      break;
    }
    for (size_t off = 0; off < reply.raw.size();) {
      ssize_t n = ::send(c.fd, reply.raw.data() + off, reply.raw.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    if (reply.close) c.closed = true;
  }
}

void ScriptedHttpServer::Loop() {
  std::vector<Conn> conns;
  for (;;) {
    std::vector<pollfd> pfds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Conn& c : conns) pfds.push_back({c.fd, static_cast<short>(c.hung ? 0 : POLLIN), 0});
    if (::poll(pfds.data(), pfds.size(), -1) < 0) continue;
    if (pfds[0].revents != 0) break;
    const size_t existing = conns.size();
    if (pfds[1].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        std::lock_guard<std::mutex> l(mu_);
        conns.push_back(Conn{fd, ++accepted_, {}});
        ++open_;
      }
      cv_.notify_all();
    }
    for (size_t i = 0; i < existing; ++i) {
      if (pfds[i + 2].revents == 0) continue;
      char chunk[65536];
      ssize_t n = ::recv(conns[i].fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        conns[i].closed = true;
        continue;
      }
      conns[i].buf.append(chunk, static_cast<size_t>(n));
      Serve(conns[i]);
    }
    for (auto it = conns.begin(); it != conns.end();) {
      if (!it->closed) {
        ++it;
        continue;
      }
      ::close(it->fd);
      it = conns.erase(it);
      {
        std::lock_guard<std::mutex> l(mu_);
        --open_;
      }
      cv_.notify_all();
    }
  }
  for (Conn& c : conns) ::close(c.fd);
}

}  // namespace ofn::testing

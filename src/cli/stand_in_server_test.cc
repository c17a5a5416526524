// The implementation of StandInServer (see stand_in_server.h); it holds no tests.
#include "cli/stand_in_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/encoding.h"
#include "net/http_parser.h"
#include "ofn/http_request.h"

namespace ofn::cli::testing {

std::optional<std::string> StandInRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> StandInRequest::query(std::string_view name) const {
  size_t q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      auto v = enc::PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      return v ? *v : std::string();
    }
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return std::nullopt;
}

std::unique_ptr<StandInServer> StandInServer::OnUnixSocket(const std::string& path, Handler handler) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof addr.sun_path) std::abort();
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) std::abort();
  return std::unique_ptr<StandInServer>(new StandInServer(fd, 0, path, std::move(handler)));
}

std::unique_ptr<StandInServer> StandInServer::OnTcp(Handler handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::abort();
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<StandInServer>(new StandInServer(fd, ntohs(addr.sin_port), "", std::move(handler)));
}

StandInServer::StandInServer(int listen_fd, int port, std::string unix_path, Handler handler)
    : listen_fd_(listen_fd), port_(port), unix_path_(std::move(unix_path)), handler_(std::move(handler)) {
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) std::abort();
  thread_ = std::thread([this] { Loop(); });
}

StandInServer::~StandInServer() {
  char c = 0;
  (void)!::write(stop_pipe_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

std::vector<StandInRequest> StandInServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void StandInServer::set_handler(Handler h) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(h);
}

void StandInServer::Loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void StandInServer::Serve(int fd) {
  net::RequestParser parser;
  std::string input;
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;  // a test client that never finishes its request
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    input.append(buf, static_cast<size_t>(n));
    auto state = parser.Parse(input);
    if (state == net::RequestParser::State::kError) return;
    if (state == net::RequestParser::State::kComplete) break;
  }
  HttpRequest& r = parser.request();
  StandInRequest req;
  req.method = std::string(r.method());
  req.target = std::string(r.target());
  req.path = req.target.substr(0, req.target.find('?'));
  for (const Header& h : r.headers()) req.headers.emplace_back(std::string(h.name), std::string(h.value));
  req.body = std::string(r.body());
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
    handler = handler_;
  }
  StandInResponse resp = handler ? handler(req) : StandInResponse::Json(500, R"({"error":"no handler"})");
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " Canned\r\n";
  out += "Content-Type: " + resp.content_type + "\r\n";
  for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\nConnection: close\r\n\r\n" + resp.body;
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace ofn::cli::testing

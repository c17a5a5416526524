#include "cli/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/data_dir.h"
#include "common/unique_fd.h"
#include "net/http_client.h"
#include "net/http_parser.h"
#include "ofn/http_request.h"

namespace ofn::cli {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Waits for `events` on fd; false at the deadline.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string Errno(int e) { return std::strerror(e); }

Result<UniqueFd> ConnectUnix(const std::string& path, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                                   std::to_string(sizeof(addr.sun_path) - 1) + "): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::Internal("socket: " + Errno(errno));
  // A local connect does not wait on the network; only a full backlog (EAGAIN
  // when non-blocking) could stall it, so connect blocking and retry briefly.
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
    int e = errno;
    if (e == EINTR) continue;
    if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
      return Status::Unavailable("cannot connect to " + path + ": " + Errno(e));
    }
    if (e == EAGAIN && Clock::now() < deadline) {
      ::usleep(1000);
      continue;
    }
    if (e == EACCES || e == EPERM) return Status::PermissionDenied("cannot connect to " + path + ": " + Errno(e));
    return Status::Internal("cannot connect to " + path + ": " + Errno(e));
  }
  return fd;
}

Result<UniqueFd> ConnectTcp(const std::string& host, int port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) return Status::Unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
  Status last = Status::Unavailable("no address for " + host);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (fd.get() < 0) continue;
    std::string where = host + ":" + port_str;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = Status::Unavailable("cannot connect to " + where + ": " + Errno(errno));
        continue;
      }
      if (!WaitFor(fd.get(), POLLOUT, deadline)) {
        last = Status::DeadlineExceeded("timed out connecting to " + where);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = Status::Unavailable("cannot connect to " + where + ": " + Errno(err));
        continue;
      }
    }
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return last;
}

bool IsOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

std::string Serialize(const Endpoint& ep, const HttpCall& call) {
  std::string req = call.method + " " + call.target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& [k, v] : call.headers) {
    if (EqualsIgnoreCase(k, "host")) has_host = true;
  }
  if (!has_host) {
    std::string host = call.host_header;
    if (host.empty()) {
      host = ep.is_unix() ? "localhost"
             : ep.host.find(':') != std::string::npos ? "[" + ep.host + "]:" + std::to_string(ep.port)
                                                      : ep.host + ":" + std::to_string(ep.port);
    }
    req += "Host: " + host + "\r\n";
  }
  for (const auto& [k, v] : call.headers) {
    // Framing is ours to decide.
    if (IsOneOf(k, {"content-length", "transfer-encoding", "connection"})) continue;
    req += k + ": " + v + "\r\n";
  }
  if (!call.body.empty() || IsOneOf(call.method, {"POST", "PUT", "PATCH"})) {
    req += "Content-Length: " + std::to_string(call.body.size()) + "\r\n";
  }
  req += "Connection: close\r\n\r\n";
  req += call.body;
  return req;
}

}  // namespace

std::string Endpoint::ToString() const {
  if (is_unix()) return "unix:" + unix_path;
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const std::string* HttpReply::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

Result<HttpReply> Exchange(const Endpoint& endpoint, const HttpCall& call) {
  for (const auto& [k, v] : call.headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("invalid header \"" + k + "\"");
    }
  }
  const Clock::time_point deadline = Clock::now() + call.timeout;
  Result<UniqueFd> conn = endpoint.is_unix() ? ConnectUnix(endpoint.unix_path, deadline)
                                       : ConnectTcp(endpoint.host, endpoint.port, deadline);
  if (!conn.ok()) return conn.status();
  const int fd = conn->get();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const std::string where = endpoint.ToString();

  const std::string request = Serialize(endpoint, call);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return Status::DeadlineExceeded("timed out sending to " + where);
      continue;
    }
    // The server may answer early (an error) and close; read what it said.
    break;
  }

  net::ResponseParser parser;
  parser.Reset(call.method == "HEAD");
  std::string input;
  bool eof = false;
  char buf[16384];
  for (;;) {
    if (!input.empty() || eof) {
      switch (parser.Parse(input, eof)) {
        case net::ResponseParser::State::kComplete: {
          HttpReply reply;
          reply.status = parser.status();
          reply.headers = parser.headers();
          reply.body = std::move(parser.body());
          return reply;
        }
        case net::ResponseParser::State::kError:
          return Status::Internal("bad response from " + where + ": " + parser.error());
        case net::ResponseParser::State::kNeedMore:
          break;
      }
      if (eof) return Status::Internal("connection to " + where + " closed before a complete response");
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      input.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      eof = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd, POLLIN, deadline)) return Status::DeadlineExceeded("timed out waiting for " + where);
    } else if (errno == ECONNRESET && input.empty()) {
      return Status::Internal("connection to " + where + " reset before any response");
    } else {
      eof = true;  // a reset after the response: parse what arrived
    }
  }
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

Result<ApiClient> ApiClient::Create(const ApiOptions& options) {
  ApiClient c;
  c.data_dir_ = options.data_dir;
  c.server_url_ = options.server_url;
  c.token_ = options.token;
  if (options.server_url.empty()) {
    c.endpoint_.unix_path = ControlSocketPath(options.data_dir);
    // Checked here so the user hears about it rather than "not running".
    if (c.endpoint_.unix_path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument("the data directory path is too long for a Unix socket (" +
                                     c.endpoint_.unix_path + "); use a shorter --data-dir");
    }
    return c;
  }
  Result<net::ParsedUrl> url = net::ParseUrl(options.server_url);
  if (!url.ok()) return Status::InvalidArgument("--server: " + url.status().message());
  c.endpoint_.host = url->host;
  c.endpoint_.port = url->port;
  if (c.token_.empty()) {
    // Same machine as the server: its token file may be readable (mode 0600).
    std::ifstream f(options.data_dir + "/token");
    std::stringstream ss;
    if (f) {
      ss << f.rdbuf();
      std::string t = ss.str();
      const char* ws = " \t\r\n";
      size_t b = t.find_first_not_of(ws), e = t.find_last_not_of(ws);
      if (b != std::string::npos) c.token_ = t.substr(b, e - b + 1);
    }
  }
  return c;
}

Result<HttpReply> ApiClient::Do(std::string_view method, std::string_view target, std::string body, Headers headers,
                                std::chrono::milliseconds timeout) const {
  HttpCall call;
  call.method = std::string(method);
  call.target = std::string(target);
  call.headers = std::move(headers);
  if (!endpoint_.is_unix() && !token_.empty()) call.headers.emplace_back("Authorization", "Bearer " + token_);
  call.headers.emplace_back("Accept", "application/json");
  call.headers.emplace_back("User-Agent", "ofn-cli");
  call.body = std::move(body);
  call.timeout = timeout;
  return Exchange(endpoint_, call);
}

std::string ApiClient::NotRunningMessage() const {
  if (endpoint_.is_unix()) {
    return "error: ofn server is not running (no socket at " + endpoint_.unix_path +
           "). Start it with: ofn server --data-dir " + data_dir_;
  }
  return "error: ofn server is not running (nothing listening at " + server_url_ +
         "). Start it with: ofn server --api-addr " + endpoint_.ToString();
}

}  // namespace ofn::cli

#include "net/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/encoding.h"

namespace ofn::net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeadBytes = 64 * 1024;  // status line + headers of one response
constexpr int kMaxInterimResponses = 16;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar); }

// True if the comma-separated header value lists `token` (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimOws(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string Errno(int err) { return std::strerror(err); }

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 1000000 ? 1000000 : static_cast<int>(left) + 1;  // round up: never wake just early
}

}  // namespace

// ---------------------------------------------------------------------------
// URLs

std::string ParsedUrl::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) h += ":" + std::to_string(port);
  return h;
}

bool IsSendableHeader(std::string_view name, std::string_view value) {
  // CR/LF in a value would let it smuggle extra headers or a second request.
  return IsToken(name) && value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid URL " + enc::QuoteForMessage(url) + ": " + why);
  };
  constexpr std::string_view kHttp = "http://";
  if (url.size() < kHttp.size() || !EqualsIgnoreCase(url.substr(0, kHttp.size()), kHttp)) {
    if (url.size() >= 8 && EqualsIgnoreCase(url.substr(0, 8), "https://")) {
      return bad("only http:// is supported (no TLS)");
    }
    return bad("expected http://host[:port][/path]");
  }
  std::string_view rest = url.substr(kHttp.size());
  size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view target = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");

  ParsedUrl out;
  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected characters after the IPv6 address");
      port = after.substr(1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return bad("invalid IPv6 address");
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (host.empty()) return bad("no host");
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
        })) {
      return bad("invalid host");
    }
  }
  out.host = std::string(host);
  if (!port.empty()) {
    int p = 0;
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("invalid port");
    }
    for (char c : port) p = p * 10 + (c - '0');
    if (p < 1 || p > 65535) return bad("port out of range");
    out.port = p;
  }
  target = target.substr(0, target.find('#'));
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return bad("spaces and control characters must be percent-encoded");
  }
  if (target.empty() || target.front() == '?') out.target = "/";
  out.target += std::string(target);
  return out;
}

const std::string* ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Connections

struct detail::HttpConn {
  int fd = -1;
  std::string peer;       // "host:port", for messages
  std::string buf;        // received, not yet consumed
  size_t received = 0;    // bytes received for the current request
  bool broken = false;    // the peer closed or reset the connection
  bool reused = false;    // came from the pool

  ~HttpConn() {
    if (fd >= 0) ::close(fd);
  }

  // Waits until fd is ready for `events` or the deadline passes.
  Status Wait(short events, Clock::time_point deadline, const char* doing) {
    for (;;) {
      int ms = RemainingMs(deadline);
      if (ms == 0) return Status::DeadlineExceeded("timed out " + std::string(doing) + " " + peer);
      pollfd p{fd, events, 0};
      int n = ::poll(&p, 1, ms);
      if (n > 0) return Status::Ok();
      if (n < 0 && errno != EINTR) return Status::Unavailable(std::string(doing) + " " + peer + ": " + Errno(errno));
    }
  }

  // Sends `head` then `body`, gathered: the common case is one segment on
  // the wire, without copying the body behind the head first.
  Status WriteAll(std::string_view head, std::string_view body, Clock::time_point deadline) {
    while (!head.empty() || !body.empty()) {
      iovec iov[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
      msghdr msg{};
      msg.msg_iov = head.empty() ? iov + 1 : iov;
      msg.msg_iovlen = head.empty() ? 1 : 2;
      ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
      if (n > 0) {
        size_t sent = static_cast<size_t>(n);
        size_t from_head = std::min(sent, head.size());
        head.remove_prefix(from_head);
        body.remove_prefix(sent - from_head);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (Status s = Wait(POLLOUT, deadline, "sending to"); !s.ok()) return s;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        broken = true;
        return Status::Unavailable("sending to " + peer + ": " + Errno(n < 0 ? errno : EPIPE));
      }
    }
    return Status::Ok();
  }

  // Appends what arrives next to buf; *eof is set when the peer closed.
  Status Fill(Clock::time_point deadline, bool* eof) {
    *eof = false;
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        received += static_cast<size_t>(n);
        return Status::Ok();
      }
      if (n == 0) {
        broken = true;
        *eof = true;
        return Status::Ok();
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (Status s = Wait(POLLIN, deadline, "waiting for a response from"); !s.ok()) return s;
      } else if (errno != EINTR) {
        broken = true;
        return Status::Unavailable("reading from " + peer + ": " + Errno(errno));
      }
    }
  }

  // Fails unless more bytes arrive (a close in the middle of a response).
  Status FillOrFail(Clock::time_point deadline, const char* where) {
    bool eof = false;
    if (Status s = Fill(deadline, &eof); !s.ok()) return s;
    if (eof) return Status::Unavailable(peer + " closed the connection " + where);
    return Status::Ok();
  }

  // One line without its CRLF (a bare LF is tolerated); at most `max` bytes.
  Status ReadLine(Clock::time_point deadline, size_t max, std::string* line) {
    size_t scanned = 0;
    for (;;) {
      size_t nl = buf.find('\n', scanned);
      if (nl != std::string::npos) {
        size_t end = (nl > 0 && buf[nl - 1] == '\r') ? nl - 1 : nl;
        line->assign(buf, 0, end);
        buf.erase(0, nl + 1);
        return Status::Ok();
      }
      if (buf.size() > max) return Status::Internal("malformed HTTP response from " + peer + ": line too long");
      scanned = buf.size();
      if (Status s = FillOrFail(deadline, received == 0 ? "before responding" : "in the middle of a response");
          !s.ok()) {
        return s;
      }
    }
  }

  // Ensures buf holds at least n bytes.
  Status Need(size_t n, Clock::time_point deadline) {
    while (buf.size() < n) {
      if (Status s = FillOrFail(deadline, "in the middle of a response body"); !s.ok()) return s;
    }
    return Status::Ok();
  }
};

HttpClient::HttpClient() : HttpClient(Options{}) {}
HttpClient::HttpClient(Options options) : options_(options) {}
HttpClient::~HttpClient() = default;

size_t HttpClient::idle_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [key, conns] : idle_) n += conns.size();
  return n;
}

std::unique_ptr<detail::HttpConn> HttpClient::TakeIdle(const std::string& key) {
  std::vector<std::unique_ptr<Conn>> dead;  // closed after the lock is released
  std::unique_ptr<Conn> found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& conns = it->second;
    auto now = Clock::now();
    while (!conns.empty() && !found) {
      IdleConn ic = std::move(conns.back());  // most recently used first: least likely to be stale
      conns.pop_back();
      if (now - ic.since > options_.max_idle_age) {
        dead.push_back(std::move(ic.conn));
        continue;
      }
      // A readable idle connection is either closed by the peer or carries bytes nobody asked for.
      pollfd p{ic.conn->fd, POLLIN, 0};
      if (::poll(&p, 1, 0) != 0) {
        dead.push_back(std::move(ic.conn));
        continue;
      }
      found = std::move(ic.conn);
    }
    if (conns.empty()) idle_.erase(it);
  }
  return found;
}

void HttpClient::PutIdle(const std::string& key, std::unique_ptr<Conn> conn) {
  std::unique_ptr<Conn> evicted;
  std::lock_guard<std::mutex> lock(mu_);
  auto& conns = idle_[key];
  if (conns.size() >= options_.max_idle_per_host) {
    evicted = std::move(conns.front().conn);
    conns.erase(conns.begin());
  }
  conns.push_back(IdleConn{std::move(conn), Clock::now()});
}

namespace {

Result<std::unique_ptr<detail::HttpConn>> Connect(const ParsedUrl& url, const std::string& peer,
                                                  Clock::time_point deadline, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url.port);
  // getaddrinfo cannot be bounded by our deadline; numeric hosts (the common case) never block.
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve host \"" + url.host + "\": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);

  int last_err = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    auto conn = std::make_unique<detail::HttpConn>();
    conn->peer = peer;
    conn->fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (conn->fd < 0) {
      last_err = errno;
      continue;
    }
    int one = 1;
    // Requests are written in one go and are latency-bound: never wait for Nagle.
    ::setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(conn->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS && errno != EINTR) {
        last_err = errno;
        continue;
      }
      if (Status s = conn->Wait(POLLOUT, deadline, "connecting to"); !s.ok()) {
        if (s.code() == StatusCode::kDeadlineExceeded) {
          return Status::DeadlineExceeded("timed out after " + std::to_string(timeout.count()) +
                                          "ms connecting to " + peer);
        }
        return s;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_err = err;
        continue;
      }
    }
    return conn;
  }
  if (last_err == ECONNREFUSED) return Status::Unavailable("connection refused by " + peer);
  return Status::Unavailable("cannot connect to " + peer + ": " + Errno(last_err ? last_err : EHOSTUNREACH));
}

std::string BuildRequestHead(const ClientRequest& req, const ParsedUrl& url, bool* wants_close) {
  std::string head = req.method + " " + url.target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& [k, v] : req.headers) {
    if (EqualsIgnoreCase(k, "host")) has_host = true;
  }
  if (!has_host) head += "Host: " + url.HostHeader() + "\r\n";
  *wants_close = false;
  for (const auto& [k, v] : req.headers) {
    // Framing is ours: a caller's length could desynchronise the connection.
    if (EqualsIgnoreCase(k, "content-length") || EqualsIgnoreCase(k, "transfer-encoding")) continue;
    if (EqualsIgnoreCase(k, "connection") && HasToken(v, "close")) *wants_close = true;
    head += k + ": " + v + "\r\n";
  }
  bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (!req.body.empty() || body_method) head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  head += "\r\n";
  return head;
}

Status ValidateRequest(const ClientRequest& req) {
  if (!IsToken(req.method)) return Status::InvalidArgument("invalid HTTP method \"" + req.method + "\"");
  for (const auto& [k, v] : req.headers) {
    if (!IsToken(k)) return Status::InvalidArgument("invalid header name \"" + k + "\"");
    if (!IsSendableHeader(k, v)) {
      return Status::InvalidArgument("header \"" + k + "\" has a line break or NUL in its value");
    }
  }
  return Status::Ok();
}

struct Head {
  int version_minor = 1;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

Status ParseStatusLine(const std::string& line, const std::string& peer, Head* head) {
  // "HTTP/1.x SSS[ reason]"
  auto bad = [&] { return Status::Internal("malformed HTTP response from " + peer + ": status line \"" +
                                           line.substr(0, 80) + "\""); };
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ') {
    return bad();
  }
  for (int i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return bad();
  }
  if (line.size() > 12 && line[12] != ' ') return bad();
  head->version_minor = line[7] - '0';
  head->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head->status < 100) return bad();
  return Status::Ok();
}

Status ReadHead(detail::HttpConn& conn, Clock::time_point deadline, Head* head) {
  head->headers.clear();
  size_t budget = kMaxHeadBytes;
  std::string line;
  if (Status s = conn.ReadLine(deadline, budget, &line); !s.ok()) return s;
  if (Status s = ParseStatusLine(line, conn.peer, head); !s.ok()) return s;
  budget -= std::min(budget, line.size());
  for (;;) {
    if (Status s = conn.ReadLine(deadline, budget, &line); !s.ok()) return s;
    if (line.empty()) return Status::Ok();
    if (line.size() >= budget) return Status::Internal("HTTP response head from " + conn.peer + " is too large");
    budget -= line.size();
    if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
      if (head->headers.empty()) return Status::Internal("malformed HTTP header from " + conn.peer);
      head->headers.back().second += " " + std::string(TrimOws(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos || !IsToken(std::string_view(line).substr(0, colon))) {
      return Status::Internal("malformed HTTP header from " + conn.peer + ": \"" + line.substr(0, 80) + "\"");
    }
    head->headers.emplace_back(line.substr(0, colon), std::string(TrimOws(std::string_view(line).substr(colon + 1))));
  }
}

const std::string* FindHeader(const Head& head, std::string_view name) {
  for (const auto& [k, v] : head.headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

// Parses every Content-Length (repeated or comma-listed values must agree); -1 if none.
Status ContentLength(const Head& head, const std::string& peer, int64_t* out) {
  *out = -1;
  for (const auto& [k, v] : head.headers) {
    if (!EqualsIgnoreCase(k, "content-length")) continue;
    std::string_view rest = v;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view item = TrimOws(rest.substr(0, comma));
      if (item.empty() || item.size() > 18 ||
          !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Status::Internal("malformed Content-Length from " + peer + ": \"" + v + "\"");
      }
      int64_t n = 0;
      for (char c : item) n = n * 10 + (c - '0');
      if (*out >= 0 && *out != n) return Status::Internal("conflicting Content-Length values from " + peer);
      *out = n;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return Status::Ok();
}

Status ReadChunked(detail::HttpConn& conn, Clock::time_point deadline, size_t max, std::string* body) {
  std::string line;
  for (;;) {
    if (Status s = conn.ReadLine(deadline, 4096, &line); !s.ok()) return s;
    std::string_view size_text = TrimOws(std::string_view(line).substr(0, line.find(';')));  // drop extensions
    if (size_text.empty() || size_text.size() > 15) {
      return Status::Internal("malformed chunk size from " + conn.peer + ": \"" + line.substr(0, 40) + "\"");
    }
    size_t size = 0;
    for (char c : size_text) {
      int d = std::isxdigit(static_cast<unsigned char>(c)) ? (std::isdigit(static_cast<unsigned char>(c))
                                                                 ? c - '0'
                                                                 : Lower(c) - 'a' + 10)
                                                           : -1;
      if (d < 0) return Status::Internal("malformed chunk size from " + conn.peer + ": \"" + line.substr(0, 40) + "\"");
      size = size * 16 + static_cast<size_t>(d);
    }
    if (size == 0) break;
    if (body->size() + size > max) {
      return Status::ResourceExhausted("response from " + conn.peer + " exceeds " + std::to_string(max) + " bytes");
    }
    if (Status s = conn.Need(size, deadline); !s.ok()) return s;
    body->append(conn.buf, 0, size);
    conn.buf.erase(0, size);
    if (Status s = conn.ReadLine(deadline, 2, &line); !s.ok()) return s;
    if (!line.empty()) return Status::Internal("malformed chunk from " + conn.peer + ": missing CRLF after data");
  }
  // Trailers: read and dropped.
  for (size_t budget = kMaxHeadBytes;;) {
    if (Status s = conn.ReadLine(deadline, budget, &line); !s.ok()) return s;
    if (line.empty()) return Status::Ok();
    if (line.size() >= budget) return Status::Internal("HTTP trailers from " + conn.peer + " are too large");
    budget -= line.size();
  }
}

}  // namespace

Result<ClientResponse> HttpClient::Do(const ClientRequest& req) {
  auto url = ParseUrl(req.url);
  if (!url.ok()) return url.status();
  if (Status s = ValidateRequest(req); !s.ok()) return s;

  const Clock::time_point deadline = Clock::now() + req.timeout;
  const std::string key =
      (url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port);
  bool wants_close = false;
  const std::string head = BuildRequestHead(req, *url, &wants_close);
  const bool is_head = req.method == "HEAD";

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Conn> conn = attempt == 0 ? TakeIdle(key) : nullptr;
    if (conn) {
      conn->reused = true;
    } else {
      auto fresh = Connect(*url, key, deadline, req.timeout);
      if (!fresh.ok()) return fresh.status();
      conn = std::move(fresh).value();
    }
    conn->received = 0;

    ClientResponse resp;
    bool reusable = false;
    Status st = [&]() -> Status {
      if (Status s = conn->WriteAll(head, req.body, deadline); !s.ok()) return s;
      Head h;
      for (int interim = 0;; ++interim) {
        if (Status s = ReadHead(*conn, deadline, &h); !s.ok()) return s;
        if (h.status >= 200 || h.status == 101) break;
        if (interim >= kMaxInterimResponses) {
          return Status::Internal("too many interim (1xx) responses from " + conn->peer);
        }
      }
      resp.status = h.status;

      const std::string* te = FindHeader(h, "transfer-encoding");
      const std::string* connection = FindHeader(h, "connection");
      bool keep_alive = h.version_minor == 1 ? !(connection && HasToken(*connection, "close"))
                                             : (connection && HasToken(*connection, "keep-alive"));
      keep_alive = keep_alive && !wants_close;

      // RFC 9112 section 6.3, in order.
      enum class Framing { kNone, kChunked, kLength, kUntilClose } framing = Framing::kUntilClose;
      int64_t length = -1;
      if (is_head || h.status == 101 || h.status == 204 || h.status == 304) {
        framing = Framing::kNone;
      } else if (te != nullptr) {
        // Only a final "chunked" coding frames the body; anything else runs to the close.
        std::string_view codings = TrimOws(*te);
        size_t comma = codings.rfind(',');
        std::string_view last = TrimOws(comma == std::string_view::npos ? codings : codings.substr(comma + 1));
        if (EqualsIgnoreCase(last, "chunked")) framing = Framing::kChunked;
      } else {
        if (Status s = ContentLength(h, conn->peer, &length); !s.ok()) return s;
        if (length >= 0) framing = Framing::kLength;
      }
      resp.headers = std::move(h.headers);

      const size_t max = options_.max_response_bytes;
      auto too_large = [&] {
        return Status::ResourceExhausted("response from " + conn->peer + " exceeds " + std::to_string(max) + " bytes");
      };
      switch (framing) {
        case Framing::kNone:
          reusable = keep_alive && h.status != 101;  // after 101 the connection speaks another protocol
          break;
        case Framing::kChunked:
          if (Status s = ReadChunked(*conn, deadline, max, &resp.body); !s.ok()) return s;
          reusable = keep_alive;
          break;
        case Framing::kLength: {
          if (static_cast<uint64_t>(length) > max) return too_large();
          size_t n = static_cast<size_t>(length);
          if (Status s = conn->Need(n, deadline); !s.ok()) return s;
          resp.body.assign(conn->buf, 0, n);
          conn->buf.erase(0, n);
          reusable = keep_alive;
          break;
        }
        case Framing::kUntilClose:
          for (bool eof = false; !eof;) {
            if (conn->buf.size() > max) return too_large();
            if (Status s = conn->Fill(deadline, &eof); !s.ok()) return s;
          }
          resp.body = std::move(conn->buf);
          conn->buf.clear();
          reusable = false;
          break;
      }
      return Status::Ok();
    }();

    if (st.ok()) {
      // Leftover bytes mean the server sent more than it framed: do not trust the connection.
      if (reusable && conn->buf.empty() && !conn->broken) PutIdle(key, std::move(conn));
      return resp;
    }
    // A pooled connection the server had already closed fails before any byte of a
    // response: nothing was processed (as far as HTTP can tell), so try once more.
    if (attempt == 0 && conn->reused && conn->broken && conn->received == 0) continue;
    if (st.code() == StatusCode::kDeadlineExceeded) {
      return Status::DeadlineExceeded("no response from " + key + " within " + std::to_string(req.timeout.count()) +
                                      "ms (" + req.method + " " + url->target + ")");
    }
    return st;
  }
}

}  // namespace ofn::net

#include "support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "ofn/http_request.h"

namespace ofn::testing {
namespace {

int MillisUntil(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count() + 1;
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ErrnoText(const std::string& what, int err) { return what + ": " + std::strerror(err); }

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); });
}

// Parses a head ("HTTP/1.1 200 OK\r\nA: b\r\n\r\n") into `r`.
Status ParseHead(std::string_view head, RawResponse& r) {
  r.head = std::string(head);
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || line.substr(0, 5) != "HTTP/") {
    return Status::Internal("bad status line: " + std::string(line));
  }
  r.version = std::string(line.substr(0, sp1));
  std::string_view rest = line.substr(sp1 + 1);
  std::size_t sp2 = rest.find(' ');
  std::string_view code = rest.substr(0, sp2);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Internal("bad status code in: " + std::string(line));
  }
  r.status = std::stoi(std::string(code));
  r.reason = sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1));
  r.headers.clear();
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view h = head.substr(pos, end - pos);
    pos = end + 2;
    if (h.empty()) break;
    std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) return Status::Internal("bad header line: " + std::string(h));
    r.headers.emplace_back(std::string(h.substr(0, colon)), std::string(TrimOws(h.substr(colon + 1))));
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::string> RawResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return std::nullopt;
}

std::size_t RawResponse::HeaderCount(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); }));
}

std::string RawResponse::Describe() const {
  std::string s = version + " " + std::to_string(status) + " " + reason + " (" + std::to_string(body.size()) +
                  " bytes body)\n" + head;
  if (!body.empty()) s += body.size() <= 300 ? body : body.substr(0, 300) + "...";
  return s;
}

std::vector<std::pair<std::string, std::string>> RawRequest::EffectiveHeaders() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (add_host && version == "HTTP/1.1" && !HasHeader(headers, "Host")) out.emplace_back("Host", "127.0.0.1");
  out.insert(out.end(), headers.begin(), headers.end());
  if (add_content_length && !HasHeader(headers, "Content-Length") && !HasHeader(headers, "Transfer-Encoding") &&
      (!body.empty() || (method != "GET" && method != "HEAD"))) {
    out.emplace_back("Content-Length", std::to_string(body.size()));
  }
  return out;
}

std::string RawRequest::Serialize() const {
  std::string s = method + " " + target + " " + version + "\r\n";
  for (const auto& [k, v] : EffectiveHeaders()) s += k + ": " + v + "\r\n";
  s += "\r\n";
  s += body;
  return s;
}

RawRequest Get(std::string target) {
  RawRequest r;
  r.target = std::move(target);
  return r;
}

RawRequest Post(std::string target, std::string body, std::string content_type) {
  RawRequest r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  if (!content_type.empty()) r.Header("Content-Type", std::move(content_type));
  return r;
}

std::string Chunked(std::string_view body, std::size_t chunk_size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t pos = 0; pos < body.size(); pos += chunk_size) {
    std::size_t n = std::min(chunk_size, body.size() - pos);
    std::string size;
    for (std::size_t v = n; v > 0; v >>= 4) size.insert(size.begin(), kHex[v & 15]);
    out += size + "\r\n";
    out.append(body.substr(pos, n));
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

Result<RawConnection> RawConnection::Connect(int port, Deadline deadline) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Internal(ErrnoText("socket", errno));
  RawConnection c(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return Status::Unavailable(ErrnoText("connect", errno));
    pollfd p{fd, POLLOUT, 0};
    int r;
    do {
      r = ::poll(&p, 1, MillisUntil(deadline));
    } while (r < 0 && errno == EINTR);
    if (r == 0) return Status::DeadlineExceeded("connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::Unavailable(ErrnoText("connect", err));
  }
  return c;
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buf_(std::move(other.buf_)), eof_(other.eof_), error_(other.error_) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    buf_ = std::move(other.buf_);
    eof_ = other.eof_;
    error_ = other.error_;
  }
  return *this;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

Status RawConnection::Send(std::string_view bytes, Deadline deadline) {
  std::size_t sent = 0;
  char scratch[65536];
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::Unavailable(ErrnoText("send (after " + std::to_string(sent) + " bytes)", errno));
    }
    pollfd p{fd_, static_cast<short>(POLLOUT | (eof_ || error_ != 0 ? 0 : POLLIN)), 0};
    int r = ::poll(&p, 1, MillisUntil(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || Clock::now() >= deadline) {
      return Status::DeadlineExceeded("send timed out after " + std::to_string(sent) + " of " +
                                      std::to_string(bytes.size()) + " bytes");
    }
    if ((p.revents & POLLIN) != 0 && !eof_ && error_ == 0) {
      ssize_t m = ::recv(fd_, scratch, sizeof scratch, 0);
      if (m > 0) {
        buf_.append(scratch, static_cast<std::size_t>(m));
      } else if (m == 0) {
        eof_ = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        error_ = errno;
      }
    }
  }
  return Status::Ok();
}

Status RawConnection::SendSlowly(std::string_view bytes, std::size_t piece, std::chrono::milliseconds pause,
                                 Deadline deadline) {
  for (std::size_t pos = 0; pos < bytes.size(); pos += piece) {
    Status s = Send(bytes.substr(pos, piece), deadline);
    if (!s.ok()) return s;
    if (pos + piece < bytes.size()) std::this_thread::sleep_for(pause);
  }
  return Status::Ok();
}

Status RawConnection::Fill(Deadline deadline) {
  if (error_ != 0) return Status::Unavailable(ErrnoText("connection failed", error_));
  if (eof_) return Status::Unavailable("connection closed by the server");
  char scratch[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n > 0) {
      buf_.append(scratch, static_cast<std::size_t>(n));
      return Status::Ok();
    }
    if (n == 0) {
      eof_ = true;
      return Status::Unavailable("connection closed by the server");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      error_ = errno;
      return Status::Unavailable(ErrnoText("connection failed", error_));
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, MillisUntil(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || (r > 0 && Clock::now() >= deadline && (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0)) {
      return Status::DeadlineExceeded("timed out waiting for the server (" + std::to_string(buf_.size()) +
                                      " bytes buffered)");
    }
  }
}

Status RawConnection::Need(std::size_t end, Deadline deadline) {
  while (buf_.size() < end) {
    Status s = Fill(deadline);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status RawConnection::ReadHead(std::string& head, Deadline deadline) {
  for (;;) {
    std::size_t end = buf_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = buf_.substr(0, end + 4);
      buf_.erase(0, end + 4);
      return Status::Ok();
    }
    Status s = Fill(deadline);
    if (!s.ok()) {
      if (!buf_.empty()) {
        return Status(s.code(), s.message() + "; incomplete head received: " + buf_.substr(0, 200));
      }
      return s;
    }
  }
}

std::optional<int> RawConnection::PeekStatus(Deadline deadline) {
  while (buf_.find("\r\n") == std::string::npos) {
    if (!Fill(deadline).ok()) return std::nullopt;
  }
  std::size_t eol = buf_.find("\r\n");
  std::string line = buf_.substr(0, eol);
  if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  std::size_t sp = line.find(' ');
  if (sp == std::string::npos || sp + 4 > line.size()) return std::nullopt;
  try {
    return std::stoi(line.substr(sp + 1, 3));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<RawResponse> RawConnection::ReadResponse(Deadline deadline, bool no_body) {
  RawResponse r;
  std::vector<int> interim;
  for (;;) {
    std::string head;
    Status s = ReadHead(head, deadline);
    if (!s.ok()) return s;
    s = ParseHead(head, r);
    if (!s.ok()) return s;
    if (r.status >= 100 && r.status < 200 && r.status != 101) {
      interim.push_back(r.status);
      continue;
    }
    break;
  }
  r.interim = std::move(interim);
  if (no_body || r.status == 204 || r.status == 304 || r.status < 200) return r;

  std::optional<std::string> te = r.Header("Transfer-Encoding");
  if (te && te->size() >= 7 && IEquals(te->substr(te->size() - 7), "chunked")) {
    r.chunked = true;
    std::size_t pos = 0;
    for (;;) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n", pos)) == std::string::npos) {
        Status s = Fill(deadline);
        if (!s.ok()) return Status(s.code(), s.message() + " (in a chunk size line)");
      }
      std::string line = buf_.substr(pos, eol - pos);
      std::string hex = line.substr(0, line.find(';'));
      std::size_t size = 0;
      if (hex.empty() || hex.size() > 15) return Status::Internal("bad chunk size line: " + line);
      for (char c : hex) {
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (v < 0) return Status::Internal("bad chunk size line: " + line);
        size = size * 16 + static_cast<std::size_t>(v);
      }
      pos = eol + 2;
      if (size == 0) {
        // Trailer fields, then an empty line.
        for (;;) {
          while ((eol = buf_.find("\r\n", pos)) == std::string::npos) {
            Status s = Fill(deadline);
            if (!s.ok()) return Status(s.code(), s.message() + " (in the chunked trailer)");
          }
          bool empty = eol == pos;
          pos = eol + 2;
          if (empty) break;
        }
        buf_.erase(0, pos);
        return r;
      }
      Status s = Need(pos + size + 2, deadline);
      if (!s.ok()) return Status(s.code(), s.message() + " (in chunk data)");
      r.body.append(buf_, pos, size);
      if (buf_.compare(pos + size, 2, "\r\n") != 0) return Status::Internal("chunk data not followed by CRLF");
      pos += size + 2;
    }
  }
  if (std::optional<std::string> cl = r.Header("Content-Length")) {
    std::size_t n = 0;
    try {
      n = std::stoull(*cl);
    } catch (const std::exception&) {
      return Status::Internal("bad Content-Length in response: " + *cl);
    }
    Status s = Need(n, deadline);
    if (!s.ok()) {
      return Status(s.code(), s.message() + " (body: " + std::to_string(buf_.size()) + " of " + std::to_string(n) +
                                  " bytes)");
    }
    r.body = buf_.substr(0, n);
    buf_.erase(0, n);
    return r;
  }
  // No framing: the body runs to the end of the connection.
  for (;;) {
    Status s = Fill(deadline);
    if (!s.ok()) {
      if (eof_) break;
      return s;
    }
  }
  r.body = std::move(buf_);
  buf_.clear();
  return r;
}

Result<std::vector<RawResponse>> RawConnection::ReadResponses(std::size_t n, Deadline deadline) {
  std::vector<RawResponse> out;
  for (std::size_t i = 0; i < n; ++i) {
    Result<RawResponse> r = ReadResponse(deadline);
    if (!r.ok()) {
      return Status(r.status().code(), "response " + std::to_string(i + 1) + " of " + std::to_string(n) + ": " +
                                           r.status().message());
    }
    out.push_back(std::move(*r));
  }
  return out;
}

bool RawConnection::WaitForClose(Deadline deadline) {
  for (;;) {
    Status s = Fill(deadline);
    if (eof_ || error_ != 0) return true;
    if (!s.ok()) return false;
  }
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

void RawConnection::Reset() {
  if (fd_ < 0) return;
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

Result<RawResponse> RoundTrip(int port, const RawRequest& request, Deadline deadline) {
  return RoundTripBytes(port, request.Serialize(), deadline, request.method == "HEAD");
}

Result<RawResponse> RoundTripBytes(int port, std::string_view bytes, Deadline deadline, bool no_body) {
  Result<RawConnection> c = RawConnection::Connect(port, deadline);
  if (!c.ok()) return c.status();
  Status s = c->Send(bytes, deadline);
  // A server may answer (e.g. 4xx) and close before reading everything: still read its answer.
  Result<RawResponse> r = c->ReadResponse(deadline, no_body);
  if (!r.ok() && !s.ok()) return Status(r.status().code(), r.status().message() + "; " + s.message());
  return r;
}

}  // namespace ofn::testing

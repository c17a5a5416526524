// ProbeAttempt: one non-blocking readiness check of 127.0.0.1:port, driven by
// an event loop: a TCP connect, or a TCP connect then `GET path` expecting a
// 2xx status line.
//
// Begin() starts the attempt; while it says kPending, the caller waits for
// `events()` on `fd()` (epoll) and calls OnEvent(). The caller also owns the
// attempt's deadline: destroying the attempt abandons it. Retrying, backoff
// and the overall readiness deadline belong to the caller (ProcessRuntime).
//
// Thread-safety: none; an attempt is used by one thread.
#pragma once

#include <cstdint>
#include <string>

namespace ofn::runtime {

class ProbeAttempt {
 public:
  enum class Outcome { kPending, kSuccess, kFailure };

  // http_path empty: a TCP probe; otherwise an HTTP GET of that path.
  ProbeAttempt(int port, std::string http_path);
  ~ProbeAttempt();
  ProbeAttempt(const ProbeAttempt&) = delete;
  ProbeAttempt& operator=(const ProbeAttempt&) = delete;

  Outcome Begin();
  Outcome OnEvent();
  int fd() const { return fd_; }
  uint32_t events() const;  // EPOLLOUT while connecting or sending, EPOLLIN while reading
  // Why the attempt failed ("connection refused", "HTTP 503"), for messages.
  const std::string& detail() const { return detail_; }

 private:
  enum class Stage { kIdle, kConnecting, kSending, kReading, kDone };
  Outcome Fail(std::string why);
  Outcome Send();
  Outcome Read();

  int port_;
  std::string path_;
  int fd_ = -1;
  Stage stage_ = Stage::kIdle;
  std::string out_;  // request bytes not yet sent
  std::string in_;   // response bytes so far
  std::string detail_;
};

}  // namespace ofn::runtime

// HttpServer: an HTTP/1.1 server on epoll, built for a thin data path.
//
// N event-loop threads (default: the CPUs this process may run on) share one
// listening socket. A handler runs inline on the loop thread that read the
// request, so a fast handler costs no thread hop. Handlers may also block: a
// watchdog notices a call that holds its loop for more than `stall_after`
// and hands the loop to another thread, so blocked calls never delay other
// connections and concurrent calls overlap. Keep-alive, pipelining (answered in
// order), chunked bodies, Expect: 100-continue and HTTP/1.0 are supported;
// limits answer 400/408/413/431.
//
// Thread-safety: Start/Shutdown/port from any one controlling thread; the
// handler is called concurrently from several threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/http_parser.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"
#include "ofn/status.h"

namespace ofn::net {

using Handler = std::function<void(HttpRequest&, HttpResponse&)>;

// The event loop a request arrived on, for handlers that answer later
// (a proxy waiting on an upstream). Use it only from the thread that called
// the handler, except Post(), which any thread may call.
class Reactor {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using FdCallback = std::function<void(uint32_t epoll_events)>;
  virtual ~Reactor() = default;
  // Watches fd (edge-triggered; `events` are EPOLLIN/EPOLLOUT/...) until
  // Unwatch(fd). Calling Watch again for the same fd changes events and callback.
  virtual void Watch(int fd, uint32_t events, FdCallback cb) = 0;
  virtual void Unwatch(int fd) = 0;
  virtual uint64_t AddTimer(TimePoint when, std::function<void()> cb) = 0;
  virtual void CancelTimer(uint64_t id) = 0;
  // Runs fn on this loop's thread soon; thread-safe.
  virtual void Post(std::function<void()> fn) = 0;
  // Which loop this is (0..loops-1), for per-loop state such as upstream pools.
  virtual int index() const = 0;
};

// Completes one request of an AsyncHandler. Move-only; Send() exactly once, on
// the loop's thread. Dropping it unsent answers 500, so a client never hangs.
class Responder {
 public:
  Responder() = default;  // empty: Send() does nothing
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();
  void Send(HttpResponse response);
  explicit operator bool() const { return token_ != nullptr; }

 private:
  friend class HttpServer;
  explicit Responder(void* token) : token_(token) {}
  void* token_ = nullptr;
};

// A handler that never blocks: it answers through the Responder, possibly
// after waiting on other sockets or timers through the Reactor. Requests on
// one connection are still answered in order: the next pipelined request is
// not read until this one is answered.
using AsyncHandler = std::function<void(HttpRequest&, Reactor&, Responder)>;

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0 picks a free port; see HttpServer::port()
  // A listening socket to adopt instead of binding host:port (socket
  // activation: the platform creates it so an instance is routable at once).
  int listen_fd = -1;
  // Listen on this Unix socket path instead of TCP (created 0600; a stale
  // socket file is replaced).
  std::string unix_path;
  int loops = 0;    // 0 = number of CPUs available to the process
  ParseLimits limits;
  std::chrono::milliseconds read_timeout{30000};   // a started request must arrive within this
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive connection with nothing to do
  std::chrono::milliseconds write_timeout{60000};  // a client that stops reading our answer
  std::chrono::milliseconds stall_after{1};        // watchdog tick; a call seen on two ticks is handed off
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, Handler handler);
  // Non-blocking handlers: no watchdog, no hand-off.
  static Result<std::unique_ptr<HttpServer>> StartAsync(HttpServerOptions options, AsyncHandler handler);
  ~HttpServer();

  int port() const;
  // Loop `index`'s reactor, to Post work to it from outside a handler.
  Reactor& reactor(int index);
  int loops() const;
  // Stops accepting, closes idle connections and waits up to `drain` for the
  // requests in flight. True when everything finished in time.
  bool Shutdown(std::chrono::milliseconds drain);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ofn::net

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

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0 picks a free port; see HttpServer::port()
  // A listening socket to adopt instead of binding host:port (socket
  // activation: the platform creates it so an instance is routable at once).
  int listen_fd = -1;
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
  ~HttpServer();

  int port() const;
  // Stops accepting, closes idle connections and waits up to `drain` for the
  // requests in flight. True when everything finished in time.
  bool Shutdown(std::chrono::milliseconds drain);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ofn::net

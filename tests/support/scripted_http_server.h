// A stand-in HTTP/1.1 peer for tests.
//
// ScriptedHttpServer plays the server side of an HTTP exchange: the Dapr
// sidecar (Ofn's component host), the endpoint of a bindings.http output, or
// any endpoint an HttpClient talks to. It is a real listening socket on
// 127.0.0.1 with a port picked by the kernel, served by one background thread
// started by the constructor and stopped (joined) by the destructor.
//
// What it records: every request it parses, in arrival order across all
// connections: the request line, the headers exactly as sent (order and
// spelling kept), the body, and the number of the connection it came on
// (1 for the first accepted connection, 2 for the next...). It also counts the
// connections it accepted and the ones still open. Request bodies must be
// Content-Length framed (HttpClient always frames them so); chunked request
// bodies are not understood.
//
// How responses are scripted: the test gives a Handler, called on the server
// thread once per parsed request with that request and its index (0 for the
// first request the server sees, across connections). The Reply it returns is
// written to the connection byte for byte, so tests can answer with anything:
// Content-Length or chunked bodies, interim 1xx responses, bodies that end at
// close, malformed or truncated answers. Connections are kept alive (several
// requests may arrive on one) unless the reply asks to close it; a reply may
// also stall the connection (write nothing and never read from it again) to
// provoke client timeouts. Response() and Ok() build well-formed answers.
//
// Thread-safety: the Handler runs on the server thread only, one request at a
// time, so it needs no locking of its own, but whatever it captures must stay
// valid until the server is destroyed. requests(), accepted() and the Wait*
// functions may be called from any thread at any time. Requests are recorded
// before the Handler is called, so once a client has received the answer to a
// request, requests() includes that request.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ofn::testing {

class ScriptedHttpServer {
 public:
  struct Request {
    int conn = 0;  // 1 for the first accepted connection, 2 for the next...
    std::string method, target, version;
    std::vector<std::pair<std::string, std::string>> headers;  // as sent, in order
    std::string body;

    // Value of the first header of that name (compared case-insensitively),
    // or "<absent>".
    std::string header(std::string_view name) const;
  };
  struct Reply {
    std::string raw;     // written as is
    bool close = false;  // then close the connection (with no "Connection: close" unless raw says so)
    bool hang = false;   // write nothing and never read from this connection again
  };
  // index: 0 for the first request the server sees, across connections.
  using Handler = std::function<Reply(const Request&, std::size_t index)>;

  // Starts listening and serving, on `port` (0: one the kernel picks; a
  // fixed one brings a "down" endpoint back at the same address). Failure to
  // set up the socket is reported as a GoogleTest failure of the running test.
  explicit ScriptedHttpServer(Handler handler, int port = 0);
  // Stops the server thread and closes the listener and every connection.
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" followed by target.
  std::string url(std::string_view target = "/") const;

  // Every request parsed so far, in arrival order.
  std::vector<Request> requests() const;
  // Connections accepted so far (open or closed).
  int accepted() const;
  // Wait (up to 10 s) until the server has parsed at least n requests / has
  // exactly n connections open; false on timeout.
  bool WaitForRequests(std::size_t n);
  bool WaitForOpenConnections(int n);

  // "HTTP/1.1 <status> <reason>" with Content-Length, extra_headers (each
  // line ending in "\r\n") and body.
  static std::string Response(int status, std::string_view reason, std::string_view body,
                              std::string_view extra_headers = "");
  // A 200 OK carrying body, keeping the connection open.
  static Reply Ok(std::string_view body);

 private:
  struct Conn;

  bool WaitUntil(const std::function<bool()>& pred);  // pred is called with mu_ held
  void Serve(Conn& c);
  void Loop();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;  // GUARDED_BY(mu_)
  int accepted_ = 0;               // GUARDED_BY(mu_)
  int open_ = 0;                   // GUARDED_BY(mu_)
};

}  // namespace ofn::testing

// HttpClient: a small blocking HTTP/1.1 client over POSIX sockets.
//
// Used by libofn to reach outputs (bindings.http endpoints and the
// Dapr-compatible component API), so it must not pull in any library.
// Plain http:// only. Connections are kept alive and pooled per host:port; a
// pooled connection the server closed while idle is detected and the request
// retried once on a fresh connection, provided no byte of a response arrived.
//
// Thread-safety: Do() may be called from any number of threads at once; each
// call has a connection to itself for its duration.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"

namespace ofn::net {

namespace detail {
struct HttpConn;  // one TCP connection and its read buffer (http_client.cc)
}  // namespace detail

struct ParsedUrl {
  std::string host;    // without brackets for IPv6 literals
  int port = 80;
  std::string target;  // path and query, "/" at least; the fragment is dropped

  // The Host header value: host, bracketed if IPv6, with ":port" unless 80.
  std::string HostHeader() const;
};

// True when the client can send this header as is: the name is an HTTP
// token and the value has no CR, LF or NUL.
bool IsSendableHeader(std::string_view name, std::string_view value);

// Splits an http:// URL. https:// and anything malformed are errors naming the URL.
Result<ParsedUrl> ParseUrl(std::string_view url);

struct ClientRequest {
  std::string method = "POST";
  std::string url;
  // Sent in order. Host defaults from the URL; Content-Length is always computed
  // (a caller's value is dropped); "Connection: close" keeps the connection out of the pool.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // for the whole exchange: connect, send, receive
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, names as sent
  std::string body;                                          // de-chunked

  // The first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

class HttpClient {
 public:
  struct Options {
    size_t max_idle_per_host = 16;                  // idle connections kept per host:port
    std::chrono::milliseconds max_idle_age{60000};  // older idle connections are closed, not reused
    size_t max_response_bytes = 64u << 20;          // larger bodies fail with RESOURCE_EXHAUSTED
  };

  HttpClient();
  explicit HttpClient(Options options);
  ~HttpClient();  // closes the idle connections
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response. Errors:
  // INVALID_ARGUMENT (bad URL or header), UNAVAILABLE (cannot resolve, connection
  // refused or broken), DEADLINE_EXCEEDED (timeout), INTERNAL (malformed response),
  // RESOURCE_EXHAUSTED (response too large). Any HTTP status is a successful Do().
  Result<ClientResponse> Do(const ClientRequest& req);

  // Idle pooled connections across all hosts (for tests and metrics).
  size_t idle_connections() const;

 private:
  using Conn = detail::HttpConn;
  struct IdleConn {
    std::unique_ptr<Conn> conn;
    std::chrono::steady_clock::time_point since;
  };

  std::unique_ptr<Conn> TakeIdle(const std::string& key);
  void PutIdle(const std::string& key, std::unique_ptr<Conn> conn);

  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<IdleConn>> idle_;  // GUARDED_BY(mu_); key "host:port", newest last
};

}  // namespace ofn::net

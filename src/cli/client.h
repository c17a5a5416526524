// The CLI's HTTP/1.1 client: one blocking request per connection, to the
// control API of `ofn server` (over its Unix socket DATA_DIR/ofn.sock, or over
// TCP with a bearer token) and to functions for `ofn invoke`.
//
// A fresh connection per request keeps it simple and is cheap on a local
// socket; a CLI run makes a handful of requests (a `logs -f` one per poll).
// Errors as values: UNAVAILABLE means nothing listens there (socket missing or
// connection refused: the server is not running); DEADLINE_EXCEEDED a timeout;
// INTERNAL a broken or malformed response. Any HTTP status is a success.
//
// Thread-safety: Exchange() is reentrant; an ApiClient is immutable after
// Create() and may be shared.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"

namespace ofn::cli {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Where to connect: a Unix socket path, or a TCP host and port.
struct Endpoint {
  std::string unix_path;  // set for AF_UNIX
  std::string host;       // else TCP
  int port = 0;

  bool is_unix() const { return !unix_path.empty(); }
  // "unix:/path/ofn.sock" or "host:port", for messages.
  std::string ToString() const;
};

struct HttpCall {
  std::string method = "GET";
  std::string target = "/";  // path and query
  std::string host_header;   // empty: from the endpoint ("localhost" on a Unix socket)
  Headers headers;           // sent as given; Content-Length and Connection are added
  std::string body;
  std::chrono::milliseconds timeout{30000};  // the whole exchange
};

struct HttpReply {
  int status = 0;
  Headers headers;
  std::string body;

  // The first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

// Connects, sends one request with "Connection: close", reads the whole response.
Result<HttpReply> Exchange(const Endpoint& endpoint, const HttpCall& call);

// The reason phrase of a status code ("Not Found"), for `invoke -v`.
std::string_view ReasonPhrase(int status);

// Which server the verbs talk to, from the global flags.
struct ApiOptions {
  std::string data_dir;    // resolved already (data_dir.h)
  std::string server_url;  // "http://HOST:PORT" for TCP; empty = the Unix socket
  std::string token;       // bearer token for TCP; empty = DATA_DIR/token when readable
};

class ApiClient {
 public:
  // INVALID_ARGUMENT for a malformed --server URL or a socket path too long.
  static Result<ApiClient> Create(const ApiOptions& options);

  // `target` is an API path with query ("/v1/objects?kind=Function").
  Result<HttpReply> Do(std::string_view method, std::string_view target, std::string body = "",
                       Headers headers = {}, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  const Endpoint& endpoint() const { return endpoint_; }
  // The message every verb prints when Do() says UNAVAILABLE, with how to
  // start the server.
  std::string NotRunningMessage() const;

 private:
  ApiClient() = default;
  Endpoint endpoint_;
  std::string data_dir_;
  std::string server_url_;
  std::string token_;
};

}  // namespace ofn::cli

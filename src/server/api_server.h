// ApiServer: the control API of `ofn server` (docs/api.md), over a Unix
// socket (trusted by file mode) and optionally TCP with a bearer token.
//
// Handlers are synchronous and may block (a followed log waits for output);
// the HTTP server hands blocked calls off so others keep being served.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "server/events_controller.h"
#include "server/manager.h"
#include "store/store.h"

namespace ofn::server {

struct ApiOptions {
  std::string unix_path;
  std::string tcp_host;  // empty: no TCP listener
  int tcp_port = 0;
  std::string token;     // required on TCP
  std::string version;
  std::string gateway_address;  // for /v1/version
  std::string data_dir;
  std::function<std::string()> extra_metrics;  // gateway counters
};

class ApiServer {
 public:
  // `events` may be null (no events engine: its API answers 503).
  static Result<std::unique_ptr<ApiServer>> Start(ApiOptions options, store::Store* store, FunctionManager* manager,
                                                  EventsController* events = nullptr);
  ~ApiServer();
  int tcp_port() const;
  void Shutdown();

  // Exposed for tests: one request in, one answer out (no socket).
  void Handle(HttpRequest& req, HttpResponse& resp, bool over_tcp);

 private:
  ApiServer(ApiOptions o, store::Store* s, FunctionManager* m, EventsController* e)
      : options_(std::move(o)), store_(s), manager_(m), events_(e) {}
  void Apply(const HttpRequest& req, HttpResponse& resp);
  void Objects(const HttpRequest& req, HttpResponse& resp);
  void Logs(const HttpRequest& req, HttpResponse& resp);
  void Builds(const HttpRequest& req, HttpResponse& resp);
  void Events(const HttpRequest& req, HttpResponse& resp);

  ApiOptions options_;
  store::Store* store_;
  FunctionManager* manager_;
  EventsController* events_;
  std::unique_ptr<net::HttpServer> unix_;
  std::unique_ptr<net::HttpServer> tcp_;
};

// "functions", "fn", "Function" -> "Function" (api/kinds.h); "" when unknown.
std::string CanonicalKind(std::string_view kind);

}  // namespace ofn::server

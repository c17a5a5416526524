// HttpOutputSender: delivers ctx.Send() data to a function's outputs over HTTP.
//
// bindings.http outputs whose metadata (or uri) carries an http:// URL are
// called directly (what Dapr's HTTP binding would do on the function's
// behalf); every other output, including a bindings.http one that only names
// its Component, goes through the Dapr HTTP API of the sidecar, or of Ofn's
// component host, at DAPR_HOST:DAPR_HTTP_PORT:
//   bindings.*  POST /v1.0/bindings/{componentName}  {"data","metadata","operation"}
//   pubsub.*    POST /v1.0/publish/{componentName}/{topic}?metadata.k=v
//
// Thread-safe: Send() may be called concurrently; connections are pooled.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_client.h"
#include "ofn/context.h"

namespace ofn {

class HttpOutputSender : public OutputSender {
 public:
  // api_token, when set, is sent as `dapr-api-token` on calls to the Dapr API.
  HttpOutputSender(std::string dapr_host, int dapr_http_port, std::string api_token = "");

  // DAPR_HOST (default 127.0.0.1), DAPR_HTTP_PORT (default 3500; an invalid
  // value also falls back to it) and DAPR_API_TOKEN (optional).
  static std::unique_ptr<HttpOutputSender> FromEnv();

  // Returns the reply body. Errors name the component; a non-success HTTP
  // status is an error carrying the status and (the start of) the body.
  Result<std::string> Send(const Component& output, std::string_view data) override;

  const std::string& dapr_host() const { return dapr_host_; }
  int dapr_http_port() const { return dapr_http_port_; }

  // Per-call timeout; 30 s by default. Set it before the sender is shared.
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 private:
  Result<std::string> SendHttpBinding(const Component& out, std::string_view data);
  Result<std::string> SendDaprBinding(const Component& out, std::string_view data);
  Result<std::string> Publish(const Component& out, std::string_view data);
  std::string DaprBase() const;

  const std::string dapr_host_;
  const int dapr_http_port_;
  const std::string api_token_;
  std::chrono::milliseconds timeout_{30000};
  net::HttpClient client_;
};

}  // namespace ofn

// HttpBinding: Dapr's `bindings.http` output binding, which calls an HTTP
// endpoint for the function.
//
// Component metadata: `url` (required, plain http:// only), `responseTimeout`
// (a Go duration, or a bare number of seconds; unset: no limit, as in Dapr),
// `maxResponseBodySize` (bytes, or with a unit such as 100Mi or 1G; default
// 100Mi; <= 0: no limit), `errorIfNot2XX` (default true), `securityToken` +
// `securityTokenHeader` (a static header sent on every call).
//
// Operations get, head, post, put, patch, delete, options, trace and create
// (= POST); only POST, PUT and PATCH send the request data. Request
// metadata: `path` is appended to the url, `errorIfNot2XX` overrides the
// component's setting for the call, keys starting with an upper-case letter
// become request headers, and traceparent/tracestate/baggage are forwarded.
// Content-Type (when data is sent) and Accept default to
// "application/json; charset=utf-8". The response data is the body; its
// metadata holds statusCode, status ("404 Not Found") and every response
// header (Go's canonical spelling; repeated headers joined with ", ").
// A non-2xx status with errorIfNot2XX is an error naming the status.
//
// Thread-safety: Invoke() may be called from any number of threads at once;
// they share one pool of keep-alive connections.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/binding.h"
#include "components/component.h"
#include "components/registry.h"
#include "net/http_client.h"

namespace ofn::components {

class HttpBinding final : public OutputBinding {
 public:
  static constexpr std::string_view kType = "bindings.http";

  // InvalidArgument naming the bad key; Unimplemented for an https:// url.
  static Result<std::unique_ptr<HttpBinding>> Create(const ComponentSpec& spec);

  std::vector<std::string> Operations() const override;
  Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) override;

 private:
  struct Options {
    std::string url;
    std::chrono::milliseconds timeout;
    bool error_if_not_2xx = true;
    std::string token_header, token;  // both set, or the token is not sent
  };

  HttpBinding(Options options, net::HttpClient::Options client_options)
      : options_(std::move(options)), client_(client_options) {}

  const Options options_;
  net::HttpClient client_;
};

// Registers "bindings.http".
void RegisterHttp(Registry& registry);

}  // namespace ofn::components

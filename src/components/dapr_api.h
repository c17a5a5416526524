// DaprApi: Ofn's implementation of Dapr's HTTP API v1.0, as a request handler.
//
// Instances talk to it at DAPR_HOST:DAPR_HTTP_PORT as they would to a Dapr
// sidecar. Handle() answers one request the way daprd does (routes, status
// codes, ETag headers and the {"errorCode","message"} error body; see
// shared/specs/dapr-fact-sheet.md §0, §1):
//   GET    /v1.0/state/{store}/{key}          200 + ETag, or 204 when missing
//   POST|PUT /v1.0/state/{store}              save an array of items, 204
//   DELETE /v1.0/state/{store}/{key}          If-Match etag, 204
//   POST|PUT /v1.0/state/{store}/bulk         200 [{key,data,etag}]
//   POST|PUT /v1.0/state/{store}/transaction  upsert/delete atomically, 204
//   POST|PUT /v1.0/publish/{pubsub}/{topic}   CloudEvent-wrapped publish, 204
//   POST|PUT /v1.0[-alpha1]/publish/bulk/{pubsub}/{topic}
//   POST|PUT /v1.0/bindings/{name}            output binding, 200 or 204
//   GET    /v1.0/healthz, /v1.0/healthz/outbound
//   GET    /v1.0/metadata, PUT /v1.0/metadata/{key}
// Other /v1.0-alpha1 routes answer 501.
//
// One DaprApi serves every function. Each function (Dapr app) has a scope:
// its app id and the components it may use, reached with its own
// `dapr-api-token`, so one app never sees another's components.
// It does no I/O of its own, so it can be served by any HttpServer.
//
// Thread-safety: every method may be called from many threads at once;
// scopes may be set and removed while requests are served (a request keeps
// the scope it started with).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "components/binding.h"
#include "components/pubsub.h"
#include "components/state_store.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"

namespace ofn::components {

struct DaprApiOptions {
  std::string runtime_version = "ofn";
};

// Dapr's keyPrefix component metadata ("appid" default, "name", "namespace",
// "none" or a literal) resolved to the prefix put before "||" in stored keys.
std::string ResolveKeyPrefix(std::string_view key_prefix, std::string_view app_id, std::string_view store_name,
                             std::string_view ns = "");

struct StateStoreRef {
  std::shared_ptr<StateStore> store;
  std::string key_prefix;  // from ResolveKeyPrefix; empty: none
};

// What one app may use, by component name.
struct ApiScope {
  std::string app_id;
  std::map<std::string, StateStoreRef, std::less<>> states;
  std::map<std::string, std::shared_ptr<PubSub>, std::less<>> pubsubs;
  std::map<std::string, std::shared_ptr<OutputBinding>, std::less<>> outputs;
  std::map<std::string, std::string, std::less<>> types;  // component name -> Dapr type, for /v1.0/metadata
};

class DaprApi {
 public:
  explicit DaprApi(DaprApiOptions options = {});

  // Requests whose `dapr-api-token` header equals `token` use `scope`; token
  // "" is the scope of requests without the header. Any other request is
  // answered 401 "invalid api token" (the health checks excepted).
  void SetScope(std::string token, std::shared_ptr<const ApiScope> scope);  // replaces
  void RemoveScope(std::string_view token);
  // Health: /v1.0/healthz answers 500 ERR_HEALTH_NOT_READY until ready.
  void set_ready(bool ready) { ready_.store(ready); }

  void Handle(const HttpRequest& request, HttpResponse& response);

 private:
  // The scope a request uses; nullptr when its token is unknown.
  std::shared_ptr<const ApiScope> FindScope(const HttpRequest& req) const;

  void HandleState(const HttpRequest& req, std::string_view rest, const ApiScope& scope, HttpResponse& resp);
  void HandlePublish(const HttpRequest& req, std::string_view rest, const ApiScope& scope, HttpResponse& resp);
  void HandleBulkPublish(const HttpRequest& req, std::string_view rest, const ApiScope& scope, HttpResponse& resp);
  void HandleBinding(const HttpRequest& req, std::string_view rest, const ApiScope& scope, HttpResponse& resp);
  void HandleMetadata(const HttpRequest& req, std::string_view rest, const ApiScope& scope, HttpResponse& resp);
  void HandleHealth(const HttpRequest& req, std::string_view rest, const ApiScope* scope, HttpResponse& resp);

  void Get(const StateStoreRef& s, const std::string& key, HttpResponse& resp);
  void Save(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp);
  void Delete(const StateStoreRef& s, const std::string& key, const HttpRequest& req, HttpResponse& resp);
  void BulkGet(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp);
  void Transact(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp);

  const DaprApiOptions options_;
  mutable std::mutex scopes_mu_;
  std::map<std::string, std::shared_ptr<const ApiScope>, std::less<>> scopes_;  // by token
  std::atomic<bool> ready_{true};
  std::mutex extended_mu_;
  // PUT /v1.0/metadata/{key}, per token: each app has its own sidecar metadata.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> extended_;
};

}  // namespace ofn::components

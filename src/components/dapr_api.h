// DaprApi: Ofn's implementation of Dapr's HTTP API v1.0, as a request handler.
//
// Instances talk to it at DAPR_HOST:DAPR_HTTP_PORT as they would to a Dapr
// sidecar. Handle() answers one request the way daprd does (routes, status
// codes, ETag headers and the {"errorCode","message"} error body; see
// shared/specs/dapr-fact-sheet.md §0, §1.4-1.6):
//   GET    /v1.0/state/{store}/{key}          200 + ETag, or 204 when missing
//   POST|PUT /v1.0/state/{store}              save an array of items, 204
//   DELETE /v1.0/state/{store}/{key}          If-Match etag, 204
//   POST|PUT /v1.0/state/{store}/bulk         200 [{key,data,etag}]
//   POST|PUT /v1.0/state/{store}/transaction  upsert/delete atomically, 204
//   GET    /v1.0/healthz, /v1.0/healthz/outbound
//   GET    /v1.0/metadata, PUT /v1.0/metadata/{key}
// Publish and bindings answer 501 until the component host is wired in.
// It does no I/O of its own, so it can be served by any HttpServer.
//
// Thread-safety: every method may be called from many threads at once;
// stores may be added and removed while requests are served.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "components/state_store.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"

namespace ofn::components {

struct DaprApiOptions {
  std::string app_id;
  std::string runtime_version = "ofn";
  // When set, every request but the health checks must carry `dapr-api-token`.
  std::string api_token;
};

// Dapr's keyPrefix component metadata ("appid" default, "name", "namespace",
// "none" or a literal) resolved to the prefix put before "||" in stored keys.
std::string ResolveKeyPrefix(std::string_view key_prefix, std::string_view app_id, std::string_view store_name,
                             std::string_view ns = "");

class DaprApi {
 public:
  explicit DaprApi(DaprApiOptions options);

  // `key_prefix` is the resolved prefix (see ResolveKeyPrefix); empty: none.
  void AddStateStore(std::string name, std::shared_ptr<StateStore> store, std::string key_prefix = "");
  void RemoveStateStore(std::string_view name);
  // Health: /v1.0/healthz answers 500 ERR_HEALTH_NOT_READY until ready.
  void set_ready(bool ready) { ready_.store(ready); }

  void Handle(const HttpRequest& request, HttpResponse& response);

 private:
  struct Store {
    std::shared_ptr<StateStore> store;
    std::string prefix;
  };

  void HandleState(const HttpRequest& req, std::string_view rest, HttpResponse& resp);
  void HandleMetadata(const HttpRequest& req, std::string_view rest, HttpResponse& resp);
  void HandleHealth(const HttpRequest& req, std::string_view rest, HttpResponse& resp);
  // The store, or an error already written to `resp`.
  std::optional<Store> FindStore(std::string_view name, HttpResponse& resp) const;

  void Get(const Store& s, const std::string& key, HttpResponse& resp);
  void Save(const Store& s, const HttpRequest& req, HttpResponse& resp);
  void Delete(const Store& s, const std::string& key, const HttpRequest& req, HttpResponse& resp);
  void BulkGet(const Store& s, const HttpRequest& req, HttpResponse& resp);
  void Transact(const Store& s, const HttpRequest& req, HttpResponse& resp);

  DaprApiOptions options_;
  mutable std::mutex stores_mu_;  // stores come and go with Component objects
  std::map<std::string, Store, std::less<>> stores_;
  std::atomic<bool> ready_{true};
  std::mutex extended_mu_;
  std::map<std::string, std::string> extended_;  // PUT /v1.0/metadata/{key}
};

}  // namespace ofn::components

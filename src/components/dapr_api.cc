#include "components/dapr_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/uuid.h"
#include "components/cloudevent_envelope.h"

namespace ofn::components {
namespace {

using nlohmann::json;

constexpr std::string_view kJson = "application/json";

void Error(HttpResponse& resp, int status, std::string_view code, std::string message) {
  json body = {{"errorCode", code}, {"message", std::move(message)}};
  resp.set_status(status);
  resp.set_header("Content-Type", kJson);
  resp.set_body(body.dump(-1, ' ', false, json::error_handler_t::replace));
}

void NoContent(HttpResponse& resp) {
  resp.set_status(204);
  resp.set_body("");
}

void NotFound(const HttpRequest& req, HttpResponse& resp) {
  Error(resp, 404, "ERR_NOT_FOUND", "no Dapr API route " + std::string(req.path()));
}

bool IsWrite(std::string_view method) { return method == "POST" || method == "PUT"; }

// Go's encoding/json matches object keys to field names case-insensitively.
const json* Field(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(name); it != obj.end()) return &*it;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (EqualsIgnoreCase(it.key(), name)) return &*it;
  }
  return nullptr;
}

// A string field of a decoded Go struct: absent and null are "", any other
// non-string is a decoding error (nullopt).
std::optional<std::string> StringField(const json& obj, std::string_view name) {
  const json* v = Field(obj, name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

// A map[string]string field: absent and null are empty.
std::optional<std::map<std::string, std::string>> StringMapField(const json& obj, std::string_view name) {
  std::map<std::string, std::string> out;
  const json* v = Field(obj, name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_object()) return std::nullopt;
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) return std::nullopt;
    out[k] = value.get<std::string>();
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return parts;
}

// Dapr's request metadata: the metadata.* query parameters, prefix removed;
// of a repeated key the first wins. Malformed pairs are skipped, as Go's
// url.Query() skips them.
std::map<std::string, std::string> QueryMetadata(std::string_view query) {
  constexpr std::string_view kPrefix = "metadata.";
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = enc::PercentDecode(pair.substr(0, eq), /*plus_as_space=*/true);
    auto value = enc::PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value || !key->starts_with(kPrefix)) continue;
    out.emplace(key->substr(kPrefix.size()), std::move(*value));
  }
  return out;
}

// Parses Dapr's options.concurrency; nullopt + ok for absent/empty.
Result<std::optional<Concurrency>> ParseConcurrency(std::string_view v) {
  if (v.empty()) return std::optional<Concurrency>();
  if (v == "first-write") return std::optional<Concurrency>(Concurrency::kFirstWrite);
  if (v == "last-write") return std::optional<Concurrency>(Concurrency::kLastWrite);
  return Status::InvalidArgument("invalid concurrency value " + std::string(v) + ", expected first-write or last-write");
}

// SQLite is one node, so every read is already strong; the value is only validated.
Status CheckConsistency(std::string_view v) {
  if (v.empty() || v == "strong" || v == "eventual") return Status::Ok();
  return Status::InvalidArgument("invalid consistency value " + std::string(v) + ", expected strong or eventual");
}

struct ParsedOptions {
  std::optional<Concurrency> concurrency;
};

// The "options" object of a save or transaction item.
Result<ParsedOptions> ParseOptions(const json& item) {
  ParsedOptions out;
  const json* opts = Field(item, "options");
  if (opts == nullptr || opts->is_null()) return out;
  if (!opts->is_object()) return Status::InvalidArgument("options must be an object");
  std::string concurrency, consistency;
  if (const json* c = Field(*opts, "concurrency"); c != nullptr && c->is_string()) concurrency = c->get<std::string>();
  if (const json* c = Field(*opts, "consistency"); c != nullptr && c->is_string()) consistency = c->get<std::string>();
  auto conc = ParseConcurrency(concurrency);
  if (!conc.ok()) return conc.status();
  if (Status s = CheckConsistency(consistency); !s.ok()) return s;
  out.concurrency = *conc;
  return out;
}

std::string StatusMessage(const Status& s) { return s.message().empty() ? s.ToString() : s.message(); }

// A request body parsed the way Go decodes it (depth-limited), or a discarded value.
json ParseBody(std::string_view body) { return ParseGoJson(body).value_or(json(json::value_t::discarded)); }

// The state store, or an error already written to `resp`. A copy: the scope
// may be replaced while this request uses the store.
std::optional<StateStoreRef> FindStore(const ApiScope& scope, std::string_view name, HttpResponse& resp) {
  if (scope.states.empty()) {
    Error(resp, 500, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured");
    return std::nullopt;
  }
  auto it = scope.states.find(name);
  if (it == scope.states.end()) {
    Error(resp, 400, "ERR_STATE_STORE_NOT_FOUND", "state store " + std::string(name) + " is not found");
    return std::nullopt;
  }
  return it->second;
}

// The pub/sub and topic a publish request names.
struct PublishTarget {
  std::shared_ptr<PubSub> pubsub;
  std::string name;
  std::string topic;
};

// rest is "{pubsub}/{topic}", the topic running to the end of the path.
// Checks in daprd's order; on failure the error is written to `resp`.
std::optional<PublishTarget> FindPubSub(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                                        HttpResponse& resp) {
  if (!IsWrite(req.method())) {
    Error(resp, 405, "ERR_METHOD_NOT_ALLOWED", "publish accepts POST and PUT, not " + std::string(req.method()));
    return std::nullopt;
  }
  if (scope.pubsubs.empty()) {
    Error(resp, 400, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured");
    return std::nullopt;
  }
  size_t slash = rest.find('/');
  auto name = enc::PercentDecode(rest.substr(0, slash));
  auto topic = enc::PercentDecode(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (!name || !topic) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST", "bad percent-encoding in " + std::string(req.path()));
    return std::nullopt;
  }
  if (name->empty()) {
    Error(resp, 404, "ERR_PUBSUB_EMPTY", "pubsub name is empty");
    return std::nullopt;
  }
  auto it = scope.pubsubs.find(*name);
  if (it == scope.pubsubs.end()) {
    Error(resp, 404, "ERR_PUBSUB_NOT_FOUND", "pubsub " + *name + " not found");
    return std::nullopt;
  }
  if (topic->empty()) {
    Error(resp, 404, "ERR_TOPIC_NAME_EMPTY", "topic is empty in pubsub " + *name);
    return std::nullopt;
  }
  return PublishTarget{it->second, std::move(*name), std::move(*topic)};
}

std::string PublishError(const PublishTarget& t, const Status& cause) {
  return "error when publish to topic " + t.topic + " in pubsub " + t.name + ": " + StatusMessage(cause);
}

EnvelopeInput Envelope(const HttpRequest& req, const ApiScope& scope, const PublishTarget& t,
                       std::string_view content_type, std::string_view data,
                       std::map<std::string, std::string> metadata) {
  return EnvelopeInput{
      .data = data,
      .content_type = content_type,
      .id = NewUuid(),
      .source = scope.app_id,
      .topic = t.topic,
      .pubsub_name = t.name,
      .traceparent = std::string(req.header("traceparent").value_or("")),
      .tracestate = std::string(req.header("tracestate").value_or("")),
      .metadata = std::move(metadata),
      .now = std::chrono::system_clock::now(),
  };
}

// Binding response metadata becomes headers; an entry that would break the
// header block (CR, LF, NUL, or a bad name) is left out.
bool HeaderSafe(std::string_view name, std::string_view value) {
  if (name.empty() || name.find_first_of(std::string_view(":\r\n \t\0", 6)) != std::string_view::npos) return false;
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

std::string ResolveKeyPrefix(std::string_view key_prefix, std::string_view app_id, std::string_view store_name,
                             std::string_view ns) {
  if (key_prefix.empty() || key_prefix == "appid") return std::string(app_id);
  if (key_prefix == "name") return std::string(store_name);
  if (key_prefix == "namespace") return ns.empty() ? std::string(app_id) : std::string(ns) + "." + std::string(app_id);
  if (key_prefix == "none") return "";
  return std::string(key_prefix);
}

DaprApi::DaprApi(DaprApiOptions options) : options_(std::move(options)) {}

void DaprApi::SetScope(std::string token, std::shared_ptr<const ApiScope> scope) {
  std::lock_guard lock(scopes_mu_);
  scopes_[std::move(token)] = std::move(scope);
}

void DaprApi::RemoveScope(std::string_view token) {
  {
    std::lock_guard lock(scopes_mu_);
    if (auto it = scopes_.find(token); it != scopes_.end()) scopes_.erase(it);
  }
  std::lock_guard lock(extended_mu_);
  if (auto it = extended_.find(token); it != extended_.end()) extended_.erase(it);
}

std::shared_ptr<const ApiScope> DaprApi::FindScope(const HttpRequest& req) const {
  std::string_view token = req.header("dapr-api-token").value_or("");
  std::lock_guard lock(scopes_mu_);
  auto it = scopes_.find(token);
  return it == scopes_.end() ? nullptr : it->second;
}

void DaprApi::Handle(const HttpRequest& req, HttpResponse& resp) {
  resp = HttpResponse();
  std::shared_ptr<const ApiScope> scope = FindScope(req);
  std::string_view path = req.path();
  constexpr std::string_view kHealth = "/v1.0/healthz";
  if (path == kHealth || (path.starts_with(kHealth) && path[kHealth.size()] == '/')) {
    return HandleHealth(req, path.substr(std::min(path.size(), kHealth.size() + 1)), scope.get(), resp);
  }
  if (scope == nullptr) {
    resp = HttpResponse(401, "invalid api token");
    return;
  }
  constexpr std::string_view kBulkPublish = "publish/bulk/";
  if (constexpr std::string_view kAlpha = "/v1.0-alpha1/"; path.starts_with(kAlpha)) {
    std::string_view rest = path.substr(kAlpha.size());
    if (rest.starts_with(kBulkPublish)) return HandleBulkPublish(req, rest.substr(kBulkPublish.size()), *scope, resp);
    Error(resp, 501, "ERR_NOT_IMPLEMENTED", "Ofn does not implement the alpha API " + std::string(path) + " yet");
    return;
  }
  constexpr std::string_view kV1 = "/v1.0/";
  if (!path.starts_with(kV1)) return NotFound(req, resp);
  std::string_view rest = path.substr(kV1.size());
  // Like daprd's router, the literal "bulk" segment wins over a pub/sub of that name.
  if (rest.starts_with(kBulkPublish)) return HandleBulkPublish(req, rest.substr(kBulkPublish.size()), *scope, resp);
  std::string_view group = rest.substr(0, rest.find('/'));
  std::string_view tail = group.size() < rest.size() ? rest.substr(group.size() + 1) : std::string_view();
  if (group == "state" && !tail.empty()) return HandleState(req, tail, *scope, resp);
  if (group == "publish") return HandlePublish(req, tail, *scope, resp);
  if (group == "bindings") return HandleBinding(req, tail, *scope, resp);
  if (group == "metadata") return HandleMetadata(req, tail, *scope, resp);
  NotFound(req, resp);
}

void DaprApi::HandleHealth(const HttpRequest& req, std::string_view rest, const ApiScope* scope, HttpResponse& resp) {
  if (req.method() != "GET") {
    Error(resp, 405, "ERR_METHOD_NOT_ALLOWED", "healthz accepts GET only");
    return;
  }
  if (rest == "outbound") return NoContent(resp);
  if (!rest.empty()) return NotFound(req, resp);
  // Without a known token there is no app whose id could match.
  if (auto appid = req.query("appid"); appid && (scope == nullptr || *appid != scope->app_id)) {
    Error(resp, 500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
    return;
  }
  if (!ready_.load()) {
    Error(resp, 500, "ERR_HEALTH_NOT_READY", "dapr is not ready: components");
    return;
  }
  NoContent(resp);
}

void DaprApi::HandleMetadata(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                             HttpResponse& resp) {
  const std::string_view token = req.header("dapr-api-token").value_or("");
  if (rest.empty() && req.method() == "GET") {
    json out = {{"id", scope.app_id}, {"runtimeVersion", options_.runtime_version}};
    std::set<std::string_view> names;
    for (const auto& [name, type] : scope.types) names.insert(name);
    for (const auto& [name, s] : scope.states) names.insert(name);
    for (const auto& [name, p] : scope.pubsubs) names.insert(name);
    for (const auto& [name, b] : scope.outputs) names.insert(name);
    json components = json::array();
    for (std::string_view name : names) {
      json c = {{"name", name}, {"version", "v1"}};
      std::vector<std::string> capabilities;
      if (auto it = scope.states.find(name); it != scope.states.end()) {
        c["type"] = it->second.store->type();
        capabilities = it->second.store->features();
      }
      if (scope.outputs.contains(name)) capabilities.push_back("OUTPUT_BINDING");
      if (auto it = scope.types.find(name); it != scope.types.end()) c["type"] = it->second;
      if (!capabilities.empty()) c["capabilities"] = std::move(capabilities);
      components.push_back(std::move(c));
    }
    if (!components.empty()) out["components"] = std::move(components);
    {
      std::lock_guard lock(extended_mu_);
      if (auto it = extended_.find(token); it != extended_.end() && !it->second.empty()) out["extended"] = it->second;
    }
    resp.set_status(200);
    resp.set_header("Content-Type", kJson);
    resp.set_body(out.dump(-1, ' ', false, json::error_handler_t::replace));
    return;
  }
  if (!rest.empty() && rest.find('/') == std::string_view::npos && req.method() == "PUT") {
    auto key = enc::PercentDecode(rest);
    if (!key) {
      Error(resp, 400, "ERR_MALFORMED_REQUEST", "bad percent-encoding in metadata key");
      return;
    }
    std::lock_guard lock(extended_mu_);
    extended_[std::string(token)][*key] = std::string(req.body());
    return NoContent(resp);
  }
  Error(resp, 405, "ERR_METHOD_NOT_ALLOWED",
        "metadata accepts GET /v1.0/metadata and PUT /v1.0/metadata/{key}, not " + std::string(req.method()));
}

void DaprApi::HandlePublish(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                            HttpResponse& resp) {
  std::optional<PublishTarget> target = FindPubSub(req, rest, scope, resp);
  if (!target) return;
  std::map<std::string, std::string> metadata = QueryMetadata(req.query_string());
  auto raw = IsRawPayload(metadata);
  if (!raw.ok()) {
    Error(resp, 400, "ERR_PUBSUB_REQUEST_METADATA", "failed deserializing metadata: " + raw.status().message());
    return;
  }
  std::string data;
  if (*raw) {
    data = std::string(req.body());
  } else {
    auto ce = MakeEnvelope(Envelope(req, scope, *target, req.header("Content-Type").value_or(""), req.body(), metadata));
    if (!ce.ok()) {
      Error(resp, 500, "ERR_PUBSUB_CLOUD_EVENTS_SER", PublishError(*target, ce.status()));
      return;
    }
    data = std::move(*ce);
  }
  Status st = target->pubsub->Publish(PublishRequest{target->topic, std::move(data), std::move(metadata)});
  if (!st.ok()) {
    Error(resp, 500, "ERR_PUBSUB_PUBLISH_MESSAGE", PublishError(*target, st));
    return;
  }
  NoContent(resp);
}

void DaprApi::HandleBulkPublish(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                                HttpResponse& resp) {
  std::optional<PublishTarget> target = FindPubSub(req, rest, scope, resp);
  if (!target) return;
  const std::map<std::string, std::string> metadata = QueryMetadata(req.query_string());
  auto raw = IsRawPayload(metadata);
  if (!raw.ok()) {
    Error(resp, 400, "ERR_PUBSUB_REQUEST_METADATA", "failed deserializing metadata: " + raw.status().message());
    return;
  }
  auto bad_entries = [&](std::string why) {
    Error(resp, 400, "ERR_PUBSUB_EVENTS_SER",
          "error when unmarshaling the request for topic " + target->topic + " pubsub " + target->name + ": " + why);
  };
  json body = ParseBody(req.body());
  if (body.is_discarded() || !(body.is_array() || body.is_null())) return bad_entries("expected a JSON array of entries");

  // Every entry is checked and encoded before the first is published.
  struct Entry {
    std::string id;
    PublishRequest request;
  };
  std::vector<Entry> entries;
  std::set<std::string> ids;
  for (const json& e : body.is_null() ? json::array() : body) {
    auto id = StringField(e, "entryId");
    auto content_type = StringField(e, "contentType");
    auto entry_metadata = StringMapField(e, "metadata");
    if (!(e.is_object() || e.is_null()) || !id || !content_type || !entry_metadata) {
      return bad_entries("an entry is not {entryId, event, contentType, metadata}");
    }
    const json* event = Field(e, "event");
    auto bytes = BulkEventBytes(event != nullptr ? *event : json(), *content_type);
    if (!bytes.ok()) {
      Error(resp, 400, "ERR_PUBSUB_EVENTS_SER",
            "error when converting event to bytes for topic " + target->topic + " pubsub " + target->name + ": " +
                bytes.status().message());
      return;
    }
    if (id->empty() || !ids.insert(*id).second) {
      Error(resp, 400, "ERR_PUBSUB_EVENTS_SER", "error: entryId is duplicated or not present for entry");
      return;
    }
    // The entry's own metadata wins over the request's.
    for (const auto& [k, v] : metadata) entry_metadata->emplace(k, v);
    std::string data = std::move(*bytes);
    if (!*raw) {
      auto ce = MakeEnvelope(Envelope(req, scope, *target, *content_type, data, *entry_metadata));
      if (!ce.ok()) {
        Error(resp, 500, "ERR_PUBSUB_CLOUD_EVENTS_SER", PublishError(*target, ce.status()));
        return;
      }
      data = std::move(*ce);
    }
    entries.push_back({std::move(*id), PublishRequest{target->topic, std::move(data), std::move(*entry_metadata)}});
  }
  // None of the brokers publishes in bulk natively: one publish per entry, in
  // order, so the topic keeps the order of the array.
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();
  for (const Entry& entry : entries) {
    if (Status st = target->pubsub->Publish(entry.request); !st.ok()) {
      failed.push_back({{"entryId", entry.id}, {"error", StatusMessage(st)}});
    }
  }
  if (failed.empty()) return NoContent(resp);
  nlohmann::ordered_json out = {{"failedEntries", std::move(failed)}, {"errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"}};
  resp.set_status(500);
  resp.set_header("Content-Type", kJson);
  resp.set_body(out.dump(-1, ' ', false, json::error_handler_t::replace));
}

void DaprApi::HandleBinding(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                            HttpResponse& resp) {
  if (rest.empty() || rest.find('/') != std::string_view::npos) return NotFound(req, resp);
  if (!IsWrite(req.method())) {
    Error(resp, 405, "ERR_METHOD_NOT_ALLOWED", "bindings accept POST and PUT, not " + std::string(req.method()));
    return;
  }
  auto name = enc::PercentDecode(rest);
  json body = ParseBody(req.body());
  auto operation = StringField(body, "operation");
  auto metadata = StringMapField(body, "metadata");
  if (!name || body.is_discarded() || !(body.is_object() || body.is_null()) || !operation || !metadata) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST",
          "failed deserializing HTTP body: expected {\"data\":...,\"metadata\":{...},\"operation\":\"...\"}");
    return;
  }
  const json* data = Field(body, "data");
  BindingRequest request{*operation, GoJson(data != nullptr ? *data : json()), std::move(*metadata)};
  for (const char* trace : {"traceparent", "tracestate"}) {
    if (auto v = req.header(trace)) request.metadata[trace] = std::string(*v);
  }
  auto fail = [&](const std::string& cause) {
    Error(resp, 500, "ERR_INVOKE_OUTPUT_BINDING", "error invoking output binding " + *name + ": " + cause);
  };
  if (request.operation.empty()) return fail("operation field is missing from request");
  auto it = scope.outputs.find(*name);
  if (it == scope.outputs.end()) return fail("couldn't find output binding " + *name);
  const std::shared_ptr<OutputBinding> binding = it->second;
  std::vector<std::string> operations = binding->Operations();
  if (std::find(operations.begin(), operations.end(), request.operation) == operations.end()) {
    std::string supported;
    for (const auto& op : operations) supported += (supported.empty() ? "" : " ") + op;
    return fail("binding " + *name + " does not support operation " + request.operation +
                ". supported operations: " + supported);
  }
  auto result = binding->Invoke(request);
  if (!result.ok()) return fail(StatusMessage(result.status()));
  if (!result->has_value()) return NoContent(resp);
  BindingResponse& out = **result;
  resp.set_status(200);
  for (const auto& [k, v] : out.metadata) {
    if (HeaderSafe(k, v)) resp.add_header("metadata." + k, v);
  }
  resp.set_header("Content-Type", out.content_type.empty() ? kJson : std::string_view(out.content_type));
  resp.set_body(std::move(out.data));
}

namespace {

// The key as stored ("<prefix>||<key>"), or a 400 written to resp.
std::optional<std::string> StoredKey(std::string_view prefix, std::string_view key, HttpResponse& resp) {
  if (key.find("||") != std::string_view::npos) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST", "input key/keyPrefix '" + std::string(key) + "' can't contain '||'");
    return std::nullopt;
  }
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "||" + std::string(key);
}

// The HTTP status Dapr gives a failed save or delete.
int WriteErrorStatus(const Status& s) {
  if (IsEtagMismatch(s)) return 409;
  if (IsEtagInvalid(s)) return 400;
  return 500;
}

}  // namespace

void DaprApi::HandleState(const HttpRequest& req, std::string_view rest, const ApiScope& scope,
                          HttpResponse& resp) {
  std::vector<std::string_view> parts = Split(rest);
  std::vector<std::string> decoded;
  for (auto p : parts) {
    auto d = enc::PercentDecode(p);
    if (!d) {
      Error(resp, 400, "ERR_MALFORMED_REQUEST", "bad percent-encoding in " + std::string(req.path()));
      return;
    }
    decoded.push_back(std::move(*d));
  }
  if (decoded.size() > 2 || decoded[0].empty() || (decoded.size() == 2 && decoded[1].empty())) {
    return NotFound(req, resp);
  }
  const std::string_view method = req.method();
  enum { kSave, kBulk, kTransaction, kGet, kDelete } route;
  if (decoded.size() == 1 && IsWrite(method)) {
    route = kSave;
  } else if (decoded.size() == 2 && decoded[1] == "bulk" && IsWrite(method)) {
    route = kBulk;
  } else if (decoded.size() == 2 && decoded[1] == "transaction" && IsWrite(method)) {
    route = kTransaction;
  } else if (decoded.size() == 2 && method == "GET") {
    route = kGet;
  } else if (decoded.size() == 2 && method == "DELETE") {
    route = kDelete;
  } else {
    Error(resp, 405, "ERR_METHOD_NOT_ALLOWED", std::string(method) + " is not allowed on " + std::string(req.path()));
    return;
  }
  std::optional<StateStoreRef> store = FindStore(scope, decoded[0], resp);
  if (!store) return;
  switch (route) {
    case kSave: return Save(*store, req, resp);
    case kBulk: return BulkGet(*store, req, resp);
    case kTransaction: return Transact(*store, req, resp);
    case kGet: return Get(*store, decoded[1], resp);
    case kDelete: return Delete(*store, decoded[1], req, resp);
  }
}

void DaprApi::Get(const StateStoreRef& s, const std::string& key, HttpResponse& resp) {
  auto stored = StoredKey(s.key_prefix, key, resp);
  if (!stored) return;
  auto item = s.store->Get(*stored);
  if (!item.ok()) {
    Error(resp, 500, "ERR_STATE_GET",
          "fail to get " + key + " from state store: " + StatusMessage(item.status()));
    return;
  }
  if (!item->has_value()) return NoContent(resp);
  resp.set_status(200);
  resp.set_header("Content-Type", kJson);
  resp.set_header("ETag", (*item)->etag);
  resp.set_body(std::move((*item)->value));
}

void DaprApi::Save(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp) {
  json body = ParseBody(req.body());
  if (body.is_discarded() || !(body.is_array() || body.is_null())) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST", "failed to parse request body: expected a JSON array of state items");
    return;
  }
  std::vector<StateOperation> ops;
  for (const json& item : body.is_null() ? json::array() : body) {
    const json* key = Field(item, "key");
    if (key == nullptr || !key->is_string() || key->get_ref<const std::string&>().empty()) {
      Error(resp, 400, "ERR_MALFORMED_REQUEST", "state item without a key");
      return;
    }
    SetRequest set;
    auto stored = StoredKey(s.key_prefix, key->get_ref<const std::string&>(), resp);
    if (!stored) return;
    set.key = std::move(*stored);
    const json* value = Field(item, "value");
    set.value = GoJson(value != nullptr ? *value : json());
    if (const json* etag = Field(item, "etag"); etag != nullptr && !etag->is_null()) {
      if (!etag->is_string()) {
        Error(resp, 400, "ERR_MALFORMED_REQUEST", "etag of key " + key->get<std::string>() + " must be a string");
        return;
      }
      set.etag = etag->get<std::string>();
    }
    auto opts = ParseOptions(item);
    if (!opts.ok()) {
      Error(resp, 500, "ERR_STATE_SAVE", "failed saving state in state store: " + opts.status().message());
      return;
    }
    set.concurrency = opts->concurrency;
    ops.emplace_back(std::move(set));
  }
  if (ops.empty()) return NoContent(resp);
  // Several items go in one transaction when the store has them: all or none
  // is stronger than daprd's item-by-item bulk set, never weaker.
  Status st;
  if (ops.size() > 1 && s.store->transactional()) {
    st = s.store->Transaction(ops);
  } else {
    for (const auto& op : ops) {
      st = s.store->Set(std::get<SetRequest>(op));
      if (!st.ok()) break;
    }
  }
  if (!st.ok()) {
    Error(resp, WriteErrorStatus(st), "ERR_STATE_SAVE", "failed saving state in state store: " + StatusMessage(st));
    return;
  }
  NoContent(resp);
}

void DaprApi::Delete(const StateStoreRef& s, const std::string& key, const HttpRequest& req, HttpResponse& resp) {
  auto stored = StoredKey(s.key_prefix, key, resp);
  if (!stored) return;
  DeleteRequest del;
  del.key = std::move(*stored);
  if (auto etag = req.header("If-Match"); etag) del.etag = std::string(*etag);
  auto conc = ParseConcurrency(req.query("concurrency").value_or(""));
  Status st = conc.ok() ? CheckConsistency(req.query("consistency").value_or("")) : conc.status();
  if (st.ok()) {
    del.concurrency = *conc;
    st = s.store->Delete(del);
  } else {
    st = Status::Internal(st.message());  // bad options are a 500 in daprd
  }
  if (!st.ok()) {
    Error(resp, WriteErrorStatus(st), "ERR_STATE_DELETE",
          "failed deleting state with key " + key + ": " + StatusMessage(st));
    return;
  }
  NoContent(resp);
}

void DaprApi::BulkGet(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp) {
  json body = ParseBody(req.body());
  const json* keys = body.is_discarded() ? nullptr : Field(body, "keys");
  if (body.is_discarded() || !body.is_object() || (keys != nullptr && !keys->is_array() && !keys->is_null())) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST", "failed to parse request body: expected {\"keys\":[...]}");
    return;
  }
  std::vector<std::string> user_keys, stored_keys;
  if (keys != nullptr && keys->is_array()) {
    for (const json& k : *keys) {
      if (!k.is_string()) {
        Error(resp, 400, "ERR_MALFORMED_REQUEST", "keys must be strings");
        return;
      }
      auto stored = StoredKey(s.key_prefix, k.get_ref<const std::string&>(), resp);
      if (!stored) return;
      user_keys.push_back(k.get<std::string>());
      stored_keys.push_back(std::move(*stored));
    }
  }
  json out = json::array();
  auto items = stored_keys.empty() ? Result<std::vector<std::optional<StateItem>>>(
                                         std::vector<std::optional<StateItem>>())
                                   : s.store->BulkGet(stored_keys);
  for (size_t i = 0; i < user_keys.size(); ++i) {
    json entry = {{"key", user_keys[i]}};
    if (!items.ok()) {
      entry["error"] = StatusMessage(items.status());  // daprd reports failures per key
    } else if (const auto& item = (*items)[i]; item.has_value()) {
      std::optional<json> data = ParseGoJson(item->value, /*keep_number_text=*/true);
      entry["data"] = data ? std::move(*data) : json(item->value);
      entry["etag"] = item->etag;
    }
    out.push_back(std::move(entry));
  }
  resp.set_status(200);
  resp.set_header("Content-Type", kJson);
  resp.set_body(GoJson(out));
}

void DaprApi::Transact(const StateStoreRef& s, const HttpRequest& req, HttpResponse& resp) {
  if (!s.store->transactional()) {
    Error(resp, 500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support transactions");
    return;
  }
  json body = ParseBody(req.body());
  const json* operations = body.is_discarded() ? nullptr : Field(body, "operations");
  if (body.is_discarded() || !body.is_object() ||
      (operations != nullptr && !operations->is_array() && !operations->is_null())) {
    Error(resp, 400, "ERR_MALFORMED_REQUEST", "failed to parse request body: expected {\"operations\":[...]}");
    return;
  }
  std::vector<StateOperation> ops;
  if (operations != nullptr && operations->is_array()) {
    for (const json& op : *operations) {
      const json* kind = Field(op, "operation");
      const json* request = Field(op, "request");
      std::string kind_name = kind != nullptr && kind->is_string() ? kind->get<std::string>() : "";
      if (kind_name != "upsert" && kind_name != "delete") {
        Error(resp, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type " + kind_name + " not supported");
        return;
      }
      const json* key = request != nullptr ? Field(*request, "key") : nullptr;
      if (key == nullptr || !key->is_string() || key->get_ref<const std::string&>().empty()) {
        Error(resp, 400, "ERR_MALFORMED_REQUEST", "transaction " + kind_name + " without a key");
        return;
      }
      auto stored = StoredKey(s.key_prefix, key->get_ref<const std::string&>(), resp);
      if (!stored) return;
      std::optional<std::string> etag;
      if (const json* e = Field(*request, "etag"); e != nullptr && !e->is_null()) {
        if (!e->is_string()) {
          Error(resp, 400, "ERR_MALFORMED_REQUEST", "etag must be a string");
          return;
        }
        etag = e->get<std::string>();
      }
      auto opts = ParseOptions(*request);
      if (!opts.ok()) {
        Error(resp, 500, "ERR_STATE_TRANSACTION", "error while executing state transaction: " + opts.status().message());
        return;
      }
      if (kind_name == "upsert") {
        const json* value = Field(*request, "value");
        ops.emplace_back(SetRequest{std::move(*stored), GoJson(value != nullptr ? *value : json()), std::move(etag),
                                    opts->concurrency});
      } else {
        ops.emplace_back(DeleteRequest{std::move(*stored), std::move(etag), opts->concurrency});
      }
    }
  }
  if (ops.empty()) return NoContent(resp);
  if (size_t max = s.store->max_transaction_operations(); max != 0 && ops.size() > max) {
    Error(resp, 400, "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS",
          "the transaction contains " + std::to_string(ops.size()) + " operations, which is more than what the " +
              "state store supports: " + std::to_string(max));
    return;
  }
  if (Status st = s.store->Transaction(ops); !st.ok()) {
    Error(resp, 500, "ERR_STATE_TRANSACTION", "error while executing state transaction: " + StatusMessage(st));
    return;
  }
  NoContent(resp);
}

}  // namespace ofn::components

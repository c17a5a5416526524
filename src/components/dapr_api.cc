#include "components/dapr_api.h"

#include <nlohmann/json.hpp>

#include <utility>
#include <vector>

#include "common/encoding.h"

namespace ofn::components {
namespace {

using nlohmann::json;

constexpr std::string_view kJson = "application/json";

// Go's encoding/json output for a value Dapr re-serialises: compact, keys
// sorted (nlohmann's default map), and <, >, & and U+2028/9 escaped. Those
// characters are never JSON syntax, so replacing them in the dump only ever
// touches string contents.
std::string GoJson(const json& v) {
  std::string in = v.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < in.size() && in[i + 1] == '\x80' && (in[i + 2] == '\xa8' || in[i + 2] == '\xa9')) {
      out += in[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

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

void DaprApi::AddStateStore(std::string name, std::shared_ptr<StateStore> store, std::string key_prefix) {
  std::lock_guard lock(stores_mu_);
  stores_[std::move(name)] = Store{std::move(store), std::move(key_prefix)};
}

void DaprApi::RemoveStateStore(std::string_view name) {
  std::lock_guard lock(stores_mu_);
  auto it = stores_.find(name);
  if (it != stores_.end()) stores_.erase(it);
}

void DaprApi::Handle(const HttpRequest& req, HttpResponse& resp) {
  resp = HttpResponse();
  std::string_view path = req.path();
  const bool health = path == "/v1.0/healthz" || path.starts_with("/v1.0/healthz/");
  if (!options_.api_token.empty() && !health) {
    auto token = req.header("dapr-api-token");
    if (!token || *token != options_.api_token) {
      resp = HttpResponse(401, "invalid api token");
      return;
    }
  }
  constexpr std::string_view kV1 = "/v1.0/";
  if (path.starts_with("/v1.0-alpha1/")) {
    Error(resp, 501, "ERR_NOT_IMPLEMENTED", "Ofn does not implement the alpha API " + std::string(path) + " yet");
    return;
  }
  if (!path.starts_with(kV1)) {
    Error(resp, 404, "ERR_NOT_FOUND", "no Dapr API route " + std::string(path));
    return;
  }
  std::string_view rest = path.substr(kV1.size());
  std::string_view group = rest.substr(0, rest.find('/'));
  std::string_view tail = group.size() < rest.size() ? rest.substr(group.size() + 1) : std::string_view();
  if (group == "state" && !tail.empty()) return HandleState(req, tail, resp);
  if (group == "healthz") return HandleHealth(req, tail, resp);
  if (group == "metadata") return HandleMetadata(req, tail, resp);
  if (group == "publish" || group == "bindings") {
    Error(resp, 501, "ERR_NOT_IMPLEMENTED",
          std::string(group) + " is not wired to a component host in this Ofn build yet");
    return;
  }
  Error(resp, 404, "ERR_NOT_FOUND", "no Dapr API route " + std::string(path));
}

void DaprApi::HandleHealth(const HttpRequest& req, std::string_view rest, HttpResponse& resp) {
  if (req.method() != "GET") {
    Error(resp, 405, "ERR_METHOD_NOT_ALLOWED", "healthz accepts GET only");
    return;
  }
  if (rest == "outbound") return NoContent(resp);
  if (!rest.empty()) {
    Error(resp, 404, "ERR_NOT_FOUND", "no Dapr API route " + std::string(req.path()));
    return;
  }
  if (auto appid = req.query("appid"); appid && *appid != options_.app_id) {
    Error(resp, 500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
    return;
  }
  if (!ready_.load()) {
    Error(resp, 500, "ERR_HEALTH_NOT_READY", "dapr is not ready: components");
    return;
  }
  NoContent(resp);
}

void DaprApi::HandleMetadata(const HttpRequest& req, std::string_view rest, HttpResponse& resp) {
  if (rest.empty() && req.method() == "GET") {
    json out = {{"id", options_.app_id}, {"runtimeVersion", options_.runtime_version}};
    json components = json::array();
    std::lock_guard stores_lock(stores_mu_);
    for (const auto& [name, s] : stores_) {
      components.push_back(
          {{"name", name}, {"type", s.store->type()}, {"version", "v1"}, {"capabilities", s.store->features()}});
    }
    if (!components.empty()) out["components"] = std::move(components);
    {
      std::lock_guard lock(extended_mu_);
      if (!extended_.empty()) out["extended"] = extended_;
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
    extended_[*key] = std::string(req.body());
    return NoContent(resp);
  }
  Error(resp, 405, "ERR_METHOD_NOT_ALLOWED",
        "metadata accepts GET /v1.0/metadata and PUT /v1.0/metadata/{key}, not " + std::string(req.method()));
}

std::optional<DaprApi::Store> DaprApi::FindStore(std::string_view name, HttpResponse& resp) const {
  std::lock_guard lock(stores_mu_);
  if (stores_.empty()) {
    Error(resp, 500, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured");
    return std::nullopt;
  }
  auto it = stores_.find(name);
  if (it == stores_.end()) {
    Error(resp, 400, "ERR_STATE_STORE_NOT_FOUND", "state store " + std::string(name) + " is not found");
    return std::nullopt;
  }
  return it->second;  // a copy: the store may be removed while this request uses it
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

void DaprApi::HandleState(const HttpRequest& req, std::string_view rest, HttpResponse& resp) {
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
    Error(resp, 404, "ERR_NOT_FOUND", "no Dapr API route " + std::string(req.path()));
    return;
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
  std::optional<Store> store = FindStore(decoded[0], resp);
  if (!store) return;
  switch (route) {
    case kSave: return Save(*store, req, resp);
    case kBulk: return BulkGet(*store, req, resp);
    case kTransaction: return Transact(*store, req, resp);
    case kGet: return Get(*store, decoded[1], resp);
    case kDelete: return Delete(*store, decoded[1], req, resp);
  }
}

void DaprApi::Get(const Store& s, const std::string& key, HttpResponse& resp) {
  auto stored = StoredKey(s.prefix, key, resp);
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

void DaprApi::Save(const Store& s, const HttpRequest& req, HttpResponse& resp) {
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
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
    auto stored = StoredKey(s.prefix, key->get_ref<const std::string&>(), resp);
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

void DaprApi::Delete(const Store& s, const std::string& key, const HttpRequest& req, HttpResponse& resp) {
  auto stored = StoredKey(s.prefix, key, resp);
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

void DaprApi::BulkGet(const Store& s, const HttpRequest& req, HttpResponse& resp) {
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
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
      auto stored = StoredKey(s.prefix, k.get_ref<const std::string&>(), resp);
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
      json data = json::parse(item->value, nullptr, /*allow_exceptions=*/false);
      entry["data"] = data.is_discarded() ? json(item->value) : std::move(data);
      entry["etag"] = item->etag;
    }
    out.push_back(std::move(entry));
  }
  resp.set_status(200);
  resp.set_header("Content-Type", kJson);
  resp.set_body(GoJson(out));
}

void DaprApi::Transact(const Store& s, const HttpRequest& req, HttpResponse& resp) {
  if (!s.store->transactional()) {
    Error(resp, 500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support transactions");
    return;
  }
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
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
      auto stored = StoredKey(s.prefix, key->get_ref<const std::string&>(), resp);
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

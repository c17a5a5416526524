#include "server/api_server.h"

#include <nlohmann/json.hpp>

#include "api/kinds.h"
#include "api/load.h"
#include "api/validate.h"
#include "common/encoding.h"
#include "common/log.h"

namespace ofn::server {
namespace {

using Json = nlohmann::json;

void JsonAnswer(HttpResponse& resp, int status, const Json& body) {
  resp = HttpResponse(status, body.dump() + "\n", "application/json");
}

void Error(HttpResponse& resp, int status, const std::string& message, std::vector<std::string> errors = {}) {
  Json body = {{"error", message}};
  if (!errors.empty()) body["errors"] = errors;
  JsonAnswer(resp, status, body);
}

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

Json ObjectJson(const store::Object& o) {
  Json meta = o.metadata_json.empty() ? Json::object() : Json::parse(o.metadata_json, nullptr, false);
  if (!meta.is_object()) meta = Json::object();
  meta["name"] = o.name;
  if (!o.ns.empty()) meta["namespace"] = o.ns;
  meta["uid"] = o.uid;
  meta["generation"] = o.generation;
  meta["resourceVersion"] = std::to_string(o.resource_version);
  meta["creationTimestamp"] = o.created_at;
  Json spec = Json::parse(o.spec_json.empty() ? "{}" : o.spec_json, nullptr, false);
  Json status = Json::parse(o.status_json.empty() ? "{}" : o.status_json, nullptr, false);
  return {{"apiVersion", o.api_version}, {"kind", o.kind}, {"metadata", meta}, {"spec", spec}, {"status", status}};
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(enc::PercentDecode(part).value_or(std::string(part)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// Constant time, so the token cannot be guessed byte by byte.
bool SameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string CanonicalKind(std::string_view kind) {
  const api::KindName* k = api::LookupKind(kind);
  return k ? std::string(k->kind) : std::string();
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiOptions options, store::Store* store, FunctionManager* manager,
                                                    EventsController* events) {
  std::unique_ptr<ApiServer> api(new ApiServer(std::move(options), store, manager, events));
  ApiServer* self = api.get();
  net::HttpServerOptions uo;
  uo.unix_path = api->options_.unix_path;
  uo.loops = 1;
  uo.limits.max_body_bytes = 16 << 20;
  auto unix_server = net::HttpServer::Start(uo, [self](HttpRequest& req, HttpResponse& resp) {
    self->Handle(req, resp, false);
  });
  if (!unix_server.ok()) return unix_server.status();
  api->unix_ = std::move(*unix_server);
  if (!api->options_.tcp_host.empty()) {
    net::HttpServerOptions to;
    to.host = api->options_.tcp_host;
    to.port = api->options_.tcp_port;
    to.loops = 1;
    to.limits.max_body_bytes = 16 << 20;
    auto tcp = net::HttpServer::Start(to, [self](HttpRequest& req, HttpResponse& resp) { self->Handle(req, resp, true); });
    if (!tcp.ok()) return tcp.status();
    api->tcp_ = std::move(*tcp);
  }
  return api;
}

ApiServer::~ApiServer() { Shutdown(); }

int ApiServer::tcp_port() const { return tcp_ ? tcp_->port() : 0; }

void ApiServer::Shutdown() {
  if (unix_) unix_->Shutdown(std::chrono::seconds(2));
  if (tcp_) tcp_->Shutdown(std::chrono::seconds(2));
  unix_.reset();
  tcp_.reset();
}

void ApiServer::Handle(HttpRequest& req, HttpResponse& resp, bool over_tcp) {
  if (over_tcp) {
    auto auth = req.header("authorization");
    std::string_view given = auth ? *auth : std::string_view();
    if (given.substr(0, 7) != "Bearer " || options_.token.empty() || !SameToken(given.substr(7), options_.token)) {
      Error(resp, 401, "this API needs Authorization: Bearer TOKEN over TCP (the token is in DATA_DIR/token)");
      resp.set_header("WWW-Authenticate", "Bearer");
      return;
    }
  }
  std::string_view path = req.path();
  std::string_view method = req.method();
  if (path == "/healthz") {
    resp = HttpResponse(200, "ok\n");
  } else if (path == "/metrics" && method == "GET") {
    std::string text = manager_->Metrics();
    if (options_.extra_metrics) text += options_.extra_metrics();
    resp = HttpResponse(200, std::move(text), "text/plain; version=0.0.4");
  } else if (path == "/v1/version" && method == "GET") {
    JsonAnswer(resp, 200,
               {{"version", options_.version}, {"gateway", options_.gateway_address}, {"dataDir", options_.data_dir}});
  } else if (path == "/v1/apply") {
    if (method != "POST") return Error(resp, 405, "use POST");
    Apply(req, resp);
  } else if (path == "/v1/objects" || path.rfind("/v1/objects/", 0) == 0) {
    Objects(req, resp);
  } else if (path.rfind("/v1/logs/", 0) == 0) {
    Logs(req, resp);
  } else if (path.rfind("/v1/builds/", 0) == 0) {
    Builds(req, resp);
  } else if (path.rfind("/v1/events/", 0) == 0) {
    Events(req, resp);
  } else {
    Error(resp, 404, "no such API path: " + std::string(path));
  }
}

void ApiServer::Apply(const HttpRequest& req, HttpResponse& resp) {
  std::string source(req.header("x-ofn-source").value_or("-"));
  bool dry_run = req.query("dryRun").value_or("false") == "true";
  std::string mode = req.query("mode").value_or("apply");
  if (mode != "apply" && mode != "create") return Error(resp, 400, "mode must be apply or create, got " + mode);
  auto loaded = api::LoadManifests(req.body(), source);
  if (!loaded.ok()) return Error(resp, 400, loaded.status().message());
  if (loaded->empty()) return Error(resp, 400, source + ": no resources in it");
  std::vector<std::string> errors;
  for (const auto& r : *loaded) {
    for (const auto& d : r.errors) errors.push_back(d.ToString());
  }
  if (!errors.empty()) {
    return Error(resp, 400, std::to_string(errors.size()) + " error(s) in " + source + "; nothing was applied", errors);
  }
  // `ofn apply -n NS`: documents that name no namespace go there.
  std::string ns_default = req.query("namespace").value_or("");
  if (!ns_default.empty() && !api::IsDnsLabel(ns_default)) return Error(resp, 400, "namespace \"" + ns_default + "\" is not a DNS label");
  Json results = Json::array();
  for (auto& r : *loaded) {
    api::Document& d = r.document;
    bool named = d.object.contains("metadata") && d.object["metadata"].contains("namespace");
    if (!ns_default.empty() && !named && !d.ns.empty()) d.ns = ns_default;
    Json result = {{"apiVersion", d.api_version}, {"kind", d.kind}, {"namespace", d.ns}, {"name", d.name}};
    Json ignored = Json::array(), warnings = Json::array();
    for (const auto& i : r.ignored) ignored.push_back(i.path.empty() ? i.message : i.path);
    if (!d.converted_from.empty()) warnings.push_back("converted from " + d.converted_from + " to " + d.api_version);
    if (!r.supported) warnings.push_back(d.kind + " is stored but not acted on yet");
    for (const auto& n : r.notes) warnings.push_back(n.path + ": " + n.message);
    result["ignored"] = ignored;
    result["warnings"] = warnings;
    if (dry_run) {
      result["action"] = "validated";
      results.push_back(result);
      continue;
    }
    store::Object obj;
    obj.api_version = d.api_version;
    obj.kind = d.kind;
    obj.ns = d.ns;
    obj.name = d.name;
    obj.spec_json = d.object.contains("spec") ? d.object["spec"].dump() : "{}";
    Json meta = Json::object();
    if (!d.labels.empty()) meta["labels"] = d.labels;
    if (!d.annotations.empty()) meta["annotations"] = d.annotations;
    obj.metadata_json = meta.dump();
    auto before = store_->Get(d.kind, d.ns, d.name);
    auto put = store_->Put(obj, mode == "create" ? store::PutMode::kCreate : store::PutMode::kApply);
    if (!put.ok()) return Error(resp, HttpStatus(put.status()), put.status().message());
    if (!before.ok()) {
      result["action"] = "created";
    } else {
      result["action"] = put->resource_version == before->resource_version ? "unchanged" : "configured";
    }
    log::Info("applied", {{"kind", d.kind}, {"name", d.ns + "/" + d.name}, {"action", result["action"].get<std::string>()}});
    results.push_back(result);
  }
  JsonAnswer(resp, 200, {{"results", results}});
}

void ApiServer::Objects(const HttpRequest& req, HttpResponse& resp) {
  auto parts = SplitPath(req.path());  // v1 objects [KIND NS NAME]
  if (parts.size() == 2) {
    if (req.method() != "GET") return Error(resp, 405, "use GET");
    std::string kind;
    if (auto k = req.query("kind"); k && !k->empty()) {
      kind = CanonicalKind(*k);
      if (kind.empty()) return Error(resp, 400, "unknown kind \"" + *k + "\"");
    }
    auto list = store_->List(kind, req.query("namespace").value_or(""));
    if (!list.ok()) return Error(resp, HttpStatus(list.status()), list.status().message());
    Json items = Json::array();
    for (const auto& o : *list) items.push_back(ObjectJson(o));
    return JsonAnswer(resp, 200, {{"items", items}});
  }
  // A cluster-scoped kind (ClusterEventBus) has no namespace: any given is ignored, as kubectl does.
  const api::KindName* known = parts.size() >= 4 ? api::LookupKind(parts[2]) : nullptr;
  const bool cluster = known != nullptr && !known->namespaced;
  if (parts.size() != 5 && !(cluster && parts.size() == 4)) {
    return Error(resp, 404, "expected /v1/objects/KIND/NAMESPACE/NAME");
  }
  std::string kind = CanonicalKind(parts[2]);
  if (kind.empty()) return Error(resp, 400, "unknown kind \"" + parts[2] + "\"");
  const std::string ns = cluster ? "" : parts[3];
  const std::string& name = parts.back();
  if (req.method() == "GET") {
    auto o = store_->Get(kind, ns, name);
    if (!o.ok()) return Error(resp, HttpStatus(o.status()), o.status().message());
    return JsonAnswer(resp, 200, ObjectJson(*o));
  }
  if (req.method() == "DELETE") {
    auto o = store_->Delete(kind, ns, name);
    if (!o.ok()) return Error(resp, HttpStatus(o.status()), o.status().message());
    log::Info("deleted", {{"kind", kind}, {"name", ns + "/" + name}});
    return JsonAnswer(resp, 200, {{"deleted", ObjectJson(*o)}});
  }
  Error(resp, 405, "use GET or DELETE");
}

void ApiServer::Logs(const HttpRequest& req, HttpResponse& resp) {
  auto parts = SplitPath(req.path());  // v1 logs NS NAME
  if (parts.size() != 4) return Error(resp, 404, "expected /v1/logs/NAMESPACE/NAME");
  std::optional<uint64_t> offset;
  if (auto o = req.query("offset")) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(o->c_str(), &end, 10);
    if (o->empty() || *end) return Error(resp, 400, "offset must be a number of bytes");
    offset = v;
  }
  std::chrono::milliseconds wait{0};
  if (req.query("follow").value_or("") == "true") {
    int secs = std::atoi(req.query("wait").value_or("10").c_str());
    wait = std::chrono::seconds(std::clamp(secs, 0, 60));
  }
  if (req.query("build").value_or("") == "true") {
    auto logs = manager_->BuildLogs(parts[2], parts[3], offset.value_or(0), wait);
    if (!logs.ok()) return Error(resp, HttpStatus(logs.status()), logs.status().message());
    resp = HttpResponse(200, std::move(logs->data), "text/plain; charset=utf-8");
    resp.set_header("X-Ofn-Log-Offset", std::to_string(logs->next_offset));
    resp.set_header("X-Ofn-Log-Ended", logs->ended ? "true" : "false");
    return;
  }
  auto logs = manager_->Logs(parts[2], parts[3], req.query("instance").value_or(""), offset, wait);
  if (!logs.ok()) return Error(resp, HttpStatus(logs.status()), logs.status().message());
  resp = HttpResponse(200, std::move(logs->data), "text/plain; charset=utf-8");
  resp.set_header("X-Ofn-Log-Offset", std::to_string(logs->next_offset));
  resp.set_header("X-Ofn-Instance", logs->instance);
  std::string all;
  for (const auto& i : logs->instances) all += (all.empty() ? "" : ",") + i;
  resp.set_header("X-Ofn-Instances", all);
}

// POST /v1/builds/NS/NAME builds the function again; DELETE cancels its build.
void ApiServer::Builds(const HttpRequest& req, HttpResponse& resp) {
  auto parts = SplitPath(req.path());  // v1 builds NS NAME
  if (parts.size() != 4) return Error(resp, 404, "expected /v1/builds/NAMESPACE/NAME");
  Status s;
  if (req.method() == "POST") {
    s = manager_->Rebuild(parts[2], parts[3]);
  } else if (req.method() == "DELETE") {
    s = manager_->CancelBuild(parts[2], parts[3]);
  } else {
    return Error(resp, 405, "use POST (build) or DELETE (cancel)");
  }
  if (!s.ok()) return Error(resp, HttpStatus(s), s.message());
  JsonAnswer(resp, req.method() == "POST" ? 202 : 200,
             {{"namespace", parts[2]}, {"name", parts[3]}, {"build", req.method() == "POST" ? "started" : "cancelled"}});
}

// GET /v1/events/stats/KIND/NS/NAME: live counts of an EventSource or Trigger.
// POST /v1/events/watches?namespace=&bus=&topic=: opens a watch of a bus topic;
// GET /v1/events/watches/ID?wait=SECONDS reads what arrived; DELETE closes it.
void ApiServer::Events(const HttpRequest& req, HttpResponse& resp) {
  if (events_ == nullptr) return Error(resp, 503, "the events engine is not running");
  auto parts = SplitPath(req.path());  // v1 events ...
  if (parts.size() == 6 && parts[2] == "stats" && req.method() == "GET") {
    std::string kind = CanonicalKind(parts[3]);
    if (kind != "EventSource" && kind != "Trigger") return Error(resp, 400, "stats are kept for eventsources and triggers");
    auto obj = store_->Get(kind, parts[4], parts[5]);
    if (!obj.ok()) return Error(resp, HttpStatus(obj.status()), obj.status().message());
    return JsonAnswer(resp, 200, {{"items", events_->Stats(kind, parts[4], parts[5])}});
  }
  if (parts.size() == 3 && parts[2] == "watches" && req.method() == "POST") {
    auto id = events_->OpenWatch(req.query("namespace").value_or("default"), req.query("bus").value_or("default"),
                                 req.query("topic").value_or(""));
    if (!id.ok()) return Error(resp, HttpStatus(id.status()), id.status().message());
    return JsonAnswer(resp, 201, {{"id", *id}});
  }
  if (parts.size() == 4 && parts[2] == "watches") {
    if (req.method() == "DELETE") {
      events_->CloseWatch(parts[3]);
      return JsonAnswer(resp, 200, {{"closed", parts[3]}});
    }
    if (req.method() != "GET") return Error(resp, 405, "use GET (read) or DELETE (close)");
    int secs = std::clamp(std::atoi(req.query("wait").value_or("10").c_str()), 0, 60);
    auto got = events_->ReadWatch(parts[3], std::chrono::seconds(secs));
    if (!got.ok()) return Error(resp, HttpStatus(got.status()), got.status().message());
    Json list = Json::array();
    for (auto& e : *got) list.push_back(std::move(e));
    return JsonAnswer(resp, 200, {{"events", list}});
  }
  Error(resp, 404, "expected /v1/events/stats/KIND/NAMESPACE/NAME or /v1/events/watches[/ID]");
}

}  // namespace ofn::server

#include "framework/async_callbacks.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"
#include "framework/dapr_bulk.h"

namespace ofn {
namespace {

constexpr char kSubscribePath[] = "/dapr/subscribe";
constexpr char kHealthPath[] = "/healthz";
constexpr char kAllow[] = "POST, OPTIONS";

std::string WithSlash(std::string_view p) {
  if (!p.empty() && p.front() == '/') return std::string(p);
  return "/" + std::string(p);
}

HttpResponse PubSubStatus(std::string_view status) {
  return HttpResponse(200, "{\"status\":\"" + std::string(status) + "\"}", "application/json");
}

bool Is2xx(int code) { return code >= 200 && code < 300; }

// bulkSubscribe. Amortizes the per-call cost, yet keeps a slow function's call (entries run in turn) short.
constexpr int kBulkMaxMessagesCount = 32;
// A real Dapr sidecar waits at most this long to fill a batch: bulk adds no latency.
constexpr int kBulkMaxAwaitDurationMs = 1;

// The single structured event in a body checked to look for a bulk delivery.
Result<CloudEvent> SingleEvent(const Status& checked, std::string_view body, const ce::DecodeOptions& opts) {
  if (!checked.ok()) return checked;
  return ce::DecodeCheckedJson(body, opts);
}

// One log line about a pub/sub event; names the bulk entry if there is one.
template <typename... Field>
void LogEvent(log::Level level, std::string_view msg, std::string_view function, std::string_view input,
              std::string_view entry_id, Field... extra) {
  using F = std::pair<std::string_view, std::string_view>;
  if (entry_id.empty()) {
    log::Write(level, msg, {F{"function", function}, F{"input", input}, F(extra)...});
  } else {
    log::Write(level, msg, {F{"function", function}, F{"input", input}, F{"entryId", entry_id}, F(extra)...});
  }
}

}  // namespace

Result<std::unique_ptr<AsyncCallbacks>> AsyncCallbacks::Create(const FunctionContext& fc,
                                                              const std::vector<Function>& fns, OutputSender* sender,
                                                              ce::DecodeOptions decode) {
  const Function* target = nullptr;
  for (const auto& f : fns) {
    if (f.name() == fc.name) target = &f;
  }
  if (!target && fns.size() == 1) target = &fns[0];
  if (!target) {
    return Status::InvalidArgument("runtime Async: FUNC_CONTEXT's name \"" + fc.name +
                                   "\" is none of the functions served; choose one with --target");
  }
  if (target->kind() != FunctionKind::kOpenFunction) {
    return Status::InvalidArgument("runtime Async: function \"" + target->name() +
                                   "\" must be OpenFunction-style (Out fn(Context&, input)) to receive events");
  }
  std::unique_ptr<AsyncCallbacks> a(new AsyncCallbacks(fc, *target, sender, decode));

  nlohmann::json subs = nlohmann::json::array();
  for (const auto& [name, in] : fc.inputs) {
    std::string_view block = in.building_block();
    if (block != "bindings" && block != "pubsub") continue;
    bool pubsub = block == "pubsub";
    std::string path = WithSlash(name);
    a->routes_.emplace(path, Route{name, pubsub});
    if (!pubsub) continue;
    if (in.uri.empty()) {
      return Status::InvalidArgument("runtime Async: inputs." + name + ": a pub/sub input needs uri (the topic)");
    }
    nlohmann::json s = {{"pubsubname", in.component_name}, {"topic", in.uri}, {"route", path}};
    if (!in.metadata.empty()) s["metadata"] = in.metadata;
    s["bulkSubscribe"] = {{"enabled", true},
                          {"maxMessagesCount", kBulkMaxMessagesCount},
                          {"maxAwaitDurationMs", kBulkMaxAwaitDurationMs}};
    subs.push_back(std::move(s));
  }
  // Where Dapr itself posts binding events, when no input's own path is there.
  for (const auto& [name, in] : fc.inputs) {
    if (in.building_block() != "bindings") continue;
    auto route = in.metadata.find("route");
    std::string alias = route != in.metadata.end() && !route->second.empty() ? route->second : in.component_name;
    if (!alias.empty()) a->routes_.emplace(WithSlash(alias), Route{name, false});
  }
  a->subscriptions_ = subs.dump();
  return a;
}

const AsyncCallbacks::Route* AsyncCallbacks::Match(const HttpRequest& req, HttpResponse& resp) const {
  std::string_view path = req.path();
  std::string_view method = req.method();
  auto it = routes_.find(path);
  if (it != routes_.end()) {
    if (method == "POST") return &it->second;
    resp = HttpResponse(method == "OPTIONS" ? 200 : 405);
    resp.set_header("Allow", kAllow);
    return nullptr;
  }
  if (path == kSubscribePath || path == kHealthPath) {
    if (method == "GET") {
      resp = path == kHealthPath ? HttpResponse(200, "ok\n") : HttpResponse(200, subscriptions_, "application/json");
    } else {
      resp = HttpResponse(405, "method not allowed\n");
      resp.set_header("Allow", "GET");
    }
    return nullptr;
  }
  resp = HttpResponse(404, "not an input of this async function\n");
  return nullptr;
}

void AsyncCallbacks::Deliver(const Route& route, const HttpRequest& req, HttpResponse& resp) const {
  if (route.pubsub) {
    DeliverPubSub(route, req, resp);
  } else {
    DeliverBinding(route, req, resp);
  }
}

void AsyncCallbacks::DeliverBinding(const Route& route, const HttpRequest& req, HttpResponse& resp) const {
  Context ctx(fc_, sender_);
  ctx.set_http_request(&req);
  ctx.set_input_name(route.input);
  try {
    Out out = fn_.open_function()(ctx, req.body());
    if (Is2xx(out.code)) {
      // Dapr v1.8 acknowledges a binding event on exactly 200.
      resp = HttpResponse(200, std::move(out.data));
    } else {
      log::Warn("function returned an error", {{"function", fn_.name()}, {"input", route.input},
                                               {"code", std::to_string(out.code)}});
      resp = HttpResponse(500, out.data.empty() ? "function returned " + std::to_string(out.code) + "\n"
                                                : std::move(out.data));
    }
    for (const auto& [k, v] : out.metadata) resp.set_header(k, v);
  } catch (const std::exception& e) {
    log::Error("function threw", {{"function", fn_.name()}, {"input", route.input}, {"error", e.what()}});
    resp = HttpResponse(500, "internal error\n");
  } catch (...) {
    log::Error("function threw a non-exception", {{"function", fn_.name()}, {"input", route.input}});
    resp = HttpResponse(500, "internal error\n");
  }
}

void AsyncCallbacks::DeliverPubSub(const Route& route, const HttpRequest& req, HttpResponse& resp) const {
  if (ce::DetectMode(req) == ce::Mode::kBinary) {
    resp = PubSubStatus(HandleEvent(route, req, ce::DecodeRequest(req, decode_), {}));
    return;
  }
  // Checked once: the shape then tells a bulk delivery from a single event,
  // and neither is checked again.
  std::string_view body = req.body();
  Status checked = ce::CheckJson(body);
  if (checked.ok()) {
    if (std::optional<dapr::Bulk> bulk = dapr::ReadBulk(body)) {
      DeliverBulk(route, req, *bulk, resp);
      return;
    }
  }
  resp = PubSubStatus(HandleEvent(route, req, SingleEvent(checked, body, decode_), {}));
}

void AsyncCallbacks::DeliverBulk(const Route& route, const HttpRequest& req, dapr::Bulk& bulk,
                                 HttpResponse& resp) const {
  std::vector<dapr::EntryStatus> statuses;
  statuses.reserve(bulk.entries.size());
  dapr::EntryRequest entry_req(req, bulk);  // one for all entries: reused storage
  for (size_t i = 0; i < bulk.entries.size(); ++i) {
    dapr::Entry& entry = bulk.entries[i];  // read with the bulk: the body is not scanned again
    if (entry.id.empty()) {
      LogEvent(log::Level::kWarn, "skipping a bulk entry without an entryId (Dapr retries it)", fn_.name(),
               route.input, {}, std::pair{"index", std::to_string(i)});
      continue;
    }
    Result<CloudEvent> event = dapr::DecodeEntryEvent(bulk, entry, decode_);
    // The function's request body: the raw bytes, or the event as sent.
    std::string_view entry_body = entry.event;
    if (event.ok() && dapr::IsRawEntry(entry)) entry_body = *event->data();
    entry_req.Set(entry, entry_body);
    std::string_view status = HandleEvent(route, entry_req.request(), event, entry.id);
    statuses.push_back({std::move(entry.id), status});
  }
  resp = HttpResponse(200, dapr::StatusesJson(statuses), "application/json");
}

std::string_view AsyncCallbacks::HandleEvent(const Route& route, const HttpRequest& req,
                                             const Result<CloudEvent>& event, std::string_view entry_id) const {
  if (!event.ok()) {
    // A poison message must not come back forever.
    LogEvent(log::Level::kWarn, "dropping a pub/sub message that is not a CloudEvent", fn_.name(), route.input,
             entry_id, std::pair{"error", event.status().message()});
    return "DROP";
  }
  Context ctx(fc_, sender_);
  ctx.set_http_request(&req);
  ctx.set_input_name(route.input);
  ctx.set_cloud_event(&*event);
  std::string_view input = event->data() ? std::string_view(*event->data()) : std::string_view();
  try {
    Out out = fn_.open_function()(ctx, input);
    if (Is2xx(out.code)) return "SUCCESS";
    auto retry = out.metadata.find("retry");
    bool drop = retry != out.metadata.end() && retry->second == "false";
    LogEvent(log::Level::kWarn, "function returned an error", fn_.name(), route.input, entry_id,
             std::pair{"code", std::to_string(out.code)}, std::pair{"outcome", drop ? "drop" : "retry"});
    return drop ? "DROP" : "RETRY";
  } catch (const std::exception& e) {
    LogEvent(log::Level::kError, "function threw", fn_.name(), route.input, entry_id, std::pair{"error", e.what()});
  } catch (...) {
    LogEvent(log::Level::kError, "function threw a non-exception", fn_.name(), route.input, entry_id);
  }
  return "RETRY";
}

}  // namespace ofn

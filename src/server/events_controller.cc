#include "server/events_controller.h"

#include <nlohmann/json.hpp>

#include "api/load.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/uuid.h"
#include "server/annotations.h"

namespace ofn::server {

using nlohmann::json;

namespace {

// How long an input of a Trigger stays active after its last event.
constexpr char kConditionWindowAnnotation[] = "ofn.io/condition-window";


// The stored object back as a manifest, decoded.
api::Resource Load(const store::Object& obj) {
  json doc = {{"apiVersion", obj.api_version},
              {"kind", obj.kind},
              {"metadata", json::parse(obj.metadata_json.empty() ? "{}" : obj.metadata_json, nullptr, false)},
              {"spec", json::parse(obj.spec_json.empty() ? "{}" : obj.spec_json, nullptr, false)}};
  if (!doc["metadata"].is_object()) doc["metadata"] = json::object();
  doc["metadata"]["name"] = obj.name;
  if (!obj.ns.empty()) doc["metadata"]["namespace"] = obj.ns;
  auto loaded = api::LoadManifests(doc.dump(), "store");
  if (!loaded.ok() || loaded->empty()) {
    api::Resource r;
    r.errors.push_back({.message = loaded.ok() ? "empty" : loaded.status().message()});
    return r;
  }
  return std::move(loaded->front());
}

std::string Key(const store::Object& o) { return o.kind + "/" + o.ns + "/" + o.name; }

}  // namespace

Result<std::string> ResolveFunctionSink(FunctionManager& manager, const api::SinkRef& ref) {
  auto url = manager.FunctionUrl(ref.ns, ref.name);
  if (url.ok() || ref.kind == "Function") return url;
  // OpenFunction's samples name the Knative Service of a function: <fn>-serving-...
  std::string name = ref.name;
  if (size_t at = name.find("-serving"); at != std::string::npos && at > 0) name = name.substr(0, at);
  auto fn = manager.FunctionUrl(ref.ns, name);
  if (fn.ok()) return fn;
  return Status::NotFound("no Function " + ref.ns + "/" + ref.name +
                          (name != ref.name ? " (nor " + ref.ns + "/" + name + ")" : "") +
                          " to deliver to; it is looked for again when Functions change");
}

EventsController::EventsController(store::Store* store, events::Engine* engine) : store_(store), engine_(engine) {}

EventsController::~EventsController() { Stop(); }

Status EventsController::Start() {
  subscription_ = store_->Subscribe([this](const store::Change& c) { OnChange(c); });
  for (const char* kind : {"EventSource", "Trigger"}) {
    auto objs = store_->List(kind, "");
    if (!objs.ok()) return objs.status();
    for (const auto& obj : *objs) {
      {
        std::lock_guard lk(mu_);
        queued_specs_[Key(obj)] = {obj.generation, obj.metadata_json};
      }
      if (obj.kind == "EventSource") {
        ApplySource(obj);
      } else {
        ApplyTrigger(obj);
      }
    }
  }
  worker_ = std::thread([this] { Worker(); });
  webhook_thread_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (true) {
      webhook_cv_.wait(lk, [this] { return stopping_ || !webhooks_.empty(); });
      if (webhooks_.empty()) return;
      auto job = std::move(webhooks_.front());
      webhooks_.pop_front();
      lk.unlock();
      job();
      lk.lock();
    }
  });
  return Status::Ok();
}

void EventsController::Stop() {
  if (subscription_ != 0) store_->Unsubscribe(subscription_);
  subscription_ = 0;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  webhook_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (webhook_thread_.joinable()) webhook_thread_.join();
  std::map<std::string, std::shared_ptr<Watch>> watches;
  {
    std::lock_guard lk(watches_mu_);
    watches.swap(watches_);
  }
}

void EventsController::Enqueue(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void EventsController::Worker() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    job();
    lk.lock();
  }
}

void EventsController::OnChange(const store::Change& change) {
  const store::Object& obj = change.object;
  const bool deleted = change.type == store::ChangeType::kDeleted;
  if (obj.kind == "Function") {
    if (change.type == store::ChangeType::kAdded) Enqueue([this] { RetryFailed(); });
    return;
  }
  if (obj.kind != "EventSource" && obj.kind != "Trigger" && obj.kind != "EventBus" && obj.kind != "ClusterEventBus") {
    return;
  }
  {
    // A status write (ours) changes neither spec nor metadata: nothing to restart.
    std::lock_guard lk(mu_);
    auto spec = std::make_pair(obj.generation, obj.metadata_json);
    auto it = queued_specs_.find(Key(obj));
    if (change.type == store::ChangeType::kModified && it != queued_specs_.end() && it->second == spec) return;
    if (deleted) {
      queued_specs_.erase(Key(obj));
    } else {
      queued_specs_[Key(obj)] = spec;
    }
  }
  Enqueue([this, obj, deleted] {
    if (obj.kind == "EventSource") {
      if (deleted) {
        engine_->RemoveSource(obj.ns, obj.name);
        applied_.erase(Key(obj));
      } else {
        ApplySource(obj);
      }
    } else if (obj.kind == "Trigger") {
      if (deleted) {
        engine_->RemoveTrigger(obj.ns, obj.name);
        applied_.erase(Key(obj));
      } else {
        ApplyTrigger(obj);
      }
    } else {
      BusChanged(obj.ns, obj.name, obj.kind == "ClusterEventBus");
    }
  });
}

Result<api::EventBus> EventsController::ResolveBus(const std::string& ns, const std::string& name) {
  for (const char* kind : {"EventBus", "ClusterEventBus"}) {
    auto obj = store_->Get(kind, std::string(kind) == "EventBus" ? ns : "", name);
    if (!obj.ok()) {
      if (obj.status().code() == StatusCode::kNotFound) continue;
      return obj.status();
    }
    api::Resource r = Load(*obj);
    if (!r.ok() || !r.event_bus) {
      return Status::InvalidArgument(std::string(kind) + " " + name + " is invalid: " + api::FormatDiagnostics(r.errors));
    }
    return *r.event_bus;
  }
  if (name == "default") return api::EventBus{.name = "default", .ns = ns};  // the embedded bus
  return Status::NotFound("no EventBus " + ns + "/" + name + " nor ClusterEventBus " + name +
                          " (only \"default\" is implicit: Ofn's embedded bus)");
}

void EventsController::ApplySource(const store::Object& obj) {
  api::Resource r = Load(obj);
  Applied& a = applied_[Key(obj)];
  a.failed = true;
  if (!r.ok() || !r.event_source) {
    engine_->RemoveSource(obj.ns, obj.name);
    WriteStatus(obj, false, "ErrorConfiguration", api::FormatDiagnostics(r.errors), "", {});
    return;
  }
  const api::EventSource& es = *r.event_source;
  a.bus = es.event_bus;
  std::string problems;
  events::DeliveryKnobs knobs;
  knobs.retry = RetryPolicyFrom(es.annotations, knobs.retry, &problems);
  std::optional<api::EventBus> bus;
  if (!es.event_bus.empty()) {
    auto b = ResolveBus(es.ns, es.event_bus);
    if (!b.ok()) {
      engine_->RemoveSource(obj.ns, obj.name);
      WriteStatus(obj, false, "ErrorToFindExistEventBus", b.status().message(), es.event_bus, {});
      return;
    }
    bus = *b;
  }
  Status s = engine_->ApplySource(es, bus ? &*bus : nullptr, knobs);
  std::vector<std::string> topics;
  if (bus) {
    for (const auto& ev : es.events) topics.push_back(api::EventTopic(es.ns, es.name, ev.name));
  }
  if (!s.ok()) {
    WriteStatus(obj, false, "ErrorCreatingEventSource", s.message(), es.event_bus, topics);
    return;
  }
  a.failed = false;
  std::string message = problems;
  if (bus && !bus->note.empty()) message += (message.empty() ? "" : "; ") + bus->note;
  WriteStatus(obj, true, "EventSourceIsReady", message, es.event_bus, topics);
}

void EventsController::ApplyTrigger(const store::Object& obj) {
  api::Resource r = Load(obj);
  Applied& a = applied_[Key(obj)];
  a.failed = true;
  if (!r.ok() || !r.trigger) {
    engine_->RemoveTrigger(obj.ns, obj.name);
    WriteStatus(obj, false, "ErrorConfiguration", api::FormatDiagnostics(r.errors), "", {});
    return;
  }
  const api::Trigger& t = *r.trigger;
  a.bus = t.event_bus;
  std::string problems;
  events::DeliveryKnobs knobs;
  knobs.retry = RetryPolicyFrom(t.annotations, knobs.retry, &problems);
  knobs.window = DurationAnnotation(t.annotations, kConditionWindowAnnotation, knobs.window, &problems);
  std::vector<std::string> topics;
  for (const auto& in : t.inputs) topics.push_back(in.Topic());
  auto bus = ResolveBus(t.ns, t.event_bus);
  if (!bus.ok()) {
    engine_->RemoveTrigger(obj.ns, obj.name);
    WriteStatus(obj, false, "ErrorToFindExistEventBus", bus.status().message(), t.event_bus, topics);
    return;
  }
  Status s = engine_->ApplyTrigger(t, *bus, knobs);
  if (!s.ok()) {
    WriteStatus(obj, false, "ErrorCreatingTrigger", s.message(), t.event_bus, topics);
    return;
  }
  if (bus->component_type.empty() && !bus->cluster) {
    for (const auto& in : t.inputs) {
      if (in.ns == t.ns) continue;
      problems += std::string(problems.empty() ? "" : "; ") + "input " + in.name + " is in namespace " + in.ns +
                  ": the embedded EventBus " + t.event_bus + " of namespace " + t.ns +
                  " does not carry its events (use a ClusterEventBus)";
    }
  }
  a.failed = false;
  std::string message = problems;
  if (!bus->note.empty()) message += (message.empty() ? "" : "; ") + bus->note;
  WriteStatus(obj, true, "TriggerIsReady", message, t.event_bus, topics);
}

void EventsController::BusChanged(const std::string& ns, const std::string& name, bool cluster) {
  for (const char* kind : {"EventSource", "Trigger"}) {
    auto objs = store_->List(kind, cluster ? "" : ns);
    if (!objs.ok()) continue;
    for (const auto& obj : *objs) {
      auto it = applied_.find(Key(obj));
      if (it == applied_.end() || it->second.bus != name) continue;
      if (obj.kind == "EventSource") {
        ApplySource(obj);
      } else {
        ApplyTrigger(obj);
      }
    }
  }
}

void EventsController::RetryFailed() {
  for (const char* kind : {"EventSource", "Trigger"}) {
    auto objs = store_->List(kind, "");
    if (!objs.ok()) continue;
    for (const auto& obj : *objs) {
      auto it = applied_.find(Key(obj));
      if (it == applied_.end() || !it->second.failed) continue;
      if (obj.kind == "EventSource") {
        ApplySource(obj);
      } else {
        ApplyTrigger(obj);
      }
    }
  }
}

void EventsController::WriteStatus(const store::Object& obj, bool ready, const std::string& reason,
                                   const std::string& message, const std::string& bus,
                                   const std::vector<std::string>& topics) {
  json status = {{"conditions", json::array({{{"type", ready ? "Ready" : "Error"},
                                               {"status", ready ? "True" : "False"},
                                               {"reason", reason},
                                               {"message", message},
                                               {"timestamp", FormatRfc3339(std::chrono::system_clock::now())}}})}};
  if (!bus.empty()) status["bus"] = bus;
  if (!topics.empty()) status["topics"] = topics;
  // Unchanged conditions keep their timestamp (no write, no change event).
  if (auto cur = json::parse(obj.status_json.empty() ? "{}" : obj.status_json, nullptr, false); cur.is_object()) {
    json a = cur, b = status;
    if (a.contains("conditions") && a["conditions"].is_array() && !a["conditions"].empty()) {
      a["conditions"][0].erase("timestamp");
    }
    b["conditions"][0].erase("timestamp");
    if (a == b) return;
  }
  Status s = store_->UpdateStatus(obj.kind, obj.ns, obj.name, status.dump(), obj.generation);
  if (!s.ok() && s.code() != StatusCode::kFailedPrecondition && s.code() != StatusCode::kNotFound) {
    log::Warn("events: status write failed", {{"object", store::DisplayName(obj)}, {"error", s.message()}});
  }
  if (!ready) log::Warn("events: not ready", {{"object", store::DisplayName(obj)}, {"reason", reason}, {"message", message}});
}

nlohmann::json EventsController::Stats(const std::string& kind, const std::string& ns, const std::string& name) {
  json out = json::array();
  if (kind == "EventSource") {
    for (const auto& s : engine_->SourceStats(ns, name)) {
      out.push_back({{"event", s.event}, {"kind", s.kind}, {"received", s.received}, {"published", s.published},
                     {"publishFailed", s.publish_failed}, {"delivered", s.delivered}, {"dropped", s.dropped},
                     {"rejected", s.rejected}});
    }
  } else if (kind == "Trigger") {
    for (const auto& s : engine_->TriggerStats(ns, name)) {
      out.push_back({{"condition", s.condition}, {"destination", s.destination}, {"received", s.received},
                     {"matched", s.matched}, {"filtered", s.filtered}, {"invalid", s.invalid},
                     {"published", s.published}, {"delivered", s.delivered}, {"retried", s.retried},
                     {"deadLettered", s.dead_lettered}, {"dropped", s.dropped}, {"inFlight", s.in_flight}});
    }
  }
  return out;
}

struct EventsController::Watch {
  std::unique_ptr<components::Subscription> subscription;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;
  std::chrono::steady_clock::time_point last_read = std::chrono::steady_clock::now();
};

void EventsController::ExpireWatches() {
  std::vector<std::shared_ptr<Watch>> expired;
  {
    std::lock_guard lk(watches_mu_);
    for (auto it = watches_.begin(); it != watches_.end();) {
      bool idle;
      {
        std::lock_guard wl(it->second->mu);
        idle = std::chrono::steady_clock::now() - it->second->last_read > std::chrono::minutes(1);
      }
      if (idle) {
        expired.push_back(std::move(it->second));
        it = watches_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

Result<std::string> EventsController::OpenWatch(const std::string& ns, const std::string& bus_name,
                                                const std::string& topic) {
  ExpireWatches();
  if (topic.empty()) return Status::InvalidArgument("a topic is required");
  auto bus = ResolveBus(ns, bus_name);
  if (!bus.ok()) return bus.status();
  auto watch = std::make_shared<Watch>();
  std::string id = NewUuid();
  Watch* w = watch.get();
  auto sub = engine_->Watch(*bus, topic, "tail-" + id, [w](components::Message m, components::Ack ack) {
    {
      std::lock_guard lk(w->mu);
      w->events.push_back(std::move(m.data));
      if (w->events.size() > 1000) w->events.pop_front();
    }
    w->cv.notify_all();
    ack(components::Outcome::kSuccess);
  });
  if (!sub.ok()) return sub.status();
  watch->subscription = std::move(*sub);
  std::lock_guard lk(watches_mu_);
  watches_[id] = std::move(watch);
  return id;
}

Result<std::vector<std::string>> EventsController::ReadWatch(const std::string& id, std::chrono::milliseconds wait) {
  std::shared_ptr<Watch> w;
  {
    std::lock_guard lk(watches_mu_);
    auto it = watches_.find(id);
    if (it == watches_.end()) return Status::NotFound("no watch " + id + " (closed, or not read for a minute)");
    w = it->second;
  }
  std::unique_lock lk(w->mu);
  w->cv.wait_for(lk, wait, [&] { return !w->events.empty(); });
  std::vector<std::string> out(std::make_move_iterator(w->events.begin()), std::make_move_iterator(w->events.end()));
  w->events.clear();
  w->last_read = std::chrono::steady_clock::now();
  return out;
}

void EventsController::CloseWatch(const std::string& id) {
  std::shared_ptr<Watch> w;
  std::lock_guard lk(watches_mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  w = std::move(it->second);
  watches_.erase(it);
}

void EventsController::Webhook(gateway::LocalRequest request, gateway::LocalReply reply) {
  // path: /<namespace>/<eventsource>/<event>
  std::vector<std::string> parts;
  for (size_t i = 1; i <= request.path.size();) {
    size_t slash = request.path.find('/', i);
    if (slash == std::string::npos) slash = request.path.size();
    parts.push_back(request.path.substr(i, slash - i));
    i = slash + 1;
  }
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    reply(404, std::string("webhook paths are ") + kWebhookPrefix + "/<namespace>/<eventsource>/<event>\n");
    return;
  }
  if (request.method != "POST" && request.method != "PUT") {
    reply(405, "webhooks take POST\n");
    return;
  }
  {
    std::lock_guard lk(mu_);
    if (stopping_) {
      reply(503, "ofn server is stopping\n");
      return;
    }
    webhooks_.push_back([this, parts = std::move(parts), request = std::move(request), reply]() mutable {
      engine_->Webhook(parts[0], parts[1], parts[2], request.headers, request.body, reply);
    });
  }
  webhook_cv_.notify_one();
}

}  // namespace ofn::server

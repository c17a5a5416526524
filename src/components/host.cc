#include "components/host.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "common/go_bool.h"
#include "common/log.h"
#include "components/sqlite_pubsub.h"
#include "common/uuid.h"

namespace ofn::components {

using Json = nlohmann::json;

struct ComponentHost::Live {
  std::string spec_json;
  ComponentSpec spec;
  Component component;
};

struct ComponentHost::Consumer {
  FunctionInput input;
  std::shared_ptr<Live> live;
  std::unique_ptr<Subscription> subscription;
  std::atomic<int64_t> backlog{-1};  // last measured; -1: unknown
};

struct ComponentHost::Function {
  FunctionComponents config;
  std::string token;
  std::map<std::string, std::shared_ptr<Live>> components;  // what the scope shows, by name
  std::vector<std::shared_ptr<Consumer>> consumers;
  // Shared with the consumers' handlers, so a consumer that outlives a
  // rebuild (the backlog poller may hold it) never submits to a dead one.
  std::shared_ptr<Deliverer> deliverer;
  std::string problems;

  struct Route {
    std::string path;
    std::string dead_letter_topic;
    bool raw = false;  // metadata rawPayload: the app gets a CloudEvent made around the bytes
    size_t bulk = 0;   // bulkSubscribe: events per call at most (0: one)
    std::chrono::milliseconds bulk_await{0};  // bulkSubscribe: maxAwaitDurationMs
  };
  std::mutex routes_mu;  // read by delivery threads
  bool routes_known = false;
  std::map<std::string, Route> routes;  // "pubsubname/topic"

  ~Function() {
    consumers.clear();  // stop reading first: readers may still be submitting
    deliverer.reset();  // then hand back what is held
  }
};

namespace {

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool IsPubSub(std::string_view type) { return type.starts_with("pubsub."); }

// The route Dapr posts a binding's events to: its `route` metadata or its name.
std::string BindingRoute(const ComponentSpec& spec) {
  std::string route = spec.metadata.GetOr("route", spec.name);
  return route.starts_with("/") ? route : "/" + route;
}

// Events per call when a subscription asks for bulk delivery (else 0), and
// how long a call may wait to fill up; Dapr's defaults where not given.
std::pair<size_t, std::chrono::milliseconds> BulkOf(const Json& subscription) {
  auto b = subscription.find("bulkSubscribe");
  if (b == subscription.end() || !b->is_object()) return {0, {}};
  auto enabled = b->find("enabled");
  if (enabled == b->end() || !enabled->is_boolean() || !enabled->get<bool>()) return {0, {}};
  auto positive = [&](const char* key, int64_t fallback) {
    auto n = b->find(key);
    int64_t v = n != b->end() && n->is_number_integer() ? n->get<int64_t>() : fallback;
    return v > 0 ? v : fallback;
  };
  // An app's absurd values must not overflow a deadline or a reservation:
  // far beyond any read-ahead, and a minute, are plenty.
  constexpr int64_t kMaxCount = 1000, kMaxAwaitMs = 60000;
  return {static_cast<size_t>(std::min(positive("maxMessagesCount", 100), kMaxCount)),
          std::chrono::milliseconds(std::min(positive("maxAwaitDurationMs", 1000), kMaxAwaitMs))};
}

}  // namespace

ComponentHost::ComponentHost(Options options) : options_(std::move(options)) {
  if (options_.backlog_interval.count() > 0) poller_ = std::thread([this] { PollBacklogs(); });
}

ComponentHost::~ComponentHost() {
  {
    std::lock_guard lk(poll_mu_);
    poll_stop_ = true;
  }
  poll_cv_.notify_all();
  // Stop reading and delivering first: the poller may be waiting on a broker
  // (the consumers it holds stay alive until it lets go).
  std::map<std::string, std::shared_ptr<Function>> fns;
  {
    std::lock_guard lk(mu_);
    fns.swap(functions_);
  }
  fns.clear();
  if (poller_.joinable()) poller_.join();
}

Status ComponentHost::ApplyComponent(const std::string& ns, const std::string& name, const std::string& spec_json,
                                     std::vector<std::string> scopes) {
  auto spec = ParseComponentSpec(spec_json, name, ns, "");
  if (!spec.ok()) return spec.status();
  if (!options_.registry->Knows(spec->type)) {
    std::string known;
    for (const auto& t : options_.registry->Types()) known += (known.empty() ? "" : ", ") + t;
    return Status::InvalidArgument("component " + name + ": unknown type " + spec->type + " (known: " + known + ")");
  }
  std::lock_guard lk(mu_);
  standalone_[Key(ns, name)] = Standalone{spec_json, std::move(scopes)};
  for (auto& [key, fn] : functions_) {
    if (fn->config.ns == ns) Rebuild(*fn);
  }
  if (ns == kAnonymousNamespace) RebuildAnonymous();
  return Status::Ok();
}

void ComponentHost::RemoveComponent(const std::string& ns, const std::string& name) {
  std::lock_guard lk(mu_);
  if (standalone_.erase(Key(ns, name)) == 0) return;
  for (auto& [key, fn] : functions_) {
    if (fn->config.ns == ns) Rebuild(*fn);
  }
  if (ns == kAnonymousNamespace) RebuildAnonymous();
}

Result<std::string> ComponentHost::ApplyFunction(FunctionComponents function) {
  std::string key = function.key();
  std::lock_guard lk(mu_);
  auto& slot = functions_[key];
  if (!slot) {
    slot = std::make_shared<Function>();
    slot->token = NewUuid();
  }
  Function& fn = *slot;
  bool inputs_changed = fn.config.inputs.size() != function.inputs.size() ||
                        fn.config.per_instance != function.per_instance ||
                        fn.config.max_in_flight != function.max_in_flight ||
                        fn.config.retry.max_attempts != function.retry.max_attempts ||
                        fn.config.retry.initial_backoff != function.retry.initial_backoff ||
                        fn.config.retry.max_backoff != function.retry.max_backoff;
  for (size_t i = 0; !inputs_changed && i < function.inputs.size(); ++i) {
    const auto &a = fn.config.inputs[i], &b = function.inputs[i];
    inputs_changed = a.component != b.component || a.type != b.type || a.topic != b.topic || a.name != b.name;
  }
  fn.config = std::move(function);
  if (inputs_changed || !fn.deliverer) {
    fn.consumers.clear();
    std::weak_ptr<Function> weak = slot;
    Deliverer::Options d;
    d.name = key;
    d.per_instance = fn.config.per_instance;
    d.retry = fn.config.retry;
    d.clock = options_.clock;
    d.on_demand = fn.config.on_demand;
    d.prepare = [weak](Event& e) {
      auto f = weak.lock();
      if (!f || e.kind != EventKind::kPubSub) return;
      std::lock_guard rlk(f->routes_mu);
      auto it = f->routes.find(e.message.metadata["pubsubName"] + "/" + e.message.topic);
      if (it == f->routes.end()) return;
      e.route = it->second.path;
      e.raw = it->second.raw;
      e.bulk = it->second.bulk;
      e.bulk_await = it->second.bulk_await;
      if (!it->second.dead_letter_topic.empty() && !e.dead_letter) {
        auto live = f->components.find(e.message.metadata["pubsubName"]);
        if (live != f->components.end() && live->second->component.pubsub) {
          auto pubsub = live->second->component.pubsub;
          std::string topic = it->second.dead_letter_topic;
          e.dead_letter = [pubsub, topic](const Message& m, const std::string&) {
            return pubsub->Publish(PublishRequest{topic, m.data, m.metadata});
          };
        }
      }
    };
    fn.deliverer.reset();
    fn.deliverer = std::make_shared<Deliverer>(std::move(d));
    std::lock_guard rlk(fn.routes_mu);
    fn.routes_known = false;
    fn.routes.clear();
  }
  Rebuild(fn);
  if (!fn.problems.empty()) return Status::FailedPrecondition(fn.problems);
  return fn.token;
}

void ComponentHost::RemoveFunction(const std::string& key) {
  std::shared_ptr<Function> fn;
  {
    std::lock_guard lk(mu_);
    auto it = functions_.find(key);
    if (it == functions_.end()) return;
    fn = std::move(it->second);
    functions_.erase(it);
    options_.api->RemoveScope(fn->token);
  }
  fn.reset();  // outside mu_: joins consumer threads
}

Result<std::shared_ptr<ComponentHost::Live>> ComponentHost::Instantiate(const std::string& ns, const std::string& name,
                                                                        const std::string& spec_json,
                                                                        const std::string& app_id) {
  auto spec = ParseComponentSpec(spec_json, name, ns, app_id);
  if (!spec.ok()) return spec.status();
  spec->data_dir = options_.data_dir + "/components/" + ns + "/" + name;
  if (auto bus = spec->metadata.Get("eventBus"); bus && spec->type == kEmbeddedPubSubType) {
    // The embedded bus of an EventBus: a function reads what triggers republish there.
    if (!options_.event_bus_dir) return Status::FailedPrecondition(spec->Describe() + ": metadata eventBus: no events engine");
    auto dir = options_.event_bus_dir(ns, std::string(*bus));
    if (!dir.ok()) return Status(dir.status().code(), spec->Describe() + ": metadata eventBus: " + dir.status().message());
    spec->data_dir = *dir;
  }
  std::error_code ec;
  std::filesystem::create_directories(spec->data_dir, ec);
  auto made = options_.registry->Create(*spec);
  if (!made.ok()) return made.status();
  auto live = std::make_shared<Live>();
  live->spec_json = spec_json;
  live->spec = std::move(*spec);
  live->component = std::move(*made);
  return live;
}

std::shared_ptr<const ApiScope> ComponentHost::ScopeOf(const std::string& app_id, const std::string& ns,
                                                       const std::map<std::string, std::shared_ptr<Live>>& components) {
  auto scope = std::make_shared<ApiScope>();
  scope->app_id = app_id;
  for (const auto& [name, live] : components) {
    const Component& c = live->component;
    scope->types[name] = live->spec.type;
    if (c.state) {
      scope->states[name] =
          StateStoreRef{c.state, ResolveKeyPrefix(live->spec.metadata.GetOr("keyPrefix", ""), app_id, name, ns)};
    }
    if (c.pubsub) scope->pubsubs[name] = c.pubsub;
    if (c.output) scope->outputs[name] = c.output;
  }
  return scope;
}

void ComponentHost::RebuildAnonymous() {
  std::map<std::string, std::shared_ptr<Live>> next;
  const std::string prefix = std::string(kAnonymousNamespace) + "/";
  for (const auto& [key, c] : standalone_) {
    if (!key.starts_with(prefix) || !c.scopes.empty()) continue;
    std::string name = key.substr(prefix.size());
    auto old = anonymous_.find(name);
    if (old != anonymous_.end() && old->second->spec_json == c.spec_json) {
      next[name] = old->second;
      continue;
    }
    // Token-less callers only publish and invoke (no consumer); the app id
    // just satisfies backends that default their consumer id to it.
    auto live = Instantiate(kAnonymousNamespace, name, c.spec_json, "ofn");
    if (!live.ok()) {
      log::Warn("component not available to token-less callers", {{"component", key}, {"error", live.status().message()}});
      continue;
    }
    next[name] = std::move(*live);
  }
  anonymous_ = std::move(next);
  options_.api->SetScope("", ScopeOf("", kAnonymousNamespace, anonymous_));
}

void ComponentHost::Rebuild(Function& fn) {
  const auto& cfg = fn.config;
  std::vector<std::string> problems;
  // 1. The components the function sees: standalone ones of its namespace it
  //    is in scope of, then its inline ones (which win on a name clash).
  std::map<std::string, std::string> wanted;  // name -> spec
  std::string prefix = cfg.ns + "/";
  for (const auto& [key, c] : standalone_) {
    if (!key.starts_with(prefix)) continue;
    if (!c.scopes.empty() && std::find(c.scopes.begin(), c.scopes.end(), cfg.name) == c.scopes.end()) continue;
    wanted[key.substr(prefix.size())] = c.spec_json;
  }
  for (const auto& [name, spec] : cfg.inline_specs) wanted[name] = spec;
  std::map<std::string, std::shared_ptr<Live>> next;
  for (const auto& [name, spec] : wanted) {
    auto old = fn.components.find(name);
    if (old != fn.components.end() && old->second->spec_json == spec) {
      next[name] = old->second;
      continue;
    }
    auto live = Instantiate(cfg.ns, name, spec, cfg.name);
    if (!live.ok()) {
      problems.push_back(live.status().message());
      continue;
    }
    next[name] = std::move(*live);
  }
  fn.components = std::move(next);

  // 2. The API scope.
  options_.api->SetScope(fn.token, ScopeOf(cfg.name, cfg.ns, fn.components));

  // 3. One consumer per input; a consumer whose component did not change keeps running.
  std::vector<std::shared_ptr<Consumer>> consumers;
  for (const auto& input : cfg.inputs) {
    auto live_it = fn.components.find(input.component);
    if (live_it == fn.components.end()) {
      problems.push_back("input " + input.name + ": no component named " + input.component);
      continue;
    }
    std::shared_ptr<Live> live = live_it->second;
    std::shared_ptr<Consumer> kept;
    for (auto& c : fn.consumers) {
      if (c && c->live == live && c->input.name == input.name && c->input.topic == input.topic) kept = std::move(c);
    }
    if (kept) {
      consumers.push_back(std::move(kept));
      continue;
    }
    const std::string& type = live->spec.type;
    if (!input.type.empty() && input.type != type) {
      problems.push_back("input " + input.name + ": trigger type " + input.type + " but component " +
                         input.component + " is " + type);
      continue;
    }
    auto consumer = std::make_shared<Consumer>();
    consumer->input = input;
    consumer->live = live;
    std::shared_ptr<Deliverer> deliverer = fn.deliverer;
    Result<std::unique_ptr<Subscription>> sub = Status::Ok();
    if (IsPubSub(type)) {
      if (!live->component.pubsub) {
        problems.push_back("input " + input.name + ": component " + input.component + " cannot subscribe");
        continue;
      }
      if (input.topic.empty()) {
        problems.push_back("input " + input.name + ": a pub/sub trigger needs a topic");
        continue;
      }
      std::string pubsub_name = input.component;
      std::string fallback_route = "/" + input.topic;  // until /dapr/subscribe says otherwise
      std::shared_ptr<PubSub> pubsub = live->component.pubsub;
      std::string dlq = live->spec.metadata.GetOr("deadLetterTopic", "");
      sub = pubsub->Subscribe(
          SubscribeRequest{input.topic, {}, cfg.max_in_flight},
          [deliverer, pubsub_name, fallback_route, pubsub, dlq](Message m, Ack ack) {
            Event e;
            e.kind = EventKind::kPubSub;
            e.route = fallback_route;
            m.metadata["pubsubName"] = pubsub_name;
            e.message = std::move(m);
            e.ack = std::move(ack);
            if (!dlq.empty()) {
              e.dead_letter = [pubsub, dlq](const Message& msg, const std::string&) {
                return pubsub->Publish(PublishRequest{dlq, msg.data, msg.metadata});
              };
            }
            deliverer->Submit(std::move(e));
          });
    } else {
      if (!live->component.input) {
        problems.push_back("input " + input.name + ": component " + input.component + " (" + type +
                           ") is not an input binding");
        continue;
      }
      std::string route = BindingRoute(live->spec);
      sub = live->component.input->Read(ReadRequest{cfg.max_in_flight}, [deliverer, route](Message m, Ack ack) {
        Event e;
        e.kind = EventKind::kBinding;
        e.route = route;
        e.message = std::move(m);
        e.ack = std::move(ack);
        deliverer->Submit(std::move(e));
      });
    }
    if (!sub.ok()) {
      problems.push_back("input " + input.name + ": " + sub.status().message());
      continue;
    }
    consumer->subscription = std::move(*sub);
    consumers.push_back(std::move(consumer));
  }
  fn.consumers.swap(consumers);
  consumers.clear();  // the replaced ones stop here
  fn.problems.clear();
  for (const auto& p : problems) fn.problems += (fn.problems.empty() ? "" : "; ") + p;
  if (!fn.problems.empty()) log::Warn("function components", {{"function", cfg.key()}, {"problems", fn.problems}});
}

void ComponentHost::FetchRoutes(Function& fn, const Endpoint& endpoint) {
  net::HttpClient client;
  net::ClientRequest req;
  req.method = "GET";
  req.url = "http://" + endpoint.host + ":" + std::to_string(endpoint.port) + "/dapr/subscribe";
  req.headers = {{"Content-Type", "application/json"}, {"Dapr-App-Id", fn.config.name}};
  req.timeout = std::chrono::seconds(5);
  auto resp = client.Do(req);
  std::map<std::string, Function::Route> routes;
  if (resp.ok() && resp->status == 200) {
    Json list = Json::parse(resp->body.empty() ? std::string("[]") : resp->body, nullptr, false);
    if (!list.is_array()) {
      log::Warn("GET /dapr/subscribe answered something other than a JSON array; pub/sub events go to /<topic>",
                {{"function", fn.config.key()}, {"body", resp->body.substr(0, 200)}});
    } else {
      for (const auto& s : list) {
        if (!s.is_object()) continue;
        std::string pubsub = s.value("pubsubname", ""), topic = s.value("topic", "");
        std::string path = s.value("route", "");
        if (auto r = s.find("routes"); r != s.end() && r->is_object()) {
          // CEL rules are not evaluated: the default route takes every event.
          if (r->contains("default") && (*r)["default"].is_string()) path = (*r)["default"].get<std::string>();
        }
        if (pubsub.empty() || topic.empty() || path.empty()) continue;
        if (!path.starts_with("/")) path = "/" + path;
        bool raw = false;
        if (auto m = s.find("metadata"); m != s.end() && m->is_object()) {
          auto v = m->find("rawPayload");
          raw = v != m->end() && v->is_string() && ParseGoBool(v->get<std::string>()).value_or(false);
        }
        auto [bulk, await] = BulkOf(s);
        routes[pubsub + "/" + topic] = Function::Route{path, s.value("deadLetterTopic", ""), raw, bulk, await};
      }
    }
  } else {
    log::Warn("GET /dapr/subscribe failed; pub/sub events go to /<topic>",
              {{"function", fn.config.key()},
               {"error", resp.ok() ? "status " + std::to_string(resp->status) : resp.status().message()}});
  }
  std::lock_guard rlk(fn.routes_mu);
  fn.routes = std::move(routes);
  fn.routes_known = true;
}

void ComponentHost::SetEndpoints(const std::string& key, std::vector<Endpoint> endpoints) {
  std::shared_ptr<Function> fn;
  {
    std::lock_guard lk(mu_);
    auto it = functions_.find(key);
    if (it == functions_.end()) return;
    fn = it->second;
  }
  bool has_pubsub = false;
  for (const auto& in : fn->config.inputs) {
    auto live = fn->components.find(in.component);
    if (live != fn->components.end() && IsPubSub(live->second->spec.type)) has_pubsub = true;
  }
  bool known;
  {
    std::lock_guard rlk(fn->routes_mu);
    known = fn->routes_known;
  }
  if (has_pubsub && !known && !endpoints.empty()) FetchRoutes(*fn, endpoints.front());
  fn->deliverer->SetEndpoints(std::move(endpoints));
}

std::vector<InputStats> ComponentHost::Inputs(const std::string& key) {
  std::lock_guard lk(mu_);
  std::vector<InputStats> out;
  auto it = functions_.find(key);
  if (it == functions_.end()) return out;
  for (const auto& c : it->second->consumers) {
    out.push_back(InputStats{c->input.component, c->input.topic, c->backlog.load()});
  }
  return out;
}

void ComponentHost::RefreshBacklogs() {
  std::vector<std::shared_ptr<Consumer>> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, fn] : functions_) all.insert(all.end(), fn->consumers.begin(), fn->consumers.end());
  }
  // Brokers may take a while to answer: never under mu_.
  for (const auto& c : all) {
    auto b = c->subscription->Backlog();
    c->backlog.store(b.ok() ? *b : -1);
  }
}

void ComponentHost::PollBacklogs() {
  std::unique_lock lk(poll_mu_);
  while (!poll_stop_) {
    lk.unlock();
    RefreshBacklogs();
    lk.lock();
    poll_cv_.wait_for(lk, options_.backlog_interval, [&] { return poll_stop_; });
  }
}

int64_t ComponentHost::Backlog(const std::string& key) {
  int64_t total = 0;
  bool unknown = false;
  for (const auto& in : Inputs(key)) {
    if (in.backlog < 0) unknown = true;
    total += std::max<int64_t>(in.backlog, 0);
  }
  std::lock_guard lk(mu_);
  auto it = functions_.find(key);
  if (it == functions_.end()) return 0;
  // A broker that cannot be asked: what we hold for it is backlog still.
  if (unknown && it->second->deliverer) total += static_cast<int64_t>(it->second->deliverer->Held());
  return total;
}

std::string ComponentHost::Problems(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = functions_.find(key);
  return it == functions_.end() ? std::string() : it->second->problems;
}

std::string ComponentHost::ComponentType(const std::string& key, const std::string& component) {
  std::lock_guard lk(mu_);
  auto it = functions_.find(key);
  if (it == functions_.end()) return "";
  auto c = it->second->components.find(component);
  return c == it->second->components.end() ? std::string() : c->second->spec.type;
}

std::string ComponentHost::Token(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = functions_.find(key);
  return it == functions_.end() ? std::string() : it->second->token;
}

std::string ComponentHost::Metrics() {
  std::lock_guard lk(mu_);
  std::string out =
      "# HELP ofn_events_total Events delivered to functions, by outcome.\n"
      "# TYPE ofn_events_total counter\n";
  std::string calls =
      "# HELP ofn_event_calls_total Calls that carried events to instances (a bulk call carries several).\n"
      "# TYPE ofn_event_calls_total counter\n";
  std::string held =
      "# HELP ofn_events_held Events read from brokers and not yet acknowledged, by state.\n"
      "# TYPE ofn_events_held gauge\n";
  for (const auto& [key, fn] : functions_) {
    if (!fn->deliverer) continue;
    DeliveryStats s = fn->deliverer->Stats();
    std::string labels = "{namespace=\"" + fn->config.ns + "\",name=\"" + fn->config.name + "\",outcome=\"";
    auto line = [&](std::string_view outcome, uint64_t v) {
      out += "ofn_events_total" + labels + std::string(outcome) + "\"} " + std::to_string(v) + "\n";
    };
    line("delivered", s.delivered);
    line("retried", s.retried);
    line("dead_lettered", s.dead_lettered);
    line("dropped", s.dropped);
    line("unreachable", s.unreachable);
    calls += "ofn_event_calls_total{namespace=\"" + fn->config.ns + "\",name=\"" + fn->config.name + "\"} " +
             std::to_string(s.calls) + "\n";
    std::string hl = "{namespace=\"" + fn->config.ns + "\",name=\"" + fn->config.name + "\",state=\"";
    held += "ofn_events_held" + hl + "in_flight\"} " + std::to_string(s.in_flight) + "\n";
    held += "ofn_events_held" + hl + "queued\"} " + std::to_string(s.queued) + "\n";
  }
  return out + calls + held;
}

}  // namespace ofn::components

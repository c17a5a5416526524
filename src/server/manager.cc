#include "server/manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/load.h"
#include "autoscaler/keda_config.h"
#include "autoscaler/kpa_config.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "server/annotations.h"

namespace ofn::server {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kConcurrencyAnnotation[] = "ofn.io/container-concurrency";
constexpr char kReadinessAnnotation[] = "ofn.io/readiness";
// "process" or "container": how a function is run (see FromImage).
constexpr char kRuntimeAnnotation[] = "ofn.io/runtime";
// "isolated" or "host": the network of a function served as containers.
constexpr char kNetworkAnnotation[] = "ofn.io/network";
// Dapr's own annotation for calls in flight per app instance; 1 also keeps
// each input's events in the broker's order.
constexpr char kMaxConcurrencyAnnotation[] = "dapr.io/app-max-concurrency";
// Events read ahead per call an async function may have in flight: a full
// bulk call (the C++ framework asks for up to 32 events per call).
constexpr size_t kReadAheadPerCall = 32;
constexpr size_t kMaxReadAhead = 4096;

std::string Now3339() { return FormatRfc3339(std::chrono::system_clock::now()); }

// An async function without keda triggers still scales on its backlog:
// one instance per 10 events held, KEDA's default lag threshold.
autoscaler::KedaTrigger DefaultBacklogTrigger() {
  autoscaler::KedaTrigger t;
  t.type = "ofn-backlog";
  t.field = "spec.serving.scaleOptions.keda.triggers (none: Ofn's backlog trigger)";
  t.target = 10;
  t.activation = 0;
  return t;
}

// The topic or stream a trigger watches, to find the input it measures.
std::string TriggerTopic(const autoscaler::KedaTrigger& t) {
  if (const auto* k = std::get_if<autoscaler::KafkaTrigger>(&t.source)) return k->topic;
  if (const auto* r = std::get_if<autoscaler::RedisStreamsTrigger>(&t.source)) return r->stream;
  return "";
}

// A Function without a command whose image is REPO/NAME[:TAG] runs the
// program NAME of the first --local-images directory that has it: until Ofn
// runs containers, OpenFunction manifests run unchanged this way.
bool ResolveLocalImage(api::Function& fn, const std::vector<std::string>& dirs) {
  if (!fn.serving || dirs.empty()) return false;
  if (fn.serving->container && !fn.serving->container->command.empty()) return false;
  std::string name = fn.image.substr(fn.image.rfind('/') + 1);
  name = name.substr(0, name.find_first_of(":@"));
  if (name.empty() || name == "." || name == "..") return false;
  for (const auto& dir : dirs) {
    std::string path = dir + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0) {
      if (!fn.serving->container) fn.serving->container.emplace();
      fn.serving->container->command = {path};
      return true;
    }
  }
  return false;
}

// "annotation ofn.io/runtime: \"x\" is not process or container", or "".
std::string BadAnnotation(const api::Function& f) {
  for (const auto& [name, allowed] : {std::pair{kRuntimeAnnotation, std::pair{"process", "container"}},
                                      std::pair{kNetworkAnnotation, std::pair{"isolated", "host"}}}) {
    auto a = f.annotations.find(name);
    if (a != f.annotations.end() && a->second != allowed.first && a->second != allowed.second) {
      return std::string("annotation ") + name + ": \"" + a->second + "\" is not " + allowed.first + " or " +
             allowed.second;
    }
  }
  return "";
}

// Served from its image (as containers) rather than as a process: without a
// command, or with ofn.io/runtime: container (the command then replaces the
// image's entrypoint and cmd).
bool FromImage(const api::Function& f) {
  if (auto a = f.annotations.find(kRuntimeAnnotation); a != f.annotations.end()) return a->second == "container";
  return !f.serving->container || f.serving->container->command.empty();
}

// A container's network (container_launcher.h): ofn.io/network, else its own
// namespace when nothing but the gateway needs to reach it or be reached
// from it (readiness "socket", no Dapr components or inputs), else the
// server's.
Network NetworkOf(const api::Function& f) {
  if (auto a = f.annotations.find(kNetworkAnnotation); a != f.annotations.end()) {
    return a->second == "isolated" ? Network::kIsolated : Network::kHost;
  }
  auto r = f.annotations.find(kReadinessAnnotation);
  bool socket = r != f.annotations.end() && r->second == "socket";
  const auto& sv = *f.serving;
  bool dapr = !sv.bindings.empty() || !sv.pubsub.empty() || !sv.states.empty() || !sv.dapr_triggers.empty() ||
              !sv.outputs.empty();
  return socket && !dapr ? Network::kIsolated : Network::kHost;
}

// Cold-start histogram buckets, in seconds.
constexpr double kColdBuckets[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

struct FunctionManager::Fn {
  std::string key, ns, name;
  int64_t generation = 0;
  api::Function spec;
  bool runnable = false;
  std::string state = "Created", reason, message;  // serving phase for status
  std::string build_state = "Skipped";  // or Building, Succeeded, Failed
  std::string build_reason, build_message;
  int64_t build_generation = 0;  // the generation the build was started for
  BuildOutcome build;            // the last build's result
  std::optional<autoscaler::KpaScaler> kpa;
  int container_concurrency = 0;
  // Async functions: their events come from the component host.
  bool async = false;
  std::string api_token;      // their instances' DAPR_API_TOKEN
  std::string host_problems;  // components or inputs that did not start
  std::optional<autoscaler::KedaScaler> keda;
  struct Inst {
    runtime::InstanceState state;
    Clock::time_point started;
  };
  std::map<runtime::InstanceId, Inst> instances;
  std::vector<runtime::InstanceId> retired;  // ended instances kept for `ofn logs`
  int desired = 0;
  std::optional<Clock::time_point> demand_since;  // a request waits at zero
  int64_t cold_starts = 0;
  double cold_seconds_sum = 0;
  std::vector<int64_t> cold_buckets = std::vector<int64_t>(std::size(kColdBuckets), 0);
  bool status_dirty = true;
  int instance_seq = 0;
  std::optional<container::Rootfs> rootfs;  // served from its image, as containers
  // Its image pulled from a registry: "", Pulling, Pulled, Failed (why: pull_message).
  std::string pull_state, pull_message;
  bool start_pull = false;  // Reconcile starts the pull
  Clock::time_point start_failed_at{};

  int Ready() const {
    int n = 0;
    for (const auto& [id, i] : instances) n += i.state.phase == runtime::Phase::kReady;
    return n;
  }
  // Running, starting, or crashed and about to be restarted by the runtime:
  // starting another copy for one in restart backoff would multiply a crash.
  static bool Alive(const runtime::InstanceState& st) {
    return st.phase == runtime::Phase::kReady || st.phase == runtime::Phase::kStarting ||
           (st.phase == runtime::Phase::kExited && st.restart_pending);
  }
  // Not started now, however urgent: a crash loop (until the Function
  // changes), or an instance that could not start a moment ago.
  bool Blocked(Clock::time_point now) const {
    return state == "Failed" &&
           (reason == "CrashLoop" || (reason == "StartFailed" && now - start_failed_at < std::chrono::seconds(1)));
  }
  int Live() const {
    int n = 0;
    for (const auto& [id, i] : instances) n += Alive(i.state);
    return n;
  }
};

FunctionManager::FunctionManager(ManagerOptions options, store::Store* store, runtime::ProcessRuntime* runtime,
                                 gateway::Gateway* gateway, components::ComponentHost* host)
    : options_(std::move(options)), store_(store), runtime_(runtime), gateway_(gateway), host_(host) {
  gateway_config_.domain = options_.domain;
  if (!options_.data_dir.empty()) {
    auto builds = BuildController::Create(
        {.data_dir = options_.data_dir, .sdk_prefix = options_.sdk_prefix},
        [this](const std::string& key, int64_t generation, const BuildOutcome& outcome) {
          OnBuildDone(key, generation, outcome);
        });
    if (builds.ok()) {
      builds_ = std::move(*builds);
    } else {
      log::Error("no image store: functions with spec.build will not be built", {{"error", builds.status().message()}});
    }
    if (options_.container_runtime == "none") {
      containers_problem_ = "the server runs without containers (--container-runtime none)";
    } else if (auto c = ContainerLauncher::Create(options_.data_dir, options_.container_runtime); c.ok()) {
      containers_ = std::move(*c);
      log::Info("containers run with " + containers_->oci_runtime().name, {{"path", containers_->oci_runtime().path}});
    } else {
      containers_problem_ = "no OCI runtime: " + c.status().message() + " (install crun or runc)";
      log::Warn("functions served from images cannot run", {{"error", containers_problem_}});
    }
  }
}

FunctionManager::~FunctionManager() { Stop(); }

Status FunctionManager::Start() {
  runtime_->OnChange([this](runtime::InstanceId id, const runtime::InstanceState& st) { OnInstanceChange(id, st); });
  subscription_ = store_->Subscribe([this](const store::Change& change) {
    store::Object obj = change.object;
    bool deleted = change.type == store::ChangeType::kDeleted;
    if (obj.kind == "Function" && !deleted) {
      std::lock_guard lk(mu_);
      auto it = fns_.find(obj.ns + "/" + obj.name);
      if (it != fns_.end() && it->second->generation == obj.generation) return;  // status or metadata only
    }
    // The worker owns the functions; an API call waits for it so that, when
    // `ofn apply` returns, the function is routed.
    auto done = std::make_shared<std::promise<void>>();
    Enqueue([this, obj = std::move(obj), deleted, done] {
      if (obj.kind == "Gateway") {
        ReconcileGateway(deleted ? nullptr : &obj);
      } else if (obj.kind == "Component") {
        ReconcileComponent(obj, deleted);
      } else if (obj.kind == "Function") {
        if (deleted) {
          Forget(obj.ns + "/" + obj.name);
        } else {
          Reconcile(obj);
        }
      }
      done->set_value();
    });
    if (std::this_thread::get_id() != worker_id_) done->get_future().wait();
  });
  auto gateways = store_->List("Gateway", "");
  if (!gateways.ok()) return gateways.status();
  if (!gateways->empty()) ReconcileGateway(&gateways->front());
  auto components = store_->List("Component", "");
  if (!components.ok()) return components.status();
  for (const auto& obj : *components) ReconcileComponent(obj, false);
  auto functions = store_->List("Function", "");
  if (!functions.ok()) return functions.status();
  for (const auto& obj : *functions) Reconcile(obj);
  worker_ = std::thread([this] { Worker(); });
  worker_id_ = worker_.get_id();
  return Status::Ok();
}

void FunctionManager::Stop() {
  if (builds_) builds_->Shutdown();
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (subscription_) store_->Unsubscribe(subscription_);
  std::vector<runtime::InstanceId> ids;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, key] : instance_owner_) ids.push_back(id);
  }
  for (auto id : ids) (void)runtime_->Stop(id, false);
  for (auto id : ids) (void)runtime_->Stop(id, true);
  runtime_->OnChange(nullptr);  // the runtime may outlive us
}

void FunctionManager::Enqueue(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void FunctionManager::Worker() {
  auto next_tick = Clock::now();
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_until(lk, next_tick, [&] {
      if (stopping_ || !jobs_.empty()) return true;
      for (const auto& [k, fn] : fns_) {
        if (fn->demand_since && fn->Live() == 0 && !fn->Blocked(Clock::now())) return true;
      }
      return false;
    });
    if (stopping_) break;
    while (!jobs_.empty()) {
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      job();
      lk.lock();
    }
    auto now = Clock::now();
    bool tick = now >= next_tick;
    if (tick) next_tick = now + options_.tick;
    std::vector<std::string> keys;
    for (const auto& [k, fn] : fns_) keys.push_back(k);
    for (const auto& k : keys) {
      auto it = fns_.find(k);
      if (it == fns_.end()) continue;
      Fn& fn = *it->second;
      bool urgent = fn.demand_since && fn.Live() == 0 && !fn.Blocked(now);
      if (tick || urgent) {
        lk.unlock();
        Scale(fn, now, urgent);
        lk.lock();
      }
      if (fn.status_dirty) {
        fn.status_dirty = false;
        lk.unlock();
        WriteStatus(fn);
        lk.lock();
      }
      // Ended instances are forgotten, keeping the last few for `ofn logs`.
      std::vector<runtime::InstanceId> forget;
      auto again = fns_.find(k);
      if (again == fns_.end()) continue;
      while (again->second->retired.size() > 3) {
        forget.push_back(again->second->retired.front());
        instance_owner_.erase(again->second->retired.front());
        again->second->retired.erase(again->second->retired.begin());
      }
      if (!forget.empty()) {
        lk.unlock();
        for (auto id : forget) (void)runtime_->Remove(id);
        lk.lock();
      }
    }
  }
}

Result<std::string> FunctionManager::FunctionUrl(const std::string& ns, const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = fns_.find(ns + "/" + name);
  if (it == fns_.end()) return Status::NotFound("no Function " + ns + "/" + name);
  gateway::RouteSpec route = RouteFor(*it->second);
  if (route.path_prefixes.empty()) return Status::FailedPrecondition("Function " + ns + "/" + name + " has no path");
  return "http://" + options_.gateway_url_host + ":" + std::to_string(options_.gateway_port) +
         route.path_prefixes.front() + "/";
}

gateway::RouteSpec FunctionManager::RouteFor(const Fn& fn) const {
  gateway::RouteSpec r;
  r.key = fn.key;
  const api::Gateway& g = gateway_config_;
  if (auto host = api::ExpandGatewayTemplate(g.host_template, fn.name, fn.ns, g.domain); host.ok()) {
    r.hosts.push_back(*host);
  }
  if (auto path = api::ExpandGatewayTemplate(g.path_template, fn.name, fn.ns, g.domain); path.ok()) {
    r.path_prefixes.push_back("/" + *path);
  }
  if (fn.spec.serving && fn.spec.serving->http) {
    const auto& route = fn.spec.serving->http->route;
    for (const auto& h : route.hostnames) r.hosts.push_back(h);
    for (const auto& rule : route.rules) {
      for (const auto& m : rule.matches) {
        if (m.path.type == "PathPrefix" && m.path.value != "/" && !m.path.value.empty()) {
          r.path_prefixes.push_back(m.path.value);
        }
      }
    }
  }
  r.container_concurrency = fn.container_concurrency;
  if (fn.spec.serving && fn.spec.serving->timeout) {
    r.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*fn.spec.serving->timeout);
  }
  return r;
}

void FunctionManager::Reconcile(const store::Object& obj, bool force) {
  std::string key = obj.ns + "/" + obj.name;
  if (!force) {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it != fns_.end() && it->second->generation == obj.generation) return;  // status-only change
  }
  Json doc = {{"apiVersion", obj.api_version},
              {"kind", obj.kind},
              {"metadata", Json::parse(obj.metadata_json.empty() ? "{}" : obj.metadata_json)},
              {"spec", Json::parse(obj.spec_json.empty() ? "{}" : obj.spec_json)}};
  doc["metadata"]["name"] = obj.name;
  doc["metadata"]["namespace"] = obj.ns;
  auto loaded = api::LoadManifests(doc.dump(), "store");
  auto fn = std::make_unique<Fn>();
  fn->key = key;
  fn->ns = obj.ns;
  fn->name = obj.name;
  fn->generation = obj.generation;
  if (!loaded.ok() || loaded->empty() || !loaded->front().ok() || !loaded->front().function) {
    fn->state = "Failed";
    fn->reason = "InvalidSpec";
    fn->message = loaded.ok() && !loaded->empty() ? api::FormatDiagnostics(loaded->front().errors)
                                                 : loaded.status().message();
  } else {
    fn->spec = *loaded->front().function;
    // A local stand-in for the image is what a build would have made.
    fn->build_state = fn->spec.build.is_null() ? "Skipped" : "Created";
    if (ResolveLocalImage(fn->spec, options_.local_images)) fn->build_state = "Skipped";
    const auto& serving = fn->spec.serving;
    std::string bad_annotation = BadAnnotation(fn->spec);
    bool from_image = serving && bad_annotation.empty() && FromImage(fn->spec);
    if (from_image) ServeFromImage(*fn);
    if (!bad_annotation.empty()) {
      fn->state = "Failed";
      fn->reason = "InvalidAnnotation";
      fn->message = bad_annotation;
    } else if (!serving) {
      fn->state = "Skipped";
      fn->reason = "BuildOnly";
      fn->message = "the function has no serving section";
    } else if (from_image && !fn->rootfs) {
      // ServeFromImage said why.
    } else if (!serving->dapr_triggers.empty() && !serving->http) {
      fn->async = true;
      fn->runnable = true;
      fn->state = "Running";
      Json spec = Json::parse(obj.spec_json.empty() ? "{}" : obj.spec_json, nullptr, false);
      auto keda = autoscaler::KedaConfig::FromFunction(spec.is_object() ? spec.value("serving", Json::object())
                                                                        : Json::object());
      if (!keda.ok() && keda.status().code() != StatusCode::kUnimplemented) {
        fn->runnable = false;
        fn->state = "Failed";
        fn->reason = "InvalidScaleOptions";
        fn->message = keda.status().message();
      } else {
        autoscaler::KedaConfig config;
        if (keda.ok()) {
          config = std::move(*keda);
        } else {
          // A scaler Ofn lacks: scale on the backlog instead, and say so.
          config = *autoscaler::KedaConfig::FromFunction(Json::object());
          fn->reason = "ScaleOptionsIgnored";
          fn->message = keda.status().message() + "; scaling on the event backlog instead";
        }
        if (config.triggers.empty()) config.triggers.push_back(DefaultBacklogTrigger());
        fn->keda.emplace(std::move(config), Clock::now(), 0);
      }
    } else {
      fn->runnable = true;
      fn->state = "Running";
      int cc = 0;
      if (auto a = fn->spec.annotations.find(kConcurrencyAnnotation); a != fn->spec.annotations.end()) {
        cc = std::max(0, std::atoi(a->second.c_str()));
      }
      fn->container_concurrency = cc;
      auto cfg = autoscaler::KpaConfig::FromAnnotations(serving->scale.knative, serving->scale.min_replicas.value_or(-1),
                                                        serving->scale.max_replicas.value_or(-1), cc, options_.kpa);
      if (!cfg.ok()) {
        fn->runnable = false;
        fn->state = "Failed";
        fn->reason = "InvalidScaleOptions";
        fn->message = cfg.status().message();
      } else {
        fn->kpa.emplace(*cfg, Clock::now(), 0);
      }
    }
  }
  if (fn->runnable) {
    ApplyComponents(*fn);
  } else if (host_) {
    host_->RemoveFunction(key);
  }
  std::vector<runtime::InstanceId> to_stop;
  gateway::RouteSpec route;
  bool runnable = fn->runnable;
  bool async = fn->async;
  bool build = !fn->spec.build.is_null() && fn->build_state != "Skipped";
  bool start_pull = fn->start_pull;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (build) {
      const Fn* previous = it != fns_.end() ? it->second.get() : nullptr;
      // The same build as the running one or the last good one: keep it. A
      // reconcile of the same generation (after its build ended) keeps
      // whatever it was, a failure too: only a change or `ofn build` rebuilds.
      if (previous && previous->spec.build == fn->spec.build && previous->spec.image == fn->spec.image &&
          (previous->build_state == "Building" || previous->build_state == "Succeeded" ||
           previous->generation == fn->generation)) {
        fn->build_reason = previous->build_reason;
        fn->build_message = previous->build_message;
        fn->build_state = previous->build_state;
        fn->build_generation = previous->build_generation;
        fn->build = previous->build;
        build = false;
      }
    }
    if (it != fns_.end()) {
      // A new generation: replace every instance (new command, env or limits).
      for (const auto& [id, inst] : it->second->instances) to_stop.push_back(id);
      fn->retired = it->second->retired;
      fn->cold_starts = it->second->cold_starts;
      fn->cold_seconds_sum = it->second->cold_seconds_sum;
      fn->cold_buckets = it->second->cold_buckets;
      fn->instance_seq = it->second->instance_seq;
    }
    route = RouteFor(*fn);
    fns_[key] = std::move(fn);
  }
  for (auto id : to_stop) (void)runtime_->Stop(id, false);
  if (build) StartBuild(key, obj);
  if (start_pull) StartPull(key, obj.generation);
  if (async) {
    gateway_->Remove(key);  // its events come from its inputs, not over HTTP
    if (host_) host_->SetEndpoints(key, {});
  } else {
    gateway_->Upsert(route);
    gateway_->SetEndpoints(key, {});
  }
  log::Info(runnable ? "function ready to serve" : "function accepted, not served",
            {{"function", key}, {"generation", std::to_string(obj.generation)}});
  std::lock_guard lk(mu_);
  cv_.notify_all();
}

void FunctionManager::ApplyComponents(Fn& fn) {
  if (!host_) return;
  const api::Serving& serving = *fn.spec.serving;
  components::FunctionComponents fc;
  fc.ns = fn.ns;
  fc.name = fn.name;
  for (const auto& [name, spec] : serving.bindings.items()) fc.inline_specs[name] = spec.dump();
  for (const auto& [name, spec] : serving.pubsub.items()) fc.inline_specs[name] = spec.dump();
  for (const auto& [name, state] : serving.states.items()) {
    fc.inline_specs[name] = (state.is_object() && state.contains("spec") ? state["spec"] : state).dump();
  }
  if (fn.async) {
    for (const auto& t : serving.dapr_triggers) {
      fc.inputs.push_back(components::FunctionInput{t.name, t.type, t.topic, t.input_name.empty() ? t.name : t.input_name});
    }
  }
  std::string problems;
  const auto& a = fn.spec.annotations;
  int per_instance = PositiveAnnotation(a, kMaxConcurrencyAnnotation, 16, &problems);
  fc.per_instance = static_cast<size_t>(per_instance);
  // One at a time keeps the broker's order; otherwise read ahead
  // kReadAheadPerCall events per call slot: enough for full bulk calls on
  // every instance, and a queue deep enough that brokers are read in large
  // batches.
  int max_replicas = fn.keda ? fn.keda->config().max_replicas : 1;
  fc.max_in_flight = per_instance == 1 ? 1
                                       : std::min<size_t>(kMaxReadAhead, fc.per_instance * kReadAheadPerCall *
                                                                             std::max(1, max_replicas));
  fc.retry = RetryPolicyFrom(a, fc.retry, &problems);
  std::string key = fn.key;
  fc.on_demand = [this, key] { OnDemand(key); };
  auto token = host_->ApplyFunction(std::move(fc));
  if (!token.ok()) problems += std::string(problems.empty() ? "" : "; ") + token.status().message();
  fn.api_token = host_->Token(key);
  // Triggers and outputs may leave the type to the component (standalone
  // ones included): FUNC_CONTEXT must carry it.
  for (auto& t : fn.spec.serving->dapr_triggers) {
    if (t.type.empty()) t.type = host_->ComponentType(key, t.name);
  }
  for (auto& o : fn.spec.serving->outputs) {
    if (o.type.empty()) o.type = host_->ComponentType(key, o.name);
  }
  fn.host_problems = problems;
  if (!problems.empty()) {
    fn.reason = "ComponentError";
    fn.message = problems;
  }
}

void FunctionManager::ReconcileGateway(const store::Object* obj) {
  api::Gateway g;
  g.domain = options_.domain;
  if (obj) {
    Json doc = {{"apiVersion", obj->api_version},
                {"kind", obj->kind},
                {"metadata", {{"name", obj->name}, {"namespace", obj->ns}}},
                {"spec", Json::parse(obj->spec_json.empty() ? "{}" : obj->spec_json)}};
    auto loaded = api::LoadManifests(doc.dump(), "store");
    if (loaded.ok() && !loaded->empty() && loaded->front().gateway) g = *loaded->front().gateway;
  }
  std::vector<gateway::RouteSpec> routes;
  {
    std::lock_guard lk(mu_);
    gateway_config_ = g;
    for (auto& [k, fn] : fns_) {
      routes.push_back(RouteFor(*fn));
      fn->status_dirty = true;
    }
  }
  for (auto& r : routes) gateway_->Upsert(r);
}

void FunctionManager::ReconcileComponent(const store::Object& obj, bool deleted) {
  if (!host_) return;
  std::string who = obj.ns + "/" + obj.name;
  if (deleted) {
    host_->RemoveComponent(obj.ns, obj.name);
    log::Info("component removed", {{"component", who}});
    return;
  }
  Status s = host_->ApplyComponent(obj.ns, obj.name, obj.spec_json, {});
  if (!s.ok()) {
    log::Error("component not served", {{"component", who}, {"error", s.message()}});
    return;
  }
  log::Info("component ready", {{"component", who}});
  // Functions of its namespace may have been waiting for it (never ask the
  // host while holding mu_: its consumer threads call OnDemand).
  std::vector<std::string> keys;
  {
    std::lock_guard lk(mu_);
    for (auto& [k, fn] : fns_) {
      if (fn->ns == obj.ns && fn->runnable) keys.push_back(k);
    }
  }
  for (const auto& k : keys) {
    std::string problems = host_->Problems(k);
    std::lock_guard lk(mu_);
    auto it = fns_.find(k);
    if (it == fns_.end() || it->second->host_problems == problems) continue;
    Fn& fn = *it->second;
    if (fn.reason == "ComponentError" || fn.reason.empty()) {
      fn.reason = problems.empty() ? "" : "ComponentError";
      fn.message = problems;
    }
    fn.host_problems = problems;
    fn.status_dirty = true;
  }
}

void FunctionManager::ServeFromImage(Fn& fn) {
  bool built = false;  // this spec's image is in the store
  std::string build_state;
  if (builds_) {
    std::lock_guard lk(mu_);
    auto prev = fns_.find(fn.key);
    bool same = prev != fns_.end() && prev->second->spec.build == fn.spec.build && prev->second->spec.image == fn.spec.image;
    build_state = same ? prev->second->build_state : "Created";
    built = fn.spec.build.is_null() ? builds_->layout().Resolve(fn.spec.image).ok() : build_state == "Succeeded";
    // A pull in flight goes on; a failed one is retried by a new generation.
    if (same && (prev->second->pull_state == "Pulling" || prev->second->generation == fn.generation)) {
      fn.pull_state = prev->second->pull_state;
      fn.pull_message = prev->second->pull_message;
      fn.build_generation = prev->second->build_generation;
    }
  }
  const bool pullable = fn.spec.build.is_null() && builds_ && NamesARegistry(fn.spec.image);
  if (!built && pullable && fn.pull_state == "Failed") {
    fn.state = "Failed";
    fn.reason = "ImagePullFailed";
    fn.message = fn.pull_message;
  } else if (!built && pullable) {
    fn.start_pull = fn.pull_state != "Pulling";
    fn.pull_state = "Pulling";
    fn.state = "Pending";
    fn.reason = "PullingImage";
    fn.message = "pulling " + fn.spec.image;
  } else if (!built && !fn.spec.build.is_null() && build_state != "Failed") {
    fn.state = "Pending";
    fn.reason = "WaitingForBuild";
    fn.message = "served once its image is built (see status.build)";
  } else if (!built) {
    fn.state = "Skipped";
    fn.reason = fn.spec.build.is_null() ? "ImageNotFound" : "BuildFailed";
    fn.message = fn.spec.build.is_null()
                     ? "image " + fn.spec.image + " is not in Ofn's image store: build it (spec.build) or give "
                       "serving.template.containers[function].command"
                     : "its image could not be built (see status.build)";
  } else if (!containers_) {
    fn.state = "Skipped";
    fn.reason = "NoContainerRuntime";
    fn.message = containers_problem_;
  } else if (auto rootfs = containers_->Prepare(builds_->layout(), fn.spec.image); !rootfs.ok()) {
    fn.state = "Failed";
    fn.reason = "ImageUnpackFailed";
    fn.message = rootfs.status().message();
  } else {
    fn.rootfs = std::move(*rootfs);
  }
}

void FunctionManager::StartBuild(const std::string& key, const store::Object& obj) {
  api::Function spec;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end() || it->second->generation != obj.generation) return;
    spec = it->second->spec;
  }
  BuildOutcome kept;
  Status started = Status::Ok();
  if (!builds_) {
    started = Status::Unavailable("the image store under " + options_.data_dir + " could not be opened (see the server log)");
  } else {
    Json status = Json::parse(obj.status_json.empty() ? "{}" : obj.status_json, nullptr, false);
    const Json* b = status.is_object() && status.contains("build") ? &status["build"] : nullptr;
    if (b && b->value("state", "") == "Succeeded" && status.value("observedGeneration", int64_t{-1}) == obj.generation &&
        status.contains("revision")) {
      auto tagged = builds_->layout().Resolve(spec.image);
      std::string digest = status["revision"].value("imageDigest", "");
      if (tagged.ok() && tagged->digest.str() == digest) {  // built before a restart, and still there
        kept.state = "Succeeded";
        kept.image = spec.image;
        kept.digest = digest;
      }
    }
    if (kept.state.empty()) started = builds_->Start(key, obj.generation, spec);
  }
  std::lock_guard lk(mu_);
  auto it = fns_.find(key);
  if (it == fns_.end() || it->second->generation != obj.generation) return;
  Fn& fn = *it->second;
  fn.build_generation = obj.generation;
  fn.build_reason.clear();
  fn.build_message.clear();
  if (!kept.state.empty()) {
    fn.build_state = kept.state;
    fn.build = kept;
    ServingFollowsBuild(fn);
  } else if (started.ok()) {
    fn.build_state = "Building";
  } else {
    fn.build_state = "Failed";
    fn.build_reason = started.code() == StatusCode::kInvalidArgument ? "InvalidBuild" : "BuildFailed";
    fn.build_message = started.message();
    ServingFollowsBuild(fn);
  }
  fn.status_dirty = true;
}

void FunctionManager::ServingFollowsBuild(Fn& fn) {
  if (!fn.spec.serving || !FromImage(fn.spec) || fn.rootfs) return;
  // Jobs run outside mu_ (held here): Reconcile takes it.
  jobs_.push_back([this, ns = fn.ns, name = fn.name] {
    if (auto obj = store_->Get("Function", ns, name); obj.ok()) Reconcile(*obj, true);
  });
  cv_.notify_all();
}

void FunctionManager::StartPull(const std::string& key, int64_t generation) {
  std::string image, creds;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end() || it->second->generation != generation) return;
    it->second->build_generation = generation;
    image = it->second->spec.image;
    creds = it->second->spec.image_credentials;
  }
  Status s = builds_->StartPull(key, generation, image, creds);
  if (!s.ok()) OnBuildDone(key, generation, {.state = "Failed", .reason = "PullFailed", .message = s.message(), .pull = true});
}

void FunctionManager::OnBuildDone(const std::string& key, int64_t generation, const BuildOutcome& outcome) {
  // On the worker, after whatever StartBuild or Reconcile is doing now.
  Enqueue([this, key, generation, outcome] {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end() || it->second->build_generation != generation) return;
    Fn& fn = *it->second;
    if (outcome.pull) {
      fn.pull_state = outcome.state == "Succeeded" ? "Pulled" : "Failed";
      fn.pull_message = outcome.message;
      fn.status_dirty = true;
      ServingFollowsBuild(fn);
      return;
    }
    fn.build_state = outcome.state;
    fn.build_reason = outcome.reason;
    fn.build_message = outcome.message;
    fn.build = outcome;
    fn.status_dirty = true;
    ServingFollowsBuild(fn);
  });
}

Status FunctionManager::Rebuild(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  api::Function spec;
  int64_t generation;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end()) return Status::NotFound("Function \"" + key + "\" not found");
    if (it->second->spec.build.is_null()) return Status::FailedPrecondition("Function \"" + key + "\" has no spec.build");
    spec = it->second->spec;
    generation = it->second->generation;
  }
  if (!builds_) return Status::Unavailable("the image store could not be opened (see the server log)");
  if (builds_->Busy(key)) return Status::Ok();  // already building: that build is the answer
  Status s = builds_->Start(key, generation, spec);
  std::lock_guard lk(mu_);
  auto it = fns_.find(key);
  if (it == fns_.end() || it->second->generation != generation) return s;
  Fn& fn = *it->second;
  fn.build_generation = generation;
  fn.build_state = s.ok() ? "Building" : "Failed";
  fn.build_reason = s.ok() ? "" : "InvalidBuild";
  fn.build_message = s.ok() ? "" : s.message();
  fn.status_dirty = true;
  cv_.notify_all();
  return s;
}

Status FunctionManager::CancelBuild(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  {
    std::lock_guard lk(mu_);
    if (fns_.find(key) == fns_.end()) return Status::NotFound("Function \"" + key + "\" not found");
  }
  if (!builds_) return Status::NotFound("no build of " + key + " is queued or running");
  return builds_->Cancel(key);
}

Result<BuildLogRead> FunctionManager::BuildLogs(const std::string& ns, const std::string& name, uint64_t offset,
                                                std::chrono::milliseconds wait) {
  const std::string key = ns + "/" + name;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end()) return Status::NotFound("Function \"" + key + "\" not found");
    if (it->second->spec.build.is_null()) return Status::NotFound("Function \"" + key + "\" has no spec.build");
  }
  if (!builds_) return Status::NotFound("no build log for " + key);
  return builds_->ReadLog(key, offset, wait);
}

void FunctionManager::Forget(const std::string& key) {
  if (builds_) (void)builds_->Cancel(key);
  std::vector<runtime::InstanceId> ids;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end()) return;
    for (const auto& [id, inst] : it->second->instances) ids.push_back(id);
    fns_.erase(it);
  }
  gateway_->Remove(key);
  if (host_) host_->RemoveFunction(key);
  for (auto id : ids) (void)runtime_->Stop(id, false);
  log::Info("function deleted", {{"function", key}});
}

void FunctionManager::OnDemand(const std::string& key) {
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end()) return;
    if (!it->second->demand_since) it->second->demand_since = Clock::now();
  }
  cv_.notify_all();
}

void FunctionManager::OnConcurrency(const std::string& key, int concurrency) {
  bool urgent = false;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end() || !it->second->kpa) return;
    urgent = it->second->kpa->RecordConcurrency(Clock::now(), concurrency);
  }
  if (urgent) cv_.notify_all();
}

void FunctionManager::Scale(Fn& fn_ref, Clock::time_point now, bool urgent) {
  std::vector<runtime::InstanceId> to_stop;
  int to_start = 0;
  std::string key = fn_ref.key;
  int64_t backlog = 0;
  bool async;
  {
    std::lock_guard lk(mu_);
    async = fn_ref.async;
  }
  std::vector<components::InputStats> inputs;
  if (async && host_) {  // asks brokers: not under mu_
    inputs = host_->Inputs(key);
    backlog = host_->Backlog(key);
  }
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end() || it->second.get() != &fn_ref) return;
    Fn& fn = *it->second;
    if (!fn.runnable || (!fn.kpa && !fn.keda)) return;
    // A crash loop stops here until the Function changes (starting more
    // copies of a program that keeps dying only burns the machine); an
    // instance that could not even start is tried again on a tick a second later.
    if (fn.Blocked(now)) return;
    int desired;
    std::string reason;
    if (fn.async) {
      if (urgent) fn.keda->Activate(now);
      std::vector<autoscaler::KedaMeasurement> m;
      for (const auto& t : fn.keda->config().triggers) {
        std::string topic = TriggerTopic(t);
        double v = static_cast<double>(backlog);
        for (const auto& in : inputs) {
          if (!topic.empty() && in.topic == topic && in.backlog >= 0) v = static_cast<double>(in.backlog);
        }
        m.push_back(autoscaler::KedaMeasurement::Of(v));
      }
      autoscaler::KedaDecision d = fn.keda->Decide(now, std::chrono::system_clock::now(), m);
      desired = d.replicas;
      reason = d.reason;
    } else {
      if (urgent) fn.kpa->RecordConcurrency(now, 1);
      autoscaler::Decision d = fn.kpa->Decide(now, fn.Ready());
      desired = d.desired;
      reason = d.reason;
    }
    if (fn.demand_since && desired < 1) desired = 1;  // someone is waiting
    if (desired != fn.desired) {
      log::Debug("scale", {{"function", key}, {"desired", std::to_string(desired)}, {"reason", reason}});
      fn.desired = desired;
      fn.status_dirty = true;
    }
    int live = fn.Live();
    if (live < desired) {
      to_start = desired - live;
    } else if (live > desired) {
      // Newest first: the oldest are warm.
      for (auto r = fn.instances.rbegin(); r != fn.instances.rend() && live > desired; ++r) {
        if (Fn::Alive(r->second.state)) {
          to_stop.push_back(r->first);
          --live;
        }
      }
    }
  }
  for (int i = 0; i < to_start; ++i) StartInstance(fn_ref);
  if (!to_stop.empty()) {
    {
      std::lock_guard lk(mu_);
      auto it = fns_.find(key);
      if (it != fns_.end()) {
        for (auto id : to_stop) {
          it->second->instances.erase(id);
          it->second->retired.push_back(id);
        }
        PublishEndpoints(*it->second);
      }
    }
    for (auto id : to_stop) (void)runtime_->Stop(id, false);
  }
}

void FunctionManager::StartInstance(Fn& fn_ref) {
  runtime::InstanceSpec spec;
  std::string key;
  std::optional<container::Rootfs> rootfs;
  Network network = Network::kHost;
  std::vector<std::string> command, args;
  {
    std::lock_guard lk(mu_);
    const api::Function& f = fn_ref.spec;
    key = fn_ref.key;
    static const api::FunctionContainer kNone;
    const api::FunctionContainer& c = f.serving->container ? *f.serving->container : kNone;
    spec.name = key;
    spec.argv = c.command;
    spec.argv.insert(spec.argv.end(), c.args.begin(), c.args.end());
    std::string pod = fn_ref.name + "-" + std::to_string(++fn_ref.instance_seq);
    spec.env = InstanceEnv(f, pod, options_.platform);
    spec.env.emplace_back("APP_ID", fn_ref.name);
    if (!fn_ref.api_token.empty()) spec.env.emplace_back("DAPR_API_TOKEN", fn_ref.api_token);
    spec.working_dir = c.working_dir;
    std::string dir = options_.data_dir + "/logs/" + fn_ref.ns + "/" + fn_ref.name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    spec.log_path = dir + "/" + pod + ".log";
    spec.log_cap_bytes = 4 << 20;
    if (c.resources.limits.memory_bytes) spec.resources.memory_bytes = *c.resources.limits.memory_bytes;
    if (c.resources.limits.cpu_millis) spec.resources.cpu_millis = *c.resources.limits.cpu_millis;
    std::string readiness = "tcp";
    if (auto a = f.annotations.find(kReadinessAnnotation); a != f.annotations.end()) readiness = a->second;
    if (readiness == "socket") {
      spec.readiness.kind = runtime::Readiness::Kind::kInheritedSocket;
    } else if (readiness.rfind("http:", 0) == 0) {
      spec.readiness.kind = runtime::Readiness::Kind::kHttp;
      spec.readiness.http_path = readiness.substr(5).empty() ? "/" : readiness.substr(5);
    } else {
      spec.readiness.kind = runtime::Readiness::Kind::kTcp;
    }
    rootfs = fn_ref.rootfs;
    network = NetworkOf(f);
    command = c.command;
    args = c.args;
  }
  Result<runtime::InstanceId> id = Status::Internal("not started");
  Status configured = rootfs ? containers_->Configure(*rootfs, command, args, network, &spec) : Status::Ok();
  if (configured.ok()) id = runtime_->Start(spec);
  else id = configured;
  // Callbacks that came before we knew the id were dropped: read the state
  // (outside mu_: the runtime's thread may be waiting for it in a callback).
  runtime::InstanceState first;
  if (id.ok()) {
    if (auto st = runtime_->State(*id); st.ok()) first = *st;
  }
  std::lock_guard lk(mu_);
  auto it = fns_.find(key);
  if (it == fns_.end() || it->second.get() != &fn_ref) {
    if (id.ok()) (void)runtime_->Stop(*id, false);
    return;
  }
  Fn& fn = *it->second;
  if (!id.ok()) {
    fn.state = "Failed";
    fn.reason = "StartFailed";
    fn.start_failed_at = Clock::now();
    fn.message = id.status().message();
    fn.status_dirty = true;
    log::Error("instance did not start", {{"function", key}, {"error", id.status().message()}});
    return;
  }
  instance_owner_[*id] = key;
  Fn::Inst inst{first, Clock::now()};
  fn.instances[*id] = inst;
  fn.status_dirty = true;
  if (inst.state.phase == runtime::Phase::kReady) PublishEndpoints(fn);
}

void FunctionManager::OnInstanceChange(runtime::InstanceId id, const runtime::InstanceState& st) {
  std::lock_guard lk(mu_);
  auto owner = instance_owner_.find(id);
  if (owner == instance_owner_.end()) return;  // StartInstance picks the state up itself
  auto it = fns_.find(owner->second);
  if (it == fns_.end()) {
    instance_owner_.erase(owner);
    return;
  }
  Fn& fn = *it->second;
  auto inst = fn.instances.find(id);
  if (inst == fn.instances.end()) return;  // being stopped
  runtime::Phase before = inst->second.state.phase;
  inst->second.state = st;
  if (st.phase == runtime::Phase::kFailed) {
    fn.state = "Failed";
    fn.reason = "CrashLoop";
    fn.message = st.reason;
    fn.instances.erase(inst);
    fn.retired.push_back(id);
  } else if (st.phase == runtime::Phase::kReady && fn.state == "Failed" &&
             (fn.reason == "CrashLoop" || fn.reason == "StartFailed")) {
    fn.state = "Running";
    fn.reason.clear();
    fn.message.clear();
  }
  if (before != st.phase) {
    PublishEndpoints(fn);
    fn.status_dirty = true;
  }
}

void FunctionManager::PublishEndpoints(Fn& fn) {
  std::vector<gateway::Endpoint> ready;
  for (const auto& [id, inst] : fn.instances) {
    if (inst.state.phase == runtime::Phase::kReady && inst.state.port > 0) {
      ready.push_back(gateway::Endpoint{"127.0.0.1", inst.state.port});
    }
  }
  if (!ready.empty() && fn.demand_since) {
    double secs = std::chrono::duration<double>(Clock::now() - *fn.demand_since).count();
    fn.demand_since.reset();
    ++fn.cold_starts;
    fn.cold_seconds_sum += secs;
    for (size_t i = 0; i < std::size(kColdBuckets); ++i) {
      if (secs <= kColdBuckets[i]) ++fn.cold_buckets[i];
    }
  }
  if (!fn.async) {
    gateway_->SetEndpoints(fn.key, std::move(ready));
    return;
  }
  if (!host_) return;
  std::vector<components::Endpoint> endpoints;
  for (const auto& [id, inst] : fn.instances) {
    if (inst.state.phase == runtime::Phase::kReady && inst.state.port > 0) {
      endpoints.push_back(components::Endpoint{fn.name + "-" + std::to_string(id), "127.0.0.1", inst.state.port});
    }
  }
  // The host may call the instance (GET /dapr/subscribe) and OnDemand: not
  // under mu_, so the worker does it, in order.
  jobs_.push_back([this, key = fn.key, endpoints = std::move(endpoints)]() mutable {
    host_->SetEndpoints(key, std::move(endpoints));
  });
  cv_.notify_all();
}

void FunctionManager::WriteStatus(Fn& fn_ref) {
  Json status;
  std::string key, ns, name;
  int64_t generation;
  {
    std::lock_guard lk(mu_);
    Fn& fn = fn_ref;
    key = fn.key;
    ns = fn.ns;
    name = fn.name;
    generation = fn.generation;
    gateway::RouteSpec route = RouteFor(fn);
    Json addresses = Json::array();
    int port = options_.gateway_port;
    for (const auto& h : route.hosts) {
      addresses.push_back({{"type", "External"}, {"value", "http://" + h + ":" + std::to_string(port) + "/"}});
    }
    for (const auto& p : route.path_prefixes) {
      addresses.push_back({{"type", "Internal"},
                           {"value", "http://" + options_.gateway_url_host + ":" + std::to_string(port) + p + "/"}});
    }
    Json build = {{"state", fn.build_state}};
    if (!fn.build_reason.empty()) build["reason"] = fn.build_reason;
    if (!fn.build_message.empty()) build["message"] = fn.build_message;
    // OpenFunction names its Builder resource here (the BUILDER column): Ofn, the strategy that built it.
    if (!fn.build.strategy.empty()) build["resourceRef"] = fn.build.strategy;
    if (fn.build_state == "Succeeded" || fn.build_state == "Failed") {
      if (fn.build.duration.count() > 0) build["buildDuration"] = FormatDuration(fn.build.duration);
    }
    status = {{"observedGeneration", generation},
              {"build", build},
              {"serving",
               {{"state", fn.state == "Running" && fn.desired > 0 && fn.Ready() == 0 ? "Starting" : fn.state},
                {"reason", fn.reason},
                {"message", fn.message},
                {"resourceRef", fn.ns + "-" + fn.name},
                {"service", fn.name},
                {"replicas", fn.desired},
                {"readyReplicas", fn.Ready()},
                {"lastTransitionTime", Now3339()}}},
              {"addresses", fn.runnable && !fn.async ? addresses : Json::array()}};
    if (!fn.build.digest.empty()) status["revision"] = {{"imageDigest", fn.build.digest}};
    if (!fn.build.revision.empty()) {
      status["sources"] = Json::array({{{"name", "default"}, {"git", {{"commitSha", fn.build.revision}}}}});
    }
  }
  Status s = store_->UpdateStatus("Function", ns, name, status.dump(), generation);
  if (!s.ok() && s.code() != StatusCode::kNotFound && s.code() != StatusCode::kFailedPrecondition) {
    log::Warn("cannot write status", {{"function", key}, {"error", s.message()}});
  }
}

Result<LogRead> FunctionManager::Logs(const std::string& ns, const std::string& name, const std::string& instance,
                                      std::optional<uint64_t> offset, std::chrono::milliseconds wait) {
  std::string key = ns + "/" + name;
  LogRead out;
  runtime::InstanceId chosen = 0;
  {
    std::lock_guard lk(mu_);
    auto it = fns_.find(key);
    if (it == fns_.end()) return Status::NotFound("Function \"" + key + "\" not found");
    std::vector<runtime::InstanceId> ids = it->second->retired;
    for (const auto& [id, inst] : it->second->instances) ids.push_back(id);
    for (auto id : ids) out.instances.push_back(std::to_string(id));
    if (ids.empty()) return Status::NotFound("Function \"" + key + "\" has no instance yet (it is scaled to zero)");
    chosen = ids.back();
    if (!instance.empty()) {
      auto found = std::find(out.instances.begin(), out.instances.end(), instance);
      if (found == out.instances.end()) return Status::NotFound("no instance \"" + instance + "\" of " + key);
      chosen = ids[found - out.instances.begin()];
    }
  }
  out.instance = std::to_string(chosen);
  uint64_t from = offset.value_or(0);
  if (!offset) {
    // Default: the last 64 KiB.
    auto probe = runtime_->ReadLog(chosen, ~uint64_t{0} >> 1, 0);
    if (probe.ok() && probe->next_offset > (64u << 10)) from = probe->next_offset - (64u << 10);
  }
  auto chunk = runtime_->ReadLog(chosen, from, 1 << 20, wait.count() > 0 ? Clock::now() + wait : Clock::time_point{});
  if (!chunk.ok()) return chunk.status();
  out.data = std::move(chunk->data);
  out.next_offset = chunk->next_offset;
  return out;
}

std::string FunctionManager::Metrics() {
  std::string events = host_ ? host_->Metrics() : "";  // before mu_ (lock order)
  std::ostringstream m;
  std::lock_guard lk(mu_);
  m << "# HELP ofn_replicas Instances the autoscaler wants.\n# TYPE ofn_replicas gauge\n";
  for (const auto& [k, fn] : fns_) {
    m << "ofn_replicas{namespace=\"" << fn->ns << "\",function=\"" << fn->name << "\"} " << fn->desired << "\n";
  }
  m << "# HELP ofn_ready_replicas Instances ready to serve.\n# TYPE ofn_ready_replicas gauge\n";
  for (const auto& [k, fn] : fns_) {
    m << "ofn_ready_replicas{namespace=\"" << fn->ns << "\",function=\"" << fn->name << "\"} " << fn->Ready() << "\n";
  }
  m << "# HELP ofn_cold_starts_total Requests that found no instance and waited for one to start.\n"
       "# TYPE ofn_cold_starts_total counter\n";
  for (const auto& [k, fn] : fns_) {
    m << "ofn_cold_starts_total{namespace=\"" << fn->ns << "\",function=\"" << fn->name << "\"} " << fn->cold_starts
      << "\n";
  }
  m << "# HELP ofn_cold_start_duration_seconds From the first waiting request to a ready instance.\n"
       "# TYPE ofn_cold_start_duration_seconds histogram\n";
  for (const auto& [k, fn] : fns_) {
    std::string labels = "namespace=\"" + fn->ns + "\",function=\"" + fn->name + "\"";
    for (size_t i = 0; i < std::size(kColdBuckets); ++i) {
      m << "ofn_cold_start_duration_seconds_bucket{" << labels << ",le=\"" << kColdBuckets[i] << "\"} "
        << fn->cold_buckets[i] << "\n";
    }
    m << "ofn_cold_start_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << fn->cold_starts << "\n";
    m << "ofn_cold_start_duration_seconds_sum{" << labels << "} " << fn->cold_seconds_sum << "\n";
    m << "ofn_cold_start_duration_seconds_count{" << labels << "} " << fn->cold_starts << "\n";
  }
  m << events;
  return m.str();
}

}  // namespace ofn::server

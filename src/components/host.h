// ComponentHost: Ofn's "sidecar" for every function at once.
//
// It turns Dapr Component specs (standalone `dapr.io/v1alpha1` Components and
// the inline `serving.bindings|pubsub|states` of Functions) into live
// components through the Registry, and for each function:
//   - an API scope: the components the function may use through Dapr's HTTP
//     API (its inline ones, and the standalone ones of its namespace whose
//     `scopes` admit it), reached with a token of its own that its instances
//     get as DAPR_API_TOKEN;
//     Requests without a token get the standalone Components of namespace
//     "default" (unscoped ones), as a Dapr sidecar without DAPR_API_TOKEN
//     would serve any local caller;
//   - one consumer per input (`serving.triggers.dapr`): a binding read or a
//     topic subscription, whose events a Deliverer pushes to the function's
//     instances following Dapr's app-callback conventions. Pub/sub routes and
//     dead-letter topics come from the app's GET /dapr/subscribe, asked once
//     per function generation when its first instance is ready.
// Consumers run even while a function has no instance: an arriving event
// calls the function's on_demand hook, so it scales from zero at once.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "autoscaler/clock.h"
#include "components/dapr_api.h"
#include "components/delivery.h"
#include "components/registry.h"

namespace ofn::components {

struct FunctionInput {
  std::string component;  // the component's name
  std::string type;       // its Dapr type as the trigger states it (may be empty)
  std::string topic;      // pub/sub only
  std::string name;       // the input's name in FUNC_CONTEXT
};

struct FunctionComponents {
  std::string ns;
  std::string name;  // also the Dapr app id
  // Inline component specs, name -> Dapr ComponentSpec JSON text.
  std::map<std::string, std::string> inline_specs;
  std::vector<FunctionInput> inputs;
  size_t per_instance = 16;    // calls in flight per instance
  size_t max_in_flight = 256;  // events read and not yet acked, per input; 1 keeps the broker's order
  RetryPolicy retry;
  std::function<void()> on_demand;  // events wait and no instance runs

  std::string key() const { return ns + "/" + name; }
};

struct InputStats {
  std::string component, topic;
  int64_t backlog = -1;  // -1: the broker could not be asked
};

class ComponentHost {
 public:
  struct Options {
    std::string data_dir;  // components keep files under data_dir/components/<ns>/<name>
    const Registry* registry = nullptr;
    DaprApi* api = nullptr;
    const autoscaler::Clock* clock = &autoscaler::SystemClock::Get();
    // How often inputs' backlogs are measured in the background (brokers may
    // be slow to answer; the scaler reads the last values). 0: only when
    // RefreshBacklogs() is called.
    std::chrono::milliseconds backlog_interval{1000};
    // Where the embedded bus of EventBus `bus` (as seen from namespace ns)
    // keeps its data: a pubsub.ofn component with metadata `eventBus: NAME`
    // shares it. Null: such components are refused.
    std::function<Result<std::string>(const std::string& ns, const std::string& bus)> event_bus_dir;
  };

  explicit ComponentHost(Options options);
  ~ComponentHost();  // stops every consumer; events in flight stay with their brokers

  // A standalone Component: created (or replaced) and offered to the
  // functions of its namespace (all, or those named in `scopes`).
  Status ApplyComponent(const std::string& ns, const std::string& name, const std::string& spec_json,
                        std::vector<std::string> scopes);
  void RemoveComponent(const std::string& ns, const std::string& name);

  // Creates or replaces what the function uses. Returns the API token its
  // instances must get as DAPR_API_TOKEN (stable across re-applies). An error
  // names the component or input at fault; the function keeps what worked.
  Result<std::string> ApplyFunction(FunctionComponents function);
  void RemoveFunction(const std::string& key);
  // The function's ready instances (empty at zero).
  void SetEndpoints(const std::string& key, std::vector<Endpoint> endpoints);

  // Sum of the inputs' last measured backlogs (broker lag + unacked), with
  // what the Deliverer holds when a broker could not be asked. 0 for unknown
  // functions. Never waits for a broker.
  int64_t Backlog(const std::string& key);
  std::vector<InputStats> Inputs(const std::string& key);
  // Measures every input's backlog now (the poller does this periodically).
  void RefreshBacklogs();
  // The Dapr type of a component the function sees ("" if none by that name).
  std::string ComponentType(const std::string& key, const std::string& component);
  // The API token of the function's instances ("" for unknown functions).
  std::string Token(const std::string& key);
  // Problems of the last ApplyFunction/ApplyComponent for this function ("" if none).
  std::string Problems(const std::string& key);
  // Prometheus text: per-function delivery outcomes.
  std::string Metrics();

 private:
  struct Live;       // one created component
  struct Consumer;   // one input of one function
  struct Function;   // one function's scope, deliverer and consumers

  Result<std::shared_ptr<Live>> Instantiate(const std::string& ns, const std::string& name, const std::string& spec,
                                            const std::string& app_id);
  void Rebuild(Function& fn);  // under mu_
  void RebuildAnonymous();     // under mu_
  static std::shared_ptr<const ApiScope> ScopeOf(const std::string& app_id, const std::string& ns,
                                                 const std::map<std::string, std::shared_ptr<Live>>& components);
  static constexpr const char* kAnonymousNamespace = "default";
  void FetchRoutes(Function& fn, const Endpoint& endpoint);
  void PollBacklogs();

  Options options_;
  std::mutex mu_;
  struct Standalone {
    std::string spec_json;
    std::vector<std::string> scopes;
  };
  std::map<std::string, Standalone> standalone_;           // "ns/name"
  std::map<std::string, std::shared_ptr<Function>> functions_;  // "ns/name"
  std::map<std::string, std::shared_ptr<Live>> anonymous_;      // the token-less scope

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_stop_ = false;
  std::thread poller_;
};

}  // namespace ofn::components

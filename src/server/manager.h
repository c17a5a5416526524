// FunctionManager: turns stored Functions into served ones.
//
// It reconciles each Function (and the Gateway resource's domain and
// templates) into a gateway route, runs the KPA autoscaler on the gateway's
// concurrency signal, starts and stops instances in the process runtime to
// match, publishes ready instances to the gateway, and writes OpenFunction
// status back to the store. A request arriving at zero instances wakes it at
// once (OnDemand), so the first request waits only for one process start.
//
// Threads: one worker thread does the reconciling and scaling; the gateway,
// the runtime and the store call in from theirs and only hand work over.
// Every public method is thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/function.h"
#include "api/gateway.h"
#include "autoscaler/keda_scaler.h"
#include "autoscaler/kpa.h"
#include "autoscaler/kpa_defaults.h"
#include "components/host.h"
#include "gateway/gateway.h"
#include "runtime/process_runtime.h"
#include "server/build_controller.h"
#include "server/container_launcher.h"
#include "server/instance_env.h"
#include "store/store.h"

namespace ofn::server {

struct ManagerOptions {
  std::string data_dir;
  std::string gateway_url_host = "127.0.0.1";  // for the Internal address
  int gateway_port = 8080;
  std::string domain = "ofn.local";  // when no Gateway resource sets one
  autoscaler::KpaDefaults kpa = autoscaler::KpaDefaults::Ofn();
  PlatformEndpoints platform;
  std::chrono::milliseconds tick{500};
  // Directories of programs standing in for images (ofn server --local-images).
  std::vector<std::string> local_images;
  // Where Ofn's SDK is installed, for C++ builds (empty: they fail saying so).
  std::string sdk_prefix;
  // The OCI runtime for functions served from images: "crun", "runc", ""
  // (crun where it runs, else runc), or "none".
  std::string container_runtime;
};

struct LogRead {
  std::string data;
  uint64_t next_offset = 0;
  std::string instance;
  std::vector<std::string> instances;
};

class FunctionManager : public gateway::GatewayListener {
 public:
  // `host` (may be null: then no component is served) runs Components and
  // the functions' inputs, and scopes Dapr's API for each function.
  FunctionManager(ManagerOptions options, store::Store* store, runtime::ProcessRuntime* runtime,
                  gateway::Gateway* gateway, components::ComponentHost* host = nullptr);
  ~FunctionManager() override;

  // Loads every stored Function and starts the worker.
  Status Start();
  // Stops every instance (SIGTERM, then SIGKILL after their grace) and the worker.
  void Stop();

  void OnDemand(const std::string& key) override;
  void OnConcurrency(const std::string& key, int concurrency) override;

  Result<LogRead> Logs(const std::string& ns, const std::string& name, const std::string& instance,
                       std::optional<uint64_t> offset, std::chrono::milliseconds wait);
  // The function's latest build log (see BuildController::ReadLog).
  Result<BuildLogRead> BuildLogs(const std::string& ns, const std::string& name, uint64_t offset,
                                 std::chrono::milliseconds wait);
  // Builds the function again (ignoring a finished build; the content cache
  // still applies); FailedPrecondition when it has no spec.build.
  Status Rebuild(const std::string& ns, const std::string& name);
  // Cancels its build; NotFound when none is queued or running.
  Status CancelBuild(const std::string& ns, const std::string& name);
  // Prometheus text for the functions' replicas and cold starts.
  std::string Metrics();
  // The URL a Function is called at through the gateway ("http://127.0.0.1:
  // 8080/default/hello/"), for event sinks; NotFound when there is none.
  Result<std::string> FunctionUrl(const std::string& ns, const std::string& name);

  struct Fn;

 private:
  void Worker();
  void Enqueue(std::function<void()> job);
  // `force`: also when the generation is the one being served (a build ended).
  void Reconcile(const store::Object& obj, bool force = false);
  void ReconcileGateway(const store::Object* obj);
  void ReconcileComponent(const store::Object& obj, bool deleted);
  void Forget(const std::string& key);
  void Scale(Fn& fn, std::chrono::steady_clock::time_point now, bool urgent);
  void StartInstance(Fn& fn);
  void OnInstanceChange(runtime::InstanceId id, const runtime::InstanceState& st);
  void PublishEndpoints(Fn& fn);  // under mu_
  // Gives the function's components to the host; sets fn's api token and problems.
  void ApplyComponents(Fn& fn);
  void WriteStatus(Fn& fn);
  // Sets fn.rootfs when fn (without a command) can be served from its image,
  // else its serving state and why.
  void ServeFromImage(Fn& fn);
  // Starts the build of the function stored as `obj` (or, after a restart,
  // takes the image its status says this generation already built).
  void StartBuild(const std::string& key, const store::Object& obj);
  // Pulls the function's image into the store (it is served from it).
  void StartPull(const std::string& key, int64_t generation);
  // Under mu_: a function served from its image is reconciled again once
  // its build has ended (it may now run, or say why not).
  void ServingFollowsBuild(Fn& fn);
  void OnBuildDone(const std::string& key, int64_t generation, const BuildOutcome& outcome);
  gateway::RouteSpec RouteFor(const Fn& fn) const;

  ManagerOptions options_;
  store::Store* store_;
  runtime::ProcessRuntime* runtime_;
  gateway::Gateway* gateway_;
  components::ComponentHost* host_;
  std::unique_ptr<BuildController> builds_;  // null when the image store cannot be opened
  std::unique_ptr<ContainerLauncher> containers_;  // null: no OCI runtime (why: containers_problem_)
  std::string containers_problem_;
  uint64_t subscription_ = 0;

  std::mutex mu_;  // everything below
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::map<std::string, std::unique_ptr<Fn>> fns_;              // key "ns/name"
  std::map<runtime::InstanceId, std::string> instance_owner_;  // instance -> key
  api::Gateway gateway_config_;
  std::thread worker_;
  std::thread::id worker_id_;
};

}  // namespace ofn::server

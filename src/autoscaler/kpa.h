// KpaScaler: Knative's Pod Autoscaler for one function, on one machine. It
// turns the load the gateway observes into the number of instances to run
// (fact sheet §1.4-§1.7): averages of concurrency (or requests per second)
// over a stable and a panic window, a desired count of ceil(load / target)
// bounded by scale-up/down rates, panic mode for spikes, scale-down delay,
// min/max/initial/activation scale, and scale to zero after a grace period.
//
// It merges Knative's decider with the part of the KPA reconciler that picks
// replicas, so Decide() returns the count to run. There is no scraping: the
// gateway sees every request and is at once Knative's queue-proxy and
// activator. It calls RecordConcurrency() whenever a function's in-flight
// count changes and RecordRequest() on each arrival; the scaler integrates
// them into one time-weighted report per second, as a queue-proxy does. It
// calls Decide() on a tick (Knative ticks every 2 s; a shorter tick reacts
// sooner and changes no result otherwise), and at once whenever a Record call
// returns true: load arrived while the function is at zero (Knative's "poke").
//
// Where one machine differs from a cluster: every function is reachable (no
// traffic split), so min-scale always applies; the gateway is always in the
// request path, so Knative's Serve/Proxy switch and activator probe have no
// counterpart and the excess burst capacity is reported for the gateway to
// use as it sees fit; with no instance ready, quiet seconds are not recorded
// (nothing to scrape), so the first burst after a long idle is averaged over
// its own seconds, as in Knative.
//
// Times come from the caller (from an injected Clock), so tests are
// deterministic. Not thread-safe: the caller serialises all calls, e.g. on
// the gateway's event loop or under the function's mutex.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "autoscaler/kpa_config.h"
#include "autoscaler/max_window.h"
#include "autoscaler/metric_window.h"

namespace ofn::autoscaler {

// Knative's PodAutoscaler "Active" condition, as Ofn tracks it.
enum class Activity {
  kActivating,  // instances wanted but fewer ready than needed
  kActive,      // enough instances ready
  kInactive,    // idle: on its way to zero, or at zero
};
const char* ActivityName(Activity a);  // "Activating", "Active", "Inactive"

struct Decision {
  int desired = 0;     // instances to run
  bool panic = false;  // in panic mode: never scales down
  Activity activity = Activity::kActivating;
  double stable_value = 0;  // observed load over the stable window (concurrency or rps)
  double panic_value = 0;   // ... and over the panic window
  // §1.5 step 10: spare capacity beyond the burst the function must absorb;
  // negative means the activator (the gateway's queue) should stay in the path.
  double excess_burst_capacity = 0;
  std::string reason;  // one line for logs and `ofn describe`
};

class KpaScaler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `ready_pods` is the count already running when the scaler is created (say
  // after a server restart): with more than one, the scaler starts in panic so
  // that an empty history cannot scale them down.
  KpaScaler(KpaConfig config, TimePoint now, int ready_pods = 0);

  // The function now has `in_flight` requests (queued or being served).
  // Returns true when Decide() should run now: load arrived at zero.
  bool RecordConcurrency(TimePoint now, int in_flight);
  // One request arrived (the rps metric counts these). Returns as above.
  bool RecordRequest(TimePoint now);

  // One autoscaling step with `ready_pods` instances ready to serve.
  Decision Decide(TimePoint now, int ready_pods);

  // The instance count last decided; before the first Decide(), the count to
  // start with (initial-scale, at least min-scale, at most max-scale).
  int desired() const { return desired_; }
  bool panicking() const { return panicking_; }
  Activity activity() const { return activity_; }
  const KpaConfig& config() const { return config_; }

 private:
  // Integrates the in-flight level up to `now`, reporting each completed second.
  void Advance(TimePoint now);
  void Report(TimePoint at, double concurrency, double requests);
  bool MaybePoke(TimePoint now);
  // §1.5: the decider's count, or -1 when there is no data to decide on.
  int DeciderStep(TimePoint now, int ready, Decision& d, std::string& why);
  // §1.6: bounds and scale to zero; -1 leaves the count unchanged.
  int ReconcileStep(TimePoint now, int ready, int want, std::string& why);
  void UpdateActivity(TimePoint now, int ready, int scale);
  void SetActivity(TimePoint now, Activity a);

  KpaConfig config_;
  MetricWindow stable_concurrency_, panic_concurrency_, stable_rps_, panic_rps_;
  std::optional<MaxWindow> scale_down_delay_;

  // Load integration: the in-flight level since `cursor_`, and what the
  // current second has accumulated so far.
  int level_ = 0;
  TimePoint cursor_;
  double area_ = 0;  // request-seconds in the current second, up to cursor_
  double arrivals_ = 0;
  int ready_ = 0;  // as of the last Decide: with instances up, quiet seconds report 0
  bool poked_ = false;

  // Decider state (§1.5).
  bool panicking_ = false;
  TimePoint panic_time_;
  int max_panic_pods_ = 0;
  double excess_burst_capacity_ = 0;

  // Reconciler state (§1.6).
  Activity activity_ = Activity::kActivating;
  TimePoint activity_since_;
  bool initialized_ = false;  // ready reached the activation threshold once
  int desired_ = 0;
};

}  // namespace ofn::autoscaler

// KpaDefaults: the cluster-wide autoscaler settings that per-function
// annotations fall back to, i.e. Knative's ConfigMap `config-autoscaler`
// (fact sheet §1.1) plus the two settings the KPA reads from `config-defaults`
// and `config-deployment`. Field names follow the ConfigMap keys.
//
// Knative() holds Knative's defaults. Ofn() is what `ofn server` uses: the
// same, except that an idle function goes back to zero sooner (see Ofn()).
// The semantics of every field are Knative's in both. A plain value; copy
// freely. Validate() is a pure function.
#pragma once

#include <chrono>
#include <string>

#include "ofn/status.h"

namespace ofn::autoscaler {

inline constexpr const char* kKpaClass = "kpa.autoscaling.knative.dev";
inline constexpr const char* kHpaClass = "hpa.autoscaling.knative.dev";

struct KpaDefaults {
  using Duration = std::chrono::nanoseconds;

  std::string pod_autoscaler_class = kKpaClass;
  bool enable_scale_to_zero = true;  // false: a desired scale of 0 becomes 1
  bool allow_zero_initial_scale = false;
  int initial_scale = 1;
  int min_scale = 0;
  int max_scale = 0;        // 0 = unbounded
  int max_scale_limit = 0;  // 0 = no limit on the max-scale annotation
  double max_scale_up_rate = 1000.0;
  double max_scale_down_rate = 2.0;
  // As written in the ConfigMap: above 1 it is a percentage (70 = 0.7), in
  // (0, 1] a fraction (legacy spelling). Use ContainerConcurrencyTargetFraction().
  double container_concurrency_target_percentage = 70;
  double container_concurrency_target_default = 100;  // per-instance total when containerConcurrency = 0
  double requests_per_second_target_default = 200;
  double target_burst_capacity = 211;  // -1 = unlimited
  Duration stable_window = std::chrono::seconds(60);
  double panic_window_percentage = 10;
  double panic_threshold_percentage = 200;
  double activator_capacity = 100;
  Duration scale_to_zero_grace_period = std::chrono::seconds(30);
  Duration scale_to_zero_pod_retention_period = Duration(0);
  Duration scale_down_delay = Duration(0);
  // From `config-defaults`: the largest containerConcurrency a function may set.
  int container_concurrency_max_limit = 1000;
  // From `config-deployment`: activation gives up (scales to 0) after this + 30 s.
  Duration progress_deadline = std::chrono::seconds(600);

  static KpaDefaults Knative() { return {}; }

  // Knative's defaults with a shorter way back to zero: stable_window = 10s
  // (so the panic window is 1s) and scale_to_zero_grace_period = 5s. Knative
  // keeps an idle revision for about a minute and a half (a 60 s window for the
  // average to reach 0, then 30 s of grace) because a cold start there costs
  // seconds: pulling an image, scheduling a pod, waiting for readiness. On one
  // machine an instance is a child process that answers within milliseconds,
  // so idling is cheap to undo and memory held by idle instances is the
  // scarcer resource: an idle function reaches zero about 15 s after its last
  // request. Users who want Knative's behaviour set `window` per function.
  static KpaDefaults Ofn() {
    KpaDefaults d;
    d.stable_window = std::chrono::seconds(10);
    d.scale_to_zero_grace_period = std::chrono::seconds(5);
    return d;
  }

  double ContainerConcurrencyTargetFraction() const {
    return container_concurrency_target_percentage > 1 ? container_concurrency_target_percentage / 100
                                                       : container_concurrency_target_percentage;
  }

  // The ConfigMap validation rules of §1.1; the error names the key and the
  // allowed range, e.g. "config-autoscaler max-scale-down-rate: 1 must be > 1".
  Status Validate() const;
};

}  // namespace ofn::autoscaler

// KpaConfig: the resolved autoscaling settings of one function, as the KPA
// uses them: Knative's per-revision annotations (fact sheet §1.2) over the
// cluster defaults (KpaDefaults), with the target resolved to a per-instance
// value (§1.3).
//
// OpenFunction passes `serving.scaleOptions.knative` through as revision
// annotations and writes `scaleOptions.minReplicas/maxReplicas` over the
// min-scale/max-scale annotations (§4), so FromAnnotations takes both. Every
// validation rule of §1.2 applies; an error names the annotation and its
// allowed range. A plain value; copy freely.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "autoscaler/kpa_defaults.h"
#include "ofn/status.h"

namespace ofn::autoscaler {

inline constexpr const char* kAutoscalingPrefix = "autoscaling.knative.dev/";

enum class KpaMetric { kConcurrency, kRps };
enum class Aggregation { kLinear, kWeightedExponential };

const char* KpaMetricName(KpaMetric m);  // "concurrency", "rps"

struct KpaConfig {
  using Duration = std::chrono::nanoseconds;

  std::string autoscaler_class = kKpaClass;
  KpaMetric metric = KpaMetric::kConcurrency;
  Aggregation aggregation = Aggregation::kLinear;

  // §1.3: TotalValue is the per-instance total (containerConcurrency, or the
  // target annotation, or the ConfigMap default); TargetValue =
  // max(0.01, TotalValue * utilization) is what the autoscaler aims for.
  double total_value = 100;
  double target_utilization = 0.7;  // a fraction
  double target_value = 70;
  int container_concurrency = 0;  // the hard limit; 0 = unlimited

  Duration stable_window = std::chrono::seconds(60);
  double panic_window_percentage = 10;
  Duration panic_window = std::chrono::seconds(6);  // round(stable * pct / 100), at least 1s
  double panic_threshold = 2.0;                      // a factor: percentage / 100

  int min_scale = 0;
  int max_scale = 0;         // 0 = unbounded
  int initial_scale = 1;
  int activation_scale = 0;  // 0 = unset; otherwise >= 2
  double max_scale_up_rate = 1000.0;
  double max_scale_down_rate = 2.0;
  bool enable_scale_to_zero = true;

  Duration scale_down_delay = Duration(0);
  Duration scale_to_zero_grace_period = std::chrono::seconds(30);
  Duration scale_to_zero_pod_retention_period = Duration(0);
  Duration progress_deadline = std::chrono::seconds(600);
  double target_burst_capacity = 211;  // -1 = unlimited

  // Keys under autoscaling.knative.dev/ that the KPA does not know (typos,
  // settings of other autoscalers): kept, not acted on, for the caller to
  // report once as ignored.
  std::vector<std::string> unrecognized_annotations;

  // `annotations` may hold any keys; only autoscaling.knative.dev/* (full
  // names; the kebab-case key wins over its camelCase alias) and
  // serving.knative.dev/progress-deadline are read. `min_replicas` and
  // `max_replicas` are serving.scaleOptions.minReplicas/maxReplicas, -1 when
  // unset; when set they replace the min-scale/max-scale annotations, because
  // OpenFunction writes them over those annotations last. The pseudo
  // annotation autoscaling.knative.dev/container-concurrency is OpenFunction's
  // way of setting `container_concurrency`: the caller resolves it.
  //
  // Errors: InvalidArgument naming every bad setting ("autoscaling.knative.dev/
  // panic-threshold-percentage: 50 is outside [110, 1000]"); Unimplemented for
  // a valid class other than kpa.autoscaling.knative.dev (the HPA class or a
  // custom autoscaler), which Ofn does not provide.
  static Result<KpaConfig> FromAnnotations(const std::map<std::string, std::string>& annotations,
                                           int min_replicas, int max_replicas, int container_concurrency,
                                           const KpaDefaults& defaults);
};

}  // namespace ofn::autoscaler

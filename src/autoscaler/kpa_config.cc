#include "autoscaler/kpa_config.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "autoscaler/numbers.h"
#include "common/duration.h"

namespace ofn::autoscaler {

const char* KpaMetricName(KpaMetric m) { return m == KpaMetric::kRps ? "rps" : "concurrency"; }

namespace {

using std::chrono::hours;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr const char* kProgressDeadlineKey = "serving.knative.dev/progress-deadline";

// One annotation as found: the key actually used (for messages) and its text.
struct Found {
  std::string key;
  std::string value;
};

class Reader {
 public:
  explicit Reader(const std::map<std::string, std::string>& a) : a_(a) {}

  // The kebab-case key wins over the legacy camelCase alias.
  std::optional<Found> Get(std::string_view name, std::string_view alias = {}) const {
    for (std::string_view n : {name, alias}) {
      if (n.empty()) continue;
      const std::string key = kAutoscalingPrefix + std::string(n);
      if (auto it = a_.find(key); it != a_.end()) return Found{key, it->second};
    }
    return std::nullopt;
  }

  void Error(const std::string& key, const std::string& what) { errors_.push_back(key + ": " + what); }
  bool HasErrors() const { return !errors_.empty(); }
  Status ToStatus() const {
    std::string msg;
    for (const auto& e : errors_) msg += (msg.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(std::move(msg));
  }

  // Each returns nullopt (after recording an error) when the text is invalid.
  std::optional<double> Float(const Found& f) {
    auto v = ParseFloat64(f.value);
    if (!v) Error(f.key, "\"" + f.value + "\" is not a number");
    return v;
  }
  std::optional<int32_t> Int(const Found& f) {
    auto v = ParseInt32(f.value);
    if (!v) Error(f.key, "\"" + f.value + "\" is not a 32-bit integer");
    return v;
  }
  std::optional<nanoseconds> Dur(const Found& f) {
    auto v = ParseGoDuration(f.value);
    if (!v.ok()) {
      Error(f.key, v.status().message());
      return std::nullopt;
    }
    return *v;
  }

  std::optional<double> FloatIn(const Found& f, double lo, double hi) {
    auto v = Float(f);
    if (v && !(*v >= lo && *v <= hi)) {
      Error(f.key, f.value + " is outside [" + FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
      return std::nullopt;
    }
    return v;
  }
  std::optional<nanoseconds> DurIn(const Found& f, nanoseconds lo, nanoseconds hi, bool whole_seconds) {
    auto v = Dur(f);
    if (!v) return v;
    if (*v < lo || *v > hi) {
      Error(f.key, f.value + " is outside [" + FormatDuration(lo) + ", " + FormatDuration(hi) + "]");
      return std::nullopt;
    }
    if (whole_seconds && *v % seconds(1) != nanoseconds(0)) {
      Error(f.key, f.value + " must be a whole number of seconds");
      return std::nullopt;
    }
    return v;
  }

 private:
  const std::map<std::string, std::string>& a_;
  std::vector<std::string> errors_;
};

// The annotations the KPA knows, with their aliases; anything else under the
// prefix is reported as unrecognized.
const std::set<std::string, std::less<>>& KnownNames() {
  static const std::set<std::string, std::less<>> names = {
      "class", "metric", "target", "target-utilization-percentage", "targetUtilizationPercentage",
      "window", "panic-window-percentage", "panicWindowPercentage", "panic-threshold-percentage",
      "panicThresholdPercentage", "min-scale", "minScale", "max-scale", "maxScale", "initial-scale",
      "initialScale", "scale-down-delay", "scaleDownDelay", "scale-to-zero-pod-retention-period",
      "scaleToZeroPodRetentionPeriod", "activation-scale", "target-burst-capacity", "targetBurstCapacity",
      "metric-aggregation-algorithm", "metricAggregationAlgorithm",
      "container-concurrency",  // OpenFunction's pseudo annotation, resolved by the caller
  };
  return names;
}

// A scale bound and where it came from, for messages.
struct Bound {
  int value;
  std::string origin;
};

}  // namespace

Result<KpaConfig> KpaConfig::FromAnnotations(const std::map<std::string, std::string>& annotations,
                                             int min_replicas, int max_replicas, int container_concurrency,
                                             const KpaDefaults& defaults) {
  if (Status s = defaults.Validate(); !s.ok()) return s;
  Reader r(annotations);
  KpaConfig c;

  const std::string_view prefix(kAutoscalingPrefix);
  for (const auto& [key, value] : annotations) {
    const std::string_view k(key);
    if (k.starts_with(prefix) && !KnownNames().contains(k.substr(prefix.size())))
      c.unrecognized_annotations.push_back(key);
  }

  // Class and metric first: the other settings only mean something to the KPA.
  c.autoscaler_class = defaults.pod_autoscaler_class;
  if (auto f = r.Get("class")) {
    c.autoscaler_class = f->value;
    if (f->value.empty()) {
      r.Error(f->key, "must not be empty");
    } else if (f->value.ends_with(".knative.dev") && f->value != kKpaClass && f->value != kHpaClass) {
      r.Error(f->key, f->value + " is not one of " + kKpaClass + ", " + kHpaClass);
    }
  }
  const bool is_kpa = c.autoscaler_class == kKpaClass;
  if (auto f = r.Get("metric")) {
    if (is_kpa) {
      if (f->value == "concurrency") c.metric = KpaMetric::kConcurrency;
      else if (f->value == "rps") c.metric = KpaMetric::kRps;
      else r.Error(f->key, "\"" + f->value + "\" is not one of concurrency, rps");
    } else if (c.autoscaler_class == kHpaClass && f->value.empty()) {
      r.Error(f->key, "must not be empty");
    }
  }
  if (!is_kpa) {
    if (r.HasErrors()) return r.ToStatus();
    return Status::Unimplemented(std::string(kAutoscalingPrefix) + "class: " + c.autoscaler_class +
                                 " is valid, but Ofn autoscales with " + kKpaClass + " only");
  }

  // containerConcurrency: the hard per-instance limit (§1.8).
  if (container_concurrency < 0 || container_concurrency > defaults.container_concurrency_max_limit) {
    r.Error("containerConcurrency", std::to_string(container_concurrency) + " is outside [0, " +
                                        std::to_string(defaults.container_concurrency_max_limit) + "]");
  }
  c.container_concurrency = std::max(0, container_concurrency);

  // Plain values with flags: GCC 12 misreads optional<double> here (-Wmaybe-uninitialized).
  double target = 0, utilization = 0;
  bool has_target = false, has_utilization = false;
  if (auto f = r.Get("target")) {
    if (auto v = r.Float(*f)) {
      if (*v >= 0.01) {
        target = *v;
        has_target = true;
      } else {
        r.Error(f->key, f->value + " must be >= 0.01");
      }
    }
  }
  if (auto f = r.Get("target-utilization-percentage", "targetUtilizationPercentage")) {
    if (auto v = r.FloatIn(*f, 1, 100)) {
      utilization = *v;
      has_utilization = true;
    }
  }

  c.stable_window = defaults.stable_window;
  if (auto f = r.Get("window"))
    if (auto v = r.DurIn(*f, seconds(6), hours(1), /*whole_seconds=*/true)) c.stable_window = *v;

  c.panic_window_percentage = defaults.panic_window_percentage;
  if (auto f = r.Get("panic-window-percentage", "panicWindowPercentage"))
    if (auto v = r.FloatIn(*f, 1, 100)) c.panic_window_percentage = *v;

  double panic_threshold_percentage = defaults.panic_threshold_percentage;
  if (auto f = r.Get("panic-threshold-percentage", "panicThresholdPercentage"))
    if (auto v = r.FloatIn(*f, 110, 1000)) panic_threshold_percentage = *v;
  c.panic_threshold = panic_threshold_percentage / 100;

  // Scale bounds. scaleOptions.minReplicas/maxReplicas replace the
  // annotations when set: OpenFunction writes them over min-scale/max-scale
  // (and their aliases) after merging the knative map.
  auto bound = [&](int replicas, const char* replicas_field, const char* name, const char* alias,
                   int fallback) -> std::optional<Bound> {
    if (replicas < -1) {
      r.Error(replicas_field, std::to_string(replicas) + " must be >= 0");
      return std::nullopt;
    }
    if (replicas >= 0) return Bound{replicas, replicas_field};
    if (auto f = r.Get(name, alias)) {
      auto v = r.Int(*f);
      if (!v) return std::nullopt;
      if (*v < 0) {
        r.Error(f->key, f->value + " must be >= 0");
        return std::nullopt;
      }
      return Bound{*v, f->key};
    }
    return Bound{fallback, std::string("config-autoscaler ") + name};
  };
  const auto min_b = bound(min_replicas, "serving.scaleOptions.minReplicas", "min-scale", "minScale",
                           defaults.min_scale);
  const auto max_b = bound(max_replicas, "serving.scaleOptions.maxReplicas", "max-scale", "maxScale",
                           defaults.max_scale);
  if (max_b && defaults.max_scale_limit > 0 && (max_b->value < 1 || max_b->value > defaults.max_scale_limit)) {
    r.Error(max_b->origin, std::to_string(max_b->value) + " is outside [1, " +
                               std::to_string(defaults.max_scale_limit) + "] (config-autoscaler max-scale-limit)");
  } else if (min_b && max_b && max_b->value > 0 && max_b->value < min_b->value) {
    r.Error(max_b->origin, std::to_string(max_b->value) + " is less than " + min_b->origin + " " +
                               std::to_string(min_b->value));
  }
  if (min_b) c.min_scale = min_b->value;
  if (max_b) c.max_scale = max_b->value;

  // initial-scale 0 is honoured only where the cluster allows it; otherwise
  // it falls back to the ConfigMap value (not an error).
  c.initial_scale = defaults.initial_scale;
  if (auto f = r.Get("initial-scale", "initialScale")) {
    if (auto v = r.Int(*f)) {
      if (*v < 0) r.Error(f->key, f->value + " must be >= 0");
      else if (*v > 0 || defaults.allow_zero_initial_scale) c.initial_scale = *v;
    }
  }

  if (auto f = r.Get("activation-scale")) {
    if (auto v = r.Int(*f)) {
      if (*v < 2) {
        r.Error(f->key, f->value + " must be >= 2");
      } else if (*v < c.min_scale || (c.max_scale > 0 && *v > c.max_scale)) {
        r.Error(f->key, f->value + " is outside [min-scale " + std::to_string(c.min_scale) + ", max-scale " +
                            (c.max_scale > 0 ? std::to_string(c.max_scale) : std::string("unbounded")) + "]");
      } else {
        c.activation_scale = *v;
      }
    }
  }

  c.scale_down_delay = defaults.scale_down_delay;
  if (auto f = r.Get("scale-down-delay", "scaleDownDelay"))
    if (auto v = r.DurIn(*f, nanoseconds(0), hours(1), /*whole_seconds=*/true)) c.scale_down_delay = *v;

  c.scale_to_zero_pod_retention_period = defaults.scale_to_zero_pod_retention_period;
  if (auto f = r.Get("scale-to-zero-pod-retention-period", "scaleToZeroPodRetentionPeriod"))
    if (auto v = r.DurIn(*f, nanoseconds(0), hours(1), /*whole_seconds=*/false))
      c.scale_to_zero_pod_retention_period = *v;

  c.target_burst_capacity = defaults.target_burst_capacity;
  if (auto f = r.Get("target-burst-capacity", "targetBurstCapacity")) {
    if (auto v = r.Float(*f)) {
      if (*v >= 0 || *v == -1) c.target_burst_capacity = *v;
      else r.Error(f->key, f->value + " must be >= 0 or exactly -1");
    }
  }

  if (auto f = r.Get("metric-aggregation-algorithm", "metricAggregationAlgorithm")) {
    if (f->value == "linear") c.aggregation = Aggregation::kLinear;
    else if (f->value == "weighted-exponential" || f->value == "weightedExponential")
      c.aggregation = Aggregation::kWeightedExponential;
    else r.Error(f->key, "\"" + f->value + "\" is not one of linear, weighted-exponential, weightedExponential");
  }

  c.progress_deadline = defaults.progress_deadline;
  if (auto it = annotations.find(kProgressDeadlineKey); it != annotations.end()) {
    auto v = ParseGoDuration(it->second);
    if (!v.ok()) r.Error(kProgressDeadlineKey, v.status().message());
    else if (*v <= nanoseconds(0)) r.Error(kProgressDeadlineKey, it->second + " must be > 0s");
    else c.progress_deadline = *v;
  }

  if (r.HasErrors()) return r.ToStatus();

  // §1.3 target resolution.
  if (c.metric == KpaMetric::kConcurrency) {
    c.total_value = c.container_concurrency > 0 ? c.container_concurrency
                                                : defaults.container_concurrency_target_default;
    c.target_utilization = defaults.ContainerConcurrencyTargetFraction();
    if (has_target)
      c.total_value = c.container_concurrency > 0 ? std::min<double>(target, c.container_concurrency) : target;
  } else {
    c.total_value = defaults.requests_per_second_target_default;
    c.target_utilization = 0.7;  // hard-coded for non-concurrency metrics in Knative
    if (has_target) c.total_value = target;
  }
  if (has_utilization) c.target_utilization = utilization / 100;
  c.target_value = std::max(0.01, c.total_value * c.target_utilization);

  const double panic_secs = std::chrono::duration<double>(c.stable_window).count() * c.panic_window_percentage / 100;
  c.panic_window = seconds(std::max<long long>(1, std::llround(panic_secs)));

  c.enable_scale_to_zero = defaults.enable_scale_to_zero;
  c.max_scale_up_rate = defaults.max_scale_up_rate;
  c.max_scale_down_rate = defaults.max_scale_down_rate;
  c.scale_to_zero_grace_period = defaults.scale_to_zero_grace_period;
  return c;
}

}  // namespace ofn::autoscaler

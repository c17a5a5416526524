#include "autoscaler/kpa_defaults.h"

#include <chrono>
#include <string>
#include <vector>

#include "autoscaler/numbers.h"
#include "common/duration.h"

namespace ofn::autoscaler {
namespace {

using std::chrono::hours;
using std::chrono::nanoseconds;
using std::chrono::seconds;

bool WholeSeconds(nanoseconds d) { return d % seconds(1) == nanoseconds(0); }

}  // namespace

Status KpaDefaults::Validate() const {
  std::vector<std::string> errors;
  auto bad = [&](const std::string& key, const std::string& what) {
    errors.push_back("config-autoscaler " + key + ": " + what);
  };
  auto num = [](double v) { return FormatNumber(v); };

  if (initial_scale < 0) bad("initial-scale", std::to_string(initial_scale) + " must be >= 0");
  if (initial_scale == 0 && !allow_zero_initial_scale)
    bad("initial-scale", "0 is allowed only with allow-zero-initial-scale: true");
  if (min_scale < 0) bad("min-scale", std::to_string(min_scale) + " must be >= 0");
  if (max_scale < 0) bad("max-scale", std::to_string(max_scale) + " must be >= 0");
  if (max_scale > 0 && min_scale > max_scale)
    bad("min-scale", std::to_string(min_scale) + " is greater than max-scale " + std::to_string(max_scale));
  if (max_scale_limit < 0) bad("max-scale-limit", std::to_string(max_scale_limit) + " must be >= 0");
  if (max_scale_limit > 0 && (max_scale < 1 || max_scale > max_scale_limit))
    bad("max-scale", std::to_string(max_scale) + " is outside [1, " + std::to_string(max_scale_limit) +
                         "] (max-scale-limit)");
  if (!(max_scale_up_rate > 1)) bad("max-scale-up-rate", num(max_scale_up_rate) + " must be > 1");
  if (!(max_scale_down_rate > 1)) bad("max-scale-down-rate", num(max_scale_down_rate) + " must be > 1");
  const double fraction = ContainerConcurrencyTargetFraction();
  if (!(fraction > 0 && fraction <= 1))
    bad("container-concurrency-target-percentage",
        num(container_concurrency_target_percentage) + " is outside (0, 100] (or (0, 1] as a fraction)");
  else if (!(fraction * container_concurrency_target_default >= 0.01))
    bad("container-concurrency-target-default",
        num(container_concurrency_target_default) + " times the target percentage must be >= 0.01");
  if (!(requests_per_second_target_default >= 0.01))
    bad("requests-per-second-target-default", num(requests_per_second_target_default) + " must be >= 0.01");
  if (!(target_burst_capacity >= 0 || target_burst_capacity == -1))
    bad("target-burst-capacity", num(target_burst_capacity) + " must be >= 0 or exactly -1");
  if (stable_window < seconds(6) || stable_window > hours(1))
    bad("stable-window", FormatDuration(stable_window) + " is outside [6s, 1h]");
  else if (!WholeSeconds(stable_window))
    bad("stable-window", FormatDuration(stable_window) + " must be a whole number of seconds");
  if (!(panic_window_percentage >= 1 && panic_window_percentage <= 100))
    bad("panic-window-percentage", num(panic_window_percentage) + " is outside [1, 100]");
  // panic-threshold-percentage is not range-checked in the ConfigMap (only the
  // annotation is), as in Knative.
  if (!(activator_capacity >= 1)) bad("activator-capacity", num(activator_capacity) + " must be >= 1");
  if (scale_to_zero_grace_period <= nanoseconds(0))
    bad("scale-to-zero-grace-period", FormatDuration(scale_to_zero_grace_period) + " must be > 0s");
  if (scale_to_zero_pod_retention_period < nanoseconds(0))
    bad("scale-to-zero-pod-retention-period",
        FormatDuration(scale_to_zero_pod_retention_period) + " must be >= 0s");
  if (scale_down_delay < nanoseconds(0))
    bad("scale-down-delay", FormatDuration(scale_down_delay) + " must be >= 0s");
  else if (!WholeSeconds(scale_down_delay))
    bad("scale-down-delay", FormatDuration(scale_down_delay) + " must be a whole number of seconds");
  if (progress_deadline <= nanoseconds(0))
    errors.push_back("config-deployment progress-deadline: " + FormatDuration(progress_deadline) +
                     " must be > 0s");
  if (container_concurrency_max_limit < 1)
    errors.push_back("config-defaults container-concurrency-max-limit: " +
                     std::to_string(container_concurrency_max_limit) + " must be >= 1");

  if (errors.empty()) return Status::Ok();
  std::string msg;
  for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
  return Status::InvalidArgument(std::move(msg));
}

}  // namespace ofn::autoscaler

// KedaConfig: how one async function scales on its event backlog, with the
// semantics of a KEDA ScaledObject and the HPA it drives (fact sheet §2-§4),
// read from the Function's `spec.serving.scaleOptions`:
//  - minReplicas/maxReplicas (keda.scaledObject.minReplicaCount/maxReplicaCount,
//    v1beta1 leftovers, win when present, as OpenFunction's conversion does);
//  - keda.scaledObject.{pollingInterval, cooldownPeriod,
//    advanced.horizontalPodAutoscalerConfig.behavior}, plus KEDA's own
//    idleReplicaCount and initialCooldownPeriod, which OpenFunction's schema
//    lacks but Ofn accepts there;
//  - keda.triggers: kafka, redis-streams, nats-jetstream and cron. Any other
//    scaler type, and scaledJob or httpScaledObject, is Unimplemented.
// Fields Ofn accepts but does not act on (fallback, restoreToOriginalReplicaCount,
// the HPA name, triggers' authenticationRef and useCachedMetrics) are listed in
// `ignored_fields` for the caller to report once.
//
// KedaDefaults::Keda() holds KEDA's and kube-controller-manager's numbers;
// KedaDefaults::Ofn() differs only where theirs exist because they poll:
// KEDA asks its scalers every 30 s and the HPA recomputes every 15 s, while
// Ofn measures a local broker cheaply, so it defaults to both every second
// (a function's own pollingInterval is honoured). Cooldown, stabilization and
// rate policies are about flapping, not polling, and stay as in KEDA.
//
// A plain value; copy freely. FromFunction is a pure function.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/cron_schedule.h"
#include "ofn/status.h"

namespace ofn::autoscaler {

struct KedaDefaults {
  using Duration = std::chrono::nanoseconds;

  Duration polling_interval = std::chrono::seconds(30);  // ScaledObject pollingInterval
  Duration cooldown_period = std::chrono::seconds(300);  // ScaledObject cooldownPeriod
  Duration initial_cooldown_period = Duration(0);        // ScaledObject initialCooldownPeriod
  int max_replicas = 100;                                // ScaledObject maxReplicaCount
  // kube-controller-manager flags --horizontal-pod-autoscaler-{sync-period,
  // tolerance,downscale-stabilization}.
  Duration hpa_sync_period = std::chrono::seconds(15);
  double hpa_tolerance = 0.1;
  Duration downscale_stabilization = std::chrono::seconds(300);

  static KedaDefaults Keda() { return {}; }
  static KedaDefaults Ofn() {
    KedaDefaults d;
    d.polling_interval = std::chrono::seconds(1);
    d.hpa_sync_period = std::chrono::seconds(1);
    return d;
  }
};

// The HPA's spec.behavior, with Kubernetes' defaults filled in.
enum class SelectPolicy { kMax, kMin, kDisabled };
struct HpaPolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int value = 0;
  std::chrono::seconds period{15};
};
struct HpaScalingRules {
  std::chrono::seconds stabilization_window{0};
  SelectPolicy select = SelectPolicy::kMax;
  std::vector<HpaPolicy> policies;
};
struct HpaBehavior {
  HpaScalingRules scale_up, scale_down;
};

// What the caller measures for each trigger type (fact sheet §3), from the
// trigger's metadata.
struct KafkaTrigger {
  std::string bootstrap_servers, consumer_group;
  std::string topic;                   // empty: every topic the group has committed offsets on
  bool offset_reset_earliest = false;  // offsetResetPolicy: lag of a partition with no commit
  bool allow_idle_consumers = false, exclude_persistent_lag = false, scale_to_zero_on_invalid_offset = false;
};
struct RedisStreamsTrigger {
  enum class Mode {
    kPendingEntries,  // consumerGroup set: XPENDING count, target pendingEntriesCount
    kLag,             // consumerGroup and lagCount set: the group's lag, target lagCount
    kStreamLength,    // no consumerGroup: XLEN, target streamLength
  };
  std::string address;  // address, or host:port
  std::string stream, consumer_group;
  Mode mode = Mode::kPendingEntries;
};
struct NatsJetStreamTrigger {
  std::string monitoring_endpoint, account, stream, consumer;  // lag = num_pending + num_ack_pending
  bool use_https = false;
};
// KEDA's cron trigger activity (fact sheet §3.4): active iff the next end
// comes no later than the next start, i.e. `t` lies in a start→end interval.
// Both schedules are in KEDA's dialect and the trigger's `timezone`.
struct CronWindow {
  CronSchedule start, end;

  bool Contains(std::chrono::system_clock::time_point t) const;
};
struct CronTrigger {
  CronWindow window;
  int64_t desired_replicas = 0;  // the metric inside the window (0 outside), against a target of 1
};

struct KedaTrigger {
  std::string type;   // "kafka", "redis-streams", "nats-jetstream" or "cron"
  std::string name;   // triggers[].name, may be empty
  std::string field;  // "spec.serving.scaleOptions.keda.triggers[0]", for messages
  enum class MetricType { kAverageValue, kValue };
  MetricType metric_type = MetricType::kAverageValue;
  double target = 0;                            // the HPA target: per replica (AverageValue) or in total (Value)
  double activation = 0;                        // active iff the measured value is greater than this
  std::map<std::string, std::string> metadata;  // verbatim
  std::variant<KafkaTrigger, RedisStreamsTrigger, NatsJetStreamTrigger, CronTrigger> source;
};

struct KedaConfig {
  using Duration = std::chrono::nanoseconds;

  int min_replicas = 0;
  int max_replicas = 100;
  std::optional<int> idle_replicas;  // set: scale down to this, not to min, when inactive
  Duration polling_interval = std::chrono::seconds(30);
  Duration cooldown_period = std::chrono::seconds(300);
  Duration initial_cooldown_period = Duration(0);
  Duration hpa_sync_period = std::chrono::seconds(15);
  double hpa_tolerance = 0.1;
  Duration downscale_stabilization = std::chrono::seconds(300);
  // nullopt when the function sets no behavior: the HPA then takes its legacy
  // path (downscale stabilization, scale-up to at most max(2 x current, 4)
  // per sync) rather than the behavior defaults.
  std::optional<HpaBehavior> behavior;
  // Empty: OpenFunction creates no ScaledObject, and the count stays as started.
  std::vector<KedaTrigger> triggers;
  std::vector<std::string> ignored_fields;  // full paths

  // The HPA's bounds, and the count OpenFunction starts the workload with.
  int hpa_min_replicas() const { return min_replicas > 0 ? min_replicas : 1; }
  int initial_replicas() const { return min_replicas > 0 ? min_replicas : 1; }

  // `serving_spec` is the Function's spec.serving (v1beta2); messages name
  // fields from "spec.serving". InvalidArgument lists every bad field
  // ("spec.serving.scaleOptions.keda.triggers[1].metadata.lagThreshold: \"x\"
  // is not an integer"); Unimplemented names what Ofn does not provide (a
  // scaler type, scaledJob, httpScaledObject) when nothing is invalid.
  static Result<KedaConfig> FromFunction(const nlohmann::json& serving_spec,
                                         const KedaDefaults& defaults = KedaDefaults::Ofn());
};

}  // namespace ofn::autoscaler

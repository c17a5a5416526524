// KedaScaler: the replica count of one async function, decided as KEDA and
// the HPA it creates would decide it (fact sheet §2.2-§2.3), from backlog
// numbers the caller measures (§3: a Kafka group's lag, a Redis stream's
// pending entries, a JetStream consumer's pending messages) and, for cron
// triggers, the wall-clock time.
//
// Two phases, each on its own period, as in a cluster:
//  - activation, every pollingInterval (KEDA's loop): at 0 (or at idle) with
//    any trigger active (value > its activation threshold) go to
//    max(minReplicas, 1); with none active for cooldownPeriod since the last
//    active check, go to 0 (or idleReplicaCount). minReplicas > 0 without an
//    idle count never goes to 0.
//  - scaling 1..max, every HPA sync period (only while above 0): per trigger
//    ceil(value / target) (AverageValue) or ceil(value / target x current)
//    (Value), unchanged within the 10% tolerance, the largest proposal wins;
//    then the scale-down stabilization window (the highest recommendation in
//    it), the scale-up/-down rate policies, and [max(min, 1), max].
// Where Ofn differs: Activate() ("an event arrived while at zero") scales up
// at once instead of at the next poll; and both periods default to 1 s
// (KedaDefaults::Ofn()), so NextPoll() tells the caller when to measure next.
//
// Times come from the caller (steady clock for periods, wall clock for
// cron), so tests are deterministic. Not thread-safe: the caller serialises
// all calls, e.g. under the function's mutex.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "autoscaler/keda_config.h"

namespace ofn::autoscaler {

// One trigger's measurement, in the order of KedaConfig::triggers.
struct KedaMeasurement {
  // nullopt: the caller could not measure (say the broker is down). The
  // trigger is then not active, and the HPA skips a round that would scale
  // down, as it does when a metric fails.
  std::optional<double> value;
  // What the activation threshold is compared with, when it differs from
  // `value` (kafka's excludePersistentLag); defaults to `value`.
  std::optional<double> activation_value;

  static KedaMeasurement Of(double v) { return {v, std::nullopt}; }
  static KedaMeasurement Failed() { return {}; }
};

struct KedaDecision {
  int replicas = 0;     // instances to run
  bool active = false;  // some trigger was active at the last activation check
  std::string reason;   // one line for logs and `ofn describe`
};

class KedaScaler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  // `replicas` is the count running now; by default the one OpenFunction
  // starts a workload with (minReplicas if > 0, else 1). Both phases are due
  // at `now`.
  KedaScaler(KedaConfig config, TimePoint now, std::optional<int> replicas = std::nullopt);

  // Runs whichever phases are due at `now` with these measurements (missing
  // entries count as failed; cron entries are ignored: `wall` decides them).
  // Returns the count to run; calling it early changes nothing.
  KedaDecision Decide(TimePoint now, WallTime wall, const std::vector<KedaMeasurement>& measurements);

  // An event arrived (e.g. the broker delivered one) while at zero or idle:
  // the activation step an active poll would take, now. Returns the count.
  int Activate(TimePoint now);

  // When Decide() next has work to do: the earlier of the next activation
  // check and, above zero, the next HPA sync.
  TimePoint NextPoll() const;

  int replicas() const { return replicas_; }
  const KedaConfig& config() const { return config_; }

 private:
  struct Timed {
    TimePoint at;
    int value;
  };

  // KEDA's scale loop; appends to `why`.
  void ActivationStep(TimePoint now, bool active, std::string& why);
  void ScaleUpFromIdle(TimePoint now, std::string& why);
  // The HPA's reconcile; appends to `why`.
  void HpaStep(TimePoint now, WallTime wall, const std::vector<KedaMeasurement>& m, std::string& why);
  // The HPA proposal of trigger `i`, or nullopt when it was not measured.
  std::optional<int> Proposal(size_t i, WallTime wall, const std::vector<KedaMeasurement>& m) const;
  int NormalizeWithBehavior(TimePoint now, int proposal, std::string& why);
  int NormalizeLegacy(TimePoint now, int proposal, std::string& why);
  // Replicas added (up) or removed (down) by the HPA within `period` before now.
  int ChangeWithin(TimePoint now, std::chrono::seconds period, bool up) const;
  int RateLimit(TimePoint now, int desired, std::string& why) const;
  bool TriggerActive(size_t i, WallTime wall, const std::vector<KedaMeasurement>& m) const;

  KedaConfig config_;
  int replicas_;
  TimePoint created_;
  std::optional<TimePoint> last_active_;
  bool active_ = false;
  TimePoint next_activation_, next_hpa_;

  std::deque<Timed> recommendations_;  // the HPA's, for stabilization
  std::deque<Timed> scale_events_;     // the HPA's changes (signed), for rate policies
};

}  // namespace ofn::autoscaler

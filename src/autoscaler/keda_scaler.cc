#include "autoscaler/keda_scaler.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>

#include "common/duration.h"

namespace ofn::autoscaler {
namespace {

// Kubernetes caps a rate policy's period at 30 minutes; older HPA changes never count.
constexpr std::chrono::seconds kLongestPolicyPeriod(1800);

std::string Count(int n) { return std::to_string(n); }

}  // namespace

KedaScaler::KedaScaler(KedaConfig config, TimePoint now, std::optional<int> replicas)
    : config_(std::move(config)),
      replicas_(replicas.value_or(config_.initial_replicas())),
      created_(now),
      next_activation_(now),
      next_hpa_(now) {}

KedaDecision KedaScaler::Decide(TimePoint now, WallTime wall, const std::vector<KedaMeasurement>& measurements) {
  if (config_.triggers.empty()) return {replicas_, false, "no keda.triggers: the count stays at " + Count(replicas_)};
  std::string why;
  if (now >= next_activation_) {
    next_activation_ = now + config_.polling_interval;
    bool active = false;
    for (size_t i = 0; i < config_.triggers.size(); ++i) active = active || TriggerActive(i, wall, measurements);
    ActivationStep(now, active, why);
  }
  // The HPA is disabled at zero; a tick then does nothing. Right after an
  // activation it may run in the same call, as its sync can follow KEDA's.
  if (now >= next_hpa_) {
    next_hpa_ = now + config_.hpa_sync_period;
    if (replicas_ > 0) HpaStep(now, wall, measurements, why);
  }
  if (why.ends_with("; ")) why.resize(why.size() - 2);
  return {replicas_, active_, why.empty() ? "nothing due" : why};
}

int KedaScaler::Activate(TimePoint now) {
  if (config_.triggers.empty()) return replicas_;
  std::string why;
  ActivationStep(now, /*active=*/true, why);
  return replicas_;
}

KedaScaler::TimePoint KedaScaler::NextPoll() const {
  if (config_.triggers.empty()) return TimePoint::max();
  return replicas_ > 0 ? std::min(next_activation_, next_hpa_) : next_activation_;
}

bool KedaScaler::TriggerActive(size_t i, WallTime wall, const std::vector<KedaMeasurement>& m) const {
  const KedaTrigger& t = config_.triggers[i];
  if (const auto* cron = std::get_if<CronTrigger>(&t.source)) return cron->window.Contains(wall);
  if (i >= m.size() || !m[i].value) return false;
  return m[i].activation_value.value_or(*m[i].value) > t.activation;  // strictly greater, as every scaler
}

void KedaScaler::ActivationStep(TimePoint now, bool active, std::string& why) {
  active_ = active;
  const int min = config_.min_replicas;
  const std::optional<int>& idle = config_.idle_replicas;
  if (active) {
    if (replicas_ == 0 || (idle && replicas_ < min))
      ScaleUpFromIdle(now, why);
    else
      last_active_ = now;
    return;
  }
  if ((idle && replicas_ > *idle) || (replicas_ > 0 && min == 0)) {
    // Without an active check yet, the creation time plus initialCooldownPeriod counts.
    const TimePoint since = last_active_ ? *last_active_ : created_;
    const auto wait = last_active_ ? config_.cooldown_period : config_.initial_cooldown_period;
    const int to = idle ? *idle : min;
    if (since + wait < now) {
      why += "no trigger active for " + FormatDuration(wait) + ": " + Count(replicas_) + " -> " + Count(to) + "; ";
      replicas_ = to;
    } else {
      why += "no trigger active; cooling down to " + Count(to) + "; ";
    }
  } else if (!idle && replicas_ < min) {
    why += "below minReplicas: " + Count(replicas_) + " -> " + Count(min) + "; ";
    replicas_ = min;
  }
}

void KedaScaler::ScaleUpFromIdle(TimePoint now, std::string& why) {
  const int to = config_.min_replicas > 0 ? config_.min_replicas : 1;
  why += "a trigger is active: " + Count(replicas_) + " -> " + Count(to) + "; ";
  replicas_ = to;
  last_active_ = now;
}

std::optional<int> KedaScaler::Proposal(size_t i, WallTime wall, const std::vector<KedaMeasurement>& m) const {
  const KedaTrigger& t = config_.triggers[i];
  double value = 0;
  if (const auto* cron = std::get_if<CronTrigger>(&t.source)) {
    value = cron->window.Contains(wall) ? static_cast<double>(cron->desired_replicas) : 0;
  } else if (i < m.size() && m[i].value) {
    value = *m[i].value;
  } else {
    return std::nullopt;
  }
  // KEDA hands the HPA milli-quantities, and negative values as 0.
  const double usage = value > 0 ? static_cast<double>(static_cast<int64_t>(value * 1000)) : 0;
  const double target = static_cast<double>(static_cast<int64_t>(t.target * 1000));
  const double current = replicas_;
  if (t.metric_type == KedaTrigger::MetricType::kAverageValue) {
    const double ratio = usage / (target * current);
    if (std::abs(1 - ratio) <= config_.hpa_tolerance) return replicas_;
    return static_cast<int>(std::ceil(usage / target));
  }
  // Value: the ratio applies to the ready instances, which in Ofn are the ones running.
  const double ratio = usage / target;
  if (std::abs(1 - ratio) <= config_.hpa_tolerance) return replicas_;
  return static_cast<int>(std::ceil(ratio * current));
}

void KedaScaler::HpaStep(TimePoint now, WallTime wall, const std::vector<KedaMeasurement>& m, std::string& why) {
  const int lo = config_.hpa_min_replicas(), hi = config_.max_replicas;
  int desired = 0;
  if (replicas_ > hi) {
    desired = hi;
    why += "hpa: above maxReplicas; ";
  } else if (replicas_ < lo) {
    desired = lo;
    why += "hpa: below minReplicas; ";
  } else {
    std::optional<int> proposal;
    int failed = 0;
    for (size_t i = 0; i < config_.triggers.size(); ++i) {
      const auto p = Proposal(i, wall, m);
      if (!p)
        ++failed;
      else
        proposal = std::max(proposal.value_or(INT_MIN), *p);  // the largest proposal wins
    }
    if (!proposal || (failed > 0 && *proposal < replicas_)) {
      why += "hpa: " + Count(failed) + " trigger(s) not measured; holding " + Count(replicas_) + "; ";
      return;
    }
    why += "hpa: metrics ask for " + Count(*proposal) + "; ";
    desired = config_.behavior ? NormalizeWithBehavior(now, *proposal, why) : NormalizeLegacy(now, *proposal, why);
  }
  if (desired == replicas_) return;
  why += Count(replicas_) + " -> " + Count(desired) + "; ";
  if (config_.behavior) {
    while (!scale_events_.empty() && scale_events_.front().at <= now - kLongestPolicyPeriod) scale_events_.pop_front();
    scale_events_.push_back({now, desired - replicas_});
  }
  replicas_ = desired;
}

int KedaScaler::NormalizeLegacy(TimePoint now, int proposal, std::string& why) {
  // stabilizeRecommendation: the highest recommendation in the downscale window.
  const TimePoint cutoff = now - config_.downscale_stabilization;
  while (!recommendations_.empty() && recommendations_.front().at < cutoff) recommendations_.pop_front();
  int stabilized = proposal;
  for (const Timed& r : recommendations_) stabilized = std::max(stabilized, r.value);
  recommendations_.push_back({now, proposal});
  if (stabilized > proposal) why += "held at " + Count(stabilized) + " by the scale-down stabilization window; ";
  // convertDesiredReplicasWithRules: at most max(2 x current, 4) per sync.
  const int up_limit = std::max(2 * replicas_, 4);
  const int allowed = std::min(config_.max_replicas, up_limit);
  if (stabilized > allowed)
    why += "limited to " + Count(allowed) + (allowed == up_limit ? " (scale-up limit); " : " (maxReplicas); ");
  return std::clamp(stabilized, config_.hpa_min_replicas(), allowed);
}

int KedaScaler::NormalizeWithBehavior(TimePoint now, int proposal, std::string& why) {
  const HpaBehavior& b = *config_.behavior;
  const TimePoint up_cutoff = now - b.scale_up.stabilization_window;
  const TimePoint down_cutoff = now - b.scale_down.stabilization_window;
  const TimePoint oldest = std::min(up_cutoff, down_cutoff);
  while (!recommendations_.empty() && recommendations_.front().at <= oldest) recommendations_.pop_front();
  int up = proposal, down = proposal;
  for (const Timed& r : recommendations_) {
    if (r.at > up_cutoff) up = std::min(up, r.value);
    if (r.at > down_cutoff) down = std::max(down, r.value);
  }
  recommendations_.push_back({now, proposal});
  const int stabilized = std::min(std::max(replicas_, up), down);
  if (stabilized != proposal) why += "held at " + Count(stabilized) + " by the stabilization window" + "; ";
  return RateLimit(now, stabilized, why);
}

int KedaScaler::ChangeWithin(TimePoint now, std::chrono::seconds period, bool up) const {
  int sum = 0;
  for (const Timed& e : scale_events_)
    if (e.at > now - period && (e.value > 0) == up) sum += up ? e.value : -e.value;
  return sum;
}

int KedaScaler::RateLimit(TimePoint now, int desired, std::string& why) const {
  const bool scaling_up = desired > replicas_;
  if (desired == replicas_) return desired;
  const HpaScalingRules& rules = scaling_up ? config_.behavior->scale_up : config_.behavior->scale_down;
  int limit = replicas_;  // Disabled: no change in this direction
  if (rules.select != SelectPolicy::kDisabled) {
    // Max picks the biggest change: the highest limit going up, the lowest going down.
    const bool highest = (rules.select == SelectPolicy::kMax) == scaling_up;
    limit = highest ? INT_MIN : INT_MAX;
    for (const HpaPolicy& p : rules.policies) {
      const int start = replicas_ - ChangeWithin(now, p.period, true) + ChangeWithin(now, p.period, false);
      int proposed = 0;
      if (p.type == HpaPolicy::Type::kPods)
        proposed = scaling_up ? start + p.value : start - p.value;
      else if (scaling_up)
        proposed = static_cast<int>(std::ceil(start * (1 + p.value / 100.0)));
      else
        proposed = static_cast<int>(start * (1 - p.value / 100.0));  // truncates, as Go's int32()
      limit = highest ? std::max(limit, proposed) : std::min(limit, proposed);
    }
  }
  if (scaling_up) {
    const int allowed = std::min(config_.max_replicas, std::max(limit, replicas_));
    if (desired <= allowed) return desired;
    why += "limited to " + Count(allowed) +
           (allowed == config_.max_replicas ? " (maxReplicas); " : " (scale-up policies); ");
    return allowed;
  }
  const int allowed = std::max(config_.hpa_min_replicas(), std::min(limit, replicas_));
  if (desired >= allowed) return desired;
  why += "limited to " + Count(allowed) + " (scale-down policies); ";
  return allowed;
}

}  // namespace ofn::autoscaler

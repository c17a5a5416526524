#include "autoscaler/kpa.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autoscaler/numbers.h"
#include "common/duration.h"

namespace ofn::autoscaler {

const char* ActivityName(Activity a) {
  switch (a) {
    case Activity::kActivating: return "Activating";
    case Activity::kActive: return "Active";
    case Activity::kInactive: return "Inactive";
  }
  return "?";
}

namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

// The KPA gives up on an activation this long after the progress deadline.
constexpr seconds kActivationTimeoutSlack(30);

double Seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Pod counts come from ceil/floor of doubles; keep them in int range.
int ToCount(double x) { return static_cast<int>(std::clamp(x, -1e9, 1e9)); }

std::string Secs(nanoseconds d) {
  return FormatDuration(std::chrono::round<std::chrono::milliseconds>(d));
}

}  // namespace

KpaScaler::KpaScaler(KpaConfig config, TimePoint now, int ready_pods)
    : config_(std::move(config)),
      stable_concurrency_(config_.stable_window),
      panic_concurrency_(config_.panic_window),
      stable_rps_(config_.stable_window),
      panic_rps_(config_.panic_window),
      cursor_(now),
      activity_since_(now) {
  if (config_.scale_down_delay > nanoseconds(0)) scale_down_delay_.emplace(config_.scale_down_delay);
  // What Knative creates the deployment with: initial-scale, within the bounds.
  desired_ = std::max(config_.initial_scale, config_.min_scale);
  if (config_.max_scale > 0) desired_ = std::min(desired_, config_.max_scale);
  ready_ = std::max(0, ready_pods);
  if (ready_ > 1) {
    // A new autoscaler knows no history; panic mode keeps it from scaling down
    // instances that may well be busy.
    panicking_ = true;
    panic_time_ = now;
    max_panic_pods_ = ready_;
  }
  const double tbc = config_.target_burst_capacity;
  excess_burst_capacity_ = (tbc == 0 || tbc == -1) ? tbc : config_.initial_scale * config_.total_value - tbc;
}

void KpaScaler::Report(TimePoint at, double concurrency, double requests) {
  // With no instance up and no load, Knative has nothing to scrape and the
  // activator reports nothing: no record, so after a window of silence a new
  // burst is averaged over its own seconds only and scales up at full speed.
  if (concurrency <= 0 && requests <= 0 && ready_ == 0) return;
  stable_concurrency_.Record(at, concurrency);
  panic_concurrency_.Record(at, concurrency);
  stable_rps_.Record(at, requests);
  panic_rps_.Record(at, requests);
}

void KpaScaler::Advance(TimePoint now) {
  if (now <= cursor_) return;
  const auto second_of = [](TimePoint t) { return std::chrono::floor<seconds>(t); };
  const TimePoint last_boundary = second_of(now);
  if (last_boundary > cursor_) {
    // Close the second in progress: its time-weighted mean concurrency
    // (request-seconds over one second) and its arrivals, reported at its end
    // as a queue-proxy report is scraped.
    const TimePoint end = second_of(cursor_) + seconds(1);
    area_ += level_ * Seconds(end - cursor_);
    Report(end, area_, arrivals_);
    area_ = 0;
    arrivals_ = 0;
    // Whole seconds since then ran at a constant level. Only the last window's
    // worth can still matter.
    if (level_ > 0 || ready_ > 0) {
      TimePoint from = end + seconds(1);
      const TimePoint oldest_useful = last_boundary - seconds(stable_concurrency_.buckets() - 1);
      if (from < oldest_useful) from = oldest_useful;
      for (TimePoint t = from; t <= last_boundary; t += seconds(1)) Report(t, level_, 0);
    }
    cursor_ = last_boundary;
  }
  area_ += level_ * Seconds(now - cursor_);
  cursor_ = now;
}

bool KpaScaler::MaybePoke(TimePoint now) {
  if (desired_ != 0) return false;
  if (!poked_) {
    // Like the activator's immediate report for a revision's first request:
    // one request, in flight now, recorded at once.
    stable_concurrency_.Record(now, 1);
    panic_concurrency_.Record(now, 1);
    stable_rps_.Record(now, 1);
    panic_rps_.Record(now, 1);
    poked_ = true;
  }
  return true;
}

bool KpaScaler::RecordConcurrency(TimePoint now, int in_flight) {
  Advance(now);
  level_ = std::max(0, in_flight);
  return level_ > 0 && MaybePoke(now);
}

bool KpaScaler::RecordRequest(TimePoint now) {
  Advance(now);
  arrivals_ += 1;
  return MaybePoke(now);
}

Decision KpaScaler::Decide(TimePoint now, int ready_pods) {
  const int ready = std::max(0, ready_pods);
  Advance(now);  // the seconds that elapsed had the previous ready count
  ready_ = ready;
  poked_ = false;

  Decision d;
  std::string why;
  const int want = DeciderStep(now, ready, d, why);
  const int scale = ReconcileStep(now, ready, want, why);
  UpdateActivity(now, ready, scale);
  if (scale >= 0) desired_ = scale;

  d.desired = desired_;
  d.panic = panicking_;
  d.activity = activity_;
  d.excess_burst_capacity = excess_burst_capacity_;
  d.reason = std::move(why);
  return d;
}

int KpaScaler::DeciderStep(TimePoint now, int ready, Decision& d, std::string& why) {
  const bool rps = config_.metric == KpaMetric::kRps;
  const MetricWindow& stable = rps ? stable_rps_ : stable_concurrency_;
  const MetricWindow& panic = rps ? panic_rps_ : panic_concurrency_;
  const std::string metric = KpaMetricName(config_.metric);

  // Instances are up but nothing was measured for a window (e.g. just
  // created): do not act on an absence of data.
  if (ready > 0 && stable.IsEmpty(now)) {
    why = "no " + metric + " data yet";
    return -1;
  }
  const auto average = [&](const MetricWindow& w) {
    return config_.aggregation == Aggregation::kWeightedExponential ? w.WeightedExponentialAverage(now)
                                                                     : w.LinearAverage(now);
  };
  const double observed_stable = average(stable);
  const double observed_panic = average(panic);
  d.stable_value = observed_stable;
  d.panic_value = observed_panic;

  const int r = std::max(1, ready);
  const int max_up = ToCount(std::ceil(config_.max_scale_up_rate * r));
  const int max_down = ToCount(std::floor(r / config_.max_scale_down_rate));
  const int dspc = ToCount(std::ceil(observed_stable / config_.target_value));
  const int dppc = ToCount(std::ceil(observed_panic / config_.target_value));
  // max first, then min: the scale-up limit wins if the two cross.
  const auto limit = [&](int n) { return std::min(std::max(n, max_down), max_up); };
  int des_stable = limit(dspc);
  int des_panic = limit(dppc);
  if (config_.activation_scale > 1) {
    if (dspc > 0) des_stable = std::max(des_stable, config_.activation_scale);
    if (dppc > 0) des_panic = std::max(des_panic, config_.activation_scale);
  }

  // Panic compares the instances the panic window asks for with those ready,
  // not the raw load.
  const bool over = static_cast<double>(dppc) / r >= config_.panic_threshold;
  if (over) {
    panicking_ = true;
    panic_time_ = now;  // each spike extends panic mode
  } else if (panicking_ && panic_time_ + config_.stable_window < now) {
    panicking_ = false;
    max_panic_pods_ = 0;
  }

  const std::string target_text = " / target " + FormatNumber(config_.target_value);
  int out;
  if (panicking_) {
    out = std::max(des_stable, des_panic);
    max_panic_pods_ = std::max(max_panic_pods_, out);
    why = "panic mode: " + metric + " " + FormatNumber(observed_panic) + " over " +
          FormatDuration(config_.panic_window) + target_text + " -> " + std::to_string(dppc) + " for " +
          std::to_string(ready) + " ready";
    if (max_panic_pods_ > out) why += "; never scaling down in panic, holding " + std::to_string(max_panic_pods_);
    out = max_panic_pods_;
  } else {
    out = des_stable;
    why = metric + " " + FormatNumber(observed_stable) + " over " + FormatDuration(config_.stable_window) +
          target_text + " -> " + std::to_string(dspc);
    if (des_stable != dspc) {
      why += des_stable > dspc && dspc > 0 && des_stable == config_.activation_scale
                 ? "; activation-scale " + std::to_string(des_stable)
                 : "; rate-limited to " + std::to_string(des_stable) + " from " + std::to_string(ready) + " ready";
    }
  }

  if (scale_down_delay_) {
    scale_down_delay_->Record(now, out);
    const int held = scale_down_delay_->Current();
    if (held > out) why += "; scale-down-delay " + FormatDuration(config_.scale_down_delay) + " holds " +
                           std::to_string(held);
    out = held;
  }

  const double tbc = config_.target_burst_capacity;
  if (tbc == 0 || tbc == -1) excess_burst_capacity_ = tbc;
  else excess_burst_capacity_ = std::floor(ready * config_.total_value - tbc - observed_panic);
  return out;
}

int KpaScaler::ReconcileStep(TimePoint now, int ready, int want, std::string& why) {
  int lo = config_.min_scale;
  const int hi = config_.max_scale;
  // initial-scale is a floor only until the function first reaches it.
  if (!initialized_ && config_.initial_scale > 1) lo = std::max(lo, config_.initial_scale);

  if (want < 0) {
    // No data: leave the count alone, except that an activating function is
    // brought up to its floor.
    if (activity_ == Activity::kActivating && lo > 0) {
      const int scale = hi > 0 ? std::min(lo, hi) : lo;
      why += "; starting at " + std::to_string(scale);
      return scale;
    }
    why += "; keeping " + std::to_string(desired_);
    return -1;
  }

  int scale = std::max(want, lo);
  if (hi > 0) scale = std::min(scale, hi);
  if (scale > want) {
    why += (lo == config_.min_scale ? "; min-scale " : "; initial-scale ") + std::to_string(lo);
  } else if (scale < want) {
    why += "; max-scale " + std::to_string(hi);
  }
  if (scale > 0) return scale;

  // Scale to zero (§1.6).
  if (!config_.enable_scale_to_zero) {
    why += "; scale to zero disabled, keeping 1";
    return 1;
  }
  const nanoseconds in_state = now - activity_since_;
  switch (activity_) {
    case Activity::kActivating:
      if (in_state > config_.progress_deadline + kActivationTimeoutSlack) {
        why += "; activation timed out after " + Secs(in_state);
        return 0;
      }
      why += "; activating, keeping " + std::to_string(desired_);
      return -1;
    case Activity::kActive:
      // Stay up for a stable window after becoming active, so that a burst
      // that woke the function is not followed by an immediate cold start.
      if (in_state < config_.stable_window) {
        why += "; active for " + Secs(in_state) + " of the " + FormatDuration(config_.stable_window) +
               " stable window, keeping 1";
        return 1;
      }
      SetActivity(now, Activity::kInactive);
      why += "; idle, now inactive, keeping " + std::to_string(desired_);
      return -1;
    case Activity::kInactive: {
      // Ofn's gateway is always in the request path (Knative's "proxy mode"
      // from the moment a revision goes inactive), so the activator probe
      // always succeeds and the time in proxy mode is the time inactive.
      const nanoseconds grace = config_.scale_to_zero_grace_period;
      const nanoseconds retention = config_.scale_to_zero_pod_retention_period;
      // With proxy time = inactive time, §1.6's four checks (>= max(grace,
      // retention): zero; < retention: wait; proxied >= grace: zero; else
      // wait) reduce to one.
      if (in_state >= std::max(grace, retention)) {
        why += "; idle for " + Secs(in_state) + ", scaled to zero";
        return 0;
      }
      const nanoseconds wait = std::max(grace, retention) - in_state;
      why += "; idle for " + Secs(in_state) + ", zero in " + Secs(wait) + " (" +
             (retention > grace ? "scale-to-zero-pod-retention-period " + FormatDuration(retention)
                                : "scale-to-zero-grace-period " + FormatDuration(grace)) +
             ")";
      return -1;
    }
  }
  return -1;
}

void KpaScaler::UpdateActivity(TimePoint now, int ready, int scale) {
  const int threshold = initialized_ ? std::max(config_.min_scale, 1)
                                     : std::max(config_.min_scale, config_.initial_scale);
  if (ready >= threshold) initialized_ = true;
  if (scale == 0 || threshold == 0) {
    SetActivity(now, Activity::kInactive);
  } else if (scale > 0 || activity_ != Activity::kInactive) {
    // An inactive function waiting out its grace period stays inactive.
    SetActivity(now, ready < threshold ? Activity::kActivating : Activity::kActive);
  }
}

void KpaScaler::SetActivity(TimePoint now, Activity a) {
  if (a == activity_) return;
  activity_ = a;
  activity_since_ = now;
}

}  // namespace ofn::autoscaler

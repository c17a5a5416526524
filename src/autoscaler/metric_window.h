// MetricWindow: a time window of per-second buckets holding the observed load
// of one function (concurrency or requests), averaged the way Knative's KPA
// does (fact sheet §1.4).
//
// Records that fall in the same second are summed. A write to a new second
// zeroes the seconds skipped since the last write, so a gap counts as 0; when
// nothing was written for a whole window the buffer starts over, and a new
// series is averaged only over the seconds it has existed (six seconds of 5
// average to 5, not to 30/60). A record older than the window is dropped.
//
// Not thread-safe: the owning KpaScaler serialises access.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace ofn::autoscaler {

class MetricWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `window` is rounded up to whole seconds (at least one bucket).
  explicit MetricWindow(std::chrono::nanoseconds window);

  void Record(TimePoint t, double value);

  // Knative's "linear" average: the total of the buckets still inside the
  // window, over the seconds the series has existed (at most the window),
  // rounded to 6 decimal places. 0 when nothing was written for a window.
  double LinearAverage(TimePoint now) const;

  // Knative's "weighted-exponential" average: sum of a(1-a)^(i+z) * bucket,
  // newest bucket first, where z is the number of empty seconds since the last
  // write and a = max(1 - 0.0001^(1/buckets), 0.2). Not normalised.
  double WeightedExponentialAverage(TimePoint now) const;

  // True when nothing was ever written or the last write is more than a window
  // old: there is no data to decide on.
  bool IsEmpty(TimePoint now) const;

  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  static int64_t Second(TimePoint t);
  double& At(int64_t second) { return buckets_[Index(second)]; }
  double At(int64_t second) const { return buckets_[Index(second)]; }
  size_t Index(int64_t second) const;

  std::vector<double> buckets_;  // bucket of second s lives at s mod size
  bool written_ = false;
  int64_t first_write_ = 0;  // seconds since the steady clock's epoch
  int64_t last_write_ = 0;
};

}  // namespace ofn::autoscaler

#include "autoscaler/metric_window.h"

#include <algorithm>
#include <cmath>

namespace ofn::autoscaler {

MetricWindow::MetricWindow(std::chrono::nanoseconds window) {
  const auto secs = std::chrono::ceil<std::chrono::seconds>(window).count();
  buckets_.assign(static_cast<size_t>(std::max<int64_t>(1, secs)), 0.0);
}

int64_t MetricWindow::Second(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

size_t MetricWindow::Index(int64_t second) const {
  const int64_t n = buckets();
  return static_cast<size_t>(((second % n) + n) % n);
}

void MetricWindow::Record(TimePoint t, double value) {
  const int64_t s = Second(t);
  const int64_t n = buckets();
  if (!written_ || s - last_write_ >= n) {
    // Nothing written for a whole window: start a new series here.
    std::fill(buckets_.begin(), buckets_.end(), 0.0);
    written_ = true;
    first_write_ = last_write_ = s;
  } else if (s <= last_write_ - n) {
    return;  // older than the window
  } else if (s > last_write_) {
    for (int64_t k = last_write_ + 1; k <= s; ++k) At(k) = 0.0;  // skipped seconds count as 0
    last_write_ = s;
  }
  first_write_ = std::min(first_write_, s);
  At(s) += value;
}

bool MetricWindow::IsEmpty(TimePoint now) const { return !written_ || Second(now) - last_write_ > buckets(); }

double MetricWindow::LinearAverage(TimePoint now) const {
  if (!written_) return 0;
  const int64_t n = buckets();
  const int64_t d = Second(now) - last_write_;
  if (d >= n) return 0;
  const int64_t existed = last_write_ - first_write_ + 1;
  double total = 0;
  int64_t divisor;
  if (d <= 0) {
    for (double b : buckets_) total += b;
    divisor = std::min(existed, n);
  } else {
    // The d newest slots hold seconds that have left the window.
    for (int64_t k = last_write_ - (n - d) + 1; k <= last_write_; ++k) total += At(k);
    divisor = std::min(existed, n - d);
  }
  return std::round(total / static_cast<double>(divisor) * 1e6) / 1e6;
}

double MetricWindow::WeightedExponentialAverage(TimePoint now) const {
  if (!written_) return 0;
  const int64_t n = buckets();
  const int64_t z = std::max<int64_t>(0, Second(now) - last_write_);
  if (z >= n) return 0;
  const double alpha = std::max(1 - std::pow(0.0001, 1.0 / static_cast<double>(n)), 0.2);
  double weight = alpha * std::pow(1 - alpha, static_cast<double>(z));
  double value = 0;
  // Buckets still inside the window, newest first.
  for (int64_t i = 0; i < n - z && last_write_ - i >= first_write_; ++i) {
    value += weight * At(last_write_ - i);
    weight *= 1 - alpha;
  }
  return value;
}

}  // namespace ofn::autoscaler

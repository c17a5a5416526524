#include "autoscaler/max_window.h"

#include <algorithm>

namespace ofn::autoscaler {

MaxWindow::MaxWindow(std::chrono::nanoseconds window, std::chrono::nanoseconds slot) : slot_(slot) {
  const int64_t n = (window.count() + slot.count() - 1) / slot.count();
  slots_.resize(static_cast<size_t>(std::max<int64_t>(1, n)));
}

int64_t MaxWindow::SlotOf(TimePoint t) const {
  const int64_t ns = t.time_since_epoch().count();
  const int64_t s = slot_.count();
  return ns >= 0 ? ns / s : -((-ns + s - 1) / s);  // floor division
}

MaxWindow::Slot& MaxWindow::At(int64_t slot) {
  const auto n = static_cast<int64_t>(slots_.size());
  return slots_[static_cast<size_t>(((slot % n) + n) % n)];
}

void MaxWindow::Record(TimePoint t, int value) {
  const int64_t k = SlotOf(t);
  const auto n = static_cast<int64_t>(slots_.size());
  if (!written_ || k - last_ >= n) {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    written_ = true;
    last_ = k;
  } else if (k > last_) {
    for (int64_t j = last_ + 1; j <= k; ++j) At(j) = Slot{};  // slots that left the window
    last_ = k;
  }
  Slot& s = At(last_);
  s.value = s.set ? std::max(s.value, value) : value;
  s.set = true;
}

int MaxWindow::Current() const {
  bool any = false;
  int best = 0;
  for (const Slot& s : slots_) {
    if (!s.set) continue;
    best = any ? std::max(best, s.value) : s.value;
    any = true;
  }
  return best;
}

}  // namespace ofn::autoscaler

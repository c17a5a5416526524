// MaxWindow: the largest value recorded over a sliding time window, in
// fixed-size time slots. The KPA uses it for scale-down-delay (fact sheet
// §1.5 step 9): each decision is recorded and the output is the maximum over
// the last D, so a scale-down only happens once the lower value has held for
// the whole delay. Knative uses 2 s slots (its decision tick).
//
// Not thread-safe: the owning KpaScaler serialises access.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace ofn::autoscaler {

class MaxWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // window / slot is rounded up to whole slots (at least one).
  explicit MaxWindow(std::chrono::nanoseconds window,
                     std::chrono::nanoseconds slot = std::chrono::seconds(2));

  // Values recorded in the same slot keep their maximum. Time does not go
  // backwards: a record in an earlier slot than the last counts in the last.
  void Record(TimePoint t, int value);

  // The maximum over the slots inside the window that ends at the last
  // record's slot; 0 before any record.
  int Current() const;

 private:
  struct Slot {
    bool set = false;
    int value = 0;
  };
  int64_t SlotOf(TimePoint t) const;
  Slot& At(int64_t slot);

  std::chrono::nanoseconds slot_;
  std::vector<Slot> slots_;  // slot k lives at k mod size
  bool written_ = false;
  int64_t last_ = 0;
};

}  // namespace ofn::autoscaler

// Clock: an injectable source of monotonic time, so that time-driven logic
// (the autoscaler's windows, the runtime's backoff, the gateway's deadlines)
// can be tested deterministically.
//
// Code that needs "now" takes a `const Clock&` and never reads
// std::chrono::steady_clock itself. SystemClock reads the real monotonic
// clock; FakeClock only moves when a test moves it. Both are thread-safe:
// SystemClock has no state and FakeClock keeps its time in an atomic, so a
// test thread may advance it while workers read it.
#pragma once

#include <atomic>
#include <chrono>

namespace ofn::autoscaler {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }

  // A process-wide instance for callers that do not inject one.
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  // Starts well past the epoch so that tests can subtract durations from
  // Now() without going below zero.
  FakeClock() : FakeClock(TimePoint(std::chrono::hours(1000))) {}
  explicit FakeClock(TimePoint start) : ticks_(start.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(Duration(ticks_.load(std::memory_order_acquire))); }
  void Advance(Duration d) { ticks_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void Set(TimePoint t) { ticks_.store(t.time_since_epoch().count(), std::memory_order_release); }

 private:
  std::atomic<Duration::rep> ticks_;
};

}  // namespace ofn::autoscaler

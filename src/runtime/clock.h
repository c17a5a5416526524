// NowFn: where the runtime's time-based logic reads the time.
//
// Restart backoff and crash-loop detection are pure logic over time points;
// taking "now" as an injected function lets tests drive them with a fake clock
// instead of sleeping. SteadyNow() is the real one. A NowFn is called from
// whichever thread uses the logic it was given to; SteadyNow is thread-safe.
#pragma once

#include <chrono>
#include <functional>

namespace ofn::runtime {

using TimePoint = std::chrono::steady_clock::time_point;
using NowFn = std::function<TimePoint()>;

inline TimePoint SteadyNow() { return std::chrono::steady_clock::now(); }

}  // namespace ofn::runtime

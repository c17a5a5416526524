// RestartPolicy: when to restart an instance whose process ended, and when
// to give up because it is crash-looping.
//
// A crashed instance restarts after 0.1 s, then 0.2 s, 0.4 s ... doubling up
// to 10 s; once a process stayed up for 60 s the next crash starts again from
// 0.1 s. Five crashes within 60 s is a crash loop: the instance is Failed and
// not restarted. All figures are Options. Pure logic over an injected clock
// (clock.h), so it is tested without sleeping.
//
// Thread-safety: none; one RestartPolicy belongs to one instance and is used
// by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "runtime/clock.h"

namespace ofn::runtime {

struct RestartOptions {
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  // A process that stayed up this long resets the backoff to initial_backoff.
  std::chrono::milliseconds reset_after{60000};
  // crash_loop_crashes crashes within crash_loop_window is a crash loop
  // (crash_loop_crashes <= 0: never).
  int crash_loop_crashes = 5;
  std::chrono::milliseconds crash_loop_window{60000};
};

struct RestartDecision {
  bool crash_loop = false;             // give up: the instance is Failed
  std::chrono::milliseconds delay{0};  // otherwise restart after this long
  int crashes_in_window = 0;           // this crash included
};

class RestartPolicy {
 public:
  explicit RestartPolicy(RestartOptions options = {}, NowFn now = SteadyNow);

  // A process of the instance was started now.
  void Started();
  // The process ended without being asked to: restart after a delay, or give up.
  RestartDecision Crashed();

  const RestartOptions& options() const { return options_; }

 private:
  RestartOptions options_;
  NowFn now_;
  TimePoint started_{};
  std::chrono::milliseconds next_backoff_;
  std::deque<TimePoint> crashes_;  // within the crash-loop window, oldest first
};

// The Failed reason of a crash loop: how many crashes in what window, the
// last exit ("exit code 3", "signal 9 (Killed)") and the last lines of the
// instance's log, e.g.
//   crash loop: 5 crashes within 60s; last exit code 3; last log lines:
//   | cannot open config.yaml
std::string CrashLoopReason(const RestartDecision& decision, const RestartOptions& options,
                            std::string_view last_exit, std::string_view log_tail);

// The last `max_lines` lines of `text` (a trailing partial line counts), at
// most `max_bytes` bytes (cut at a line start when possible).
std::string LastLines(std::string_view text, std::size_t max_lines, std::size_t max_bytes);

}  // namespace ofn::runtime

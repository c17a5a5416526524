#include "runtime/restart_policy.h"

#include <gtest/gtest.h>

namespace ofn::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct FakeClock {
  TimePoint now{};
  NowFn fn() {
    return [this] { return now; };
  }
  void Advance(std::chrono::steady_clock::duration d) { now += d; }
};

TEST(RestartPolicyTest, BackoffDoublesFromATenthOfASecondUpToTenSeconds) {
  FakeClock clock;
  RestartOptions opts;
  opts.crash_loop_crashes = 0;  // never give up: only the backoff matters here
  RestartPolicy policy(opts, clock.fn());
  std::vector<long> delays;
  for (int i = 0; i < 10; ++i) {
    policy.Started();
    clock.Advance(milliseconds(5));
    RestartDecision d = policy.Crashed();
    EXPECT_FALSE(d.crash_loop);
    delays.push_back(d.delay.count());
    clock.Advance(d.delay);
  }
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000}));
}

TEST(RestartPolicyTest, BackoffResetsAfterStayingUpSixtySeconds) {
  FakeClock clock;
  RestartOptions opts;
  opts.crash_loop_crashes = 0;
  RestartPolicy policy(opts, clock.fn());
  for (int i = 0; i < 4; ++i) {
    policy.Started();
    clock.Advance(milliseconds(1));
    clock.Advance(policy.Crashed().delay);
  }
  policy.Started();
  clock.Advance(seconds(59));
  EXPECT_EQ(policy.Crashed().delay, milliseconds(1600)) << "59 s up is not enough";
  policy.Started();
  clock.Advance(seconds(60));
  EXPECT_EQ(policy.Crashed().delay, milliseconds(100));
  policy.Started();
  clock.Advance(milliseconds(1));
  EXPECT_EQ(policy.Crashed().delay, milliseconds(200));
}

TEST(RestartPolicyTest, FiveCrashesWithinSixtySecondsIsACrashLoop) {
  FakeClock clock;
  RestartPolicy policy({}, clock.fn());
  for (int i = 1; i <= 4; ++i) {
    policy.Started();
    clock.Advance(milliseconds(10));
    RestartDecision d = policy.Crashed();
    EXPECT_FALSE(d.crash_loop) << "crash " << i;
    EXPECT_EQ(d.crashes_in_window, i);
    clock.Advance(d.delay);
  }
  policy.Started();
  clock.Advance(milliseconds(10));
  RestartDecision d = policy.Crashed();
  EXPECT_TRUE(d.crash_loop);
  EXPECT_EQ(d.crashes_in_window, 5);
}

TEST(RestartPolicyTest, CrashesSpreadBeyondTheWindowAreNotALoop) {
  FakeClock clock;
  RestartPolicy policy({}, clock.fn());
  // A crash every 20 s: never more than 3 in any 60 s (the 4th back is exactly 60 s old: outside).
  for (int i = 0; i < 20; ++i) {
    policy.Started();
    clock.Advance(seconds(20));
    RestartDecision d = policy.Crashed();
    ASSERT_FALSE(d.crash_loop) << "crash " << i;
    EXPECT_LE(d.crashes_in_window, 3);
  }
}

TEST(RestartPolicyTest, LimitsAreConfigurable) {
  FakeClock clock;
  RestartOptions opts;
  opts.initial_backoff = milliseconds(10);
  opts.max_backoff = milliseconds(25);
  opts.crash_loop_crashes = 3;
  opts.crash_loop_window = seconds(1);
  RestartPolicy policy(opts, clock.fn());
  EXPECT_EQ(policy.Crashed().delay, milliseconds(10));
  EXPECT_EQ(policy.Crashed().delay, milliseconds(20));
  clock.Advance(seconds(1));  // the first two leave the window
  EXPECT_EQ(policy.Crashed().delay, milliseconds(25));
  EXPECT_FALSE(policy.Crashed().crash_loop);
  EXPECT_TRUE(policy.Crashed().crash_loop);
}

TEST(RestartPolicyTest, CrashLoopReasonNamesTheExitAndTheLogTail) {
  RestartDecision d;
  d.crash_loop = true;
  d.crashes_in_window = 5;
  std::string r = CrashLoopReason(d, RestartOptions{}, "exit code 3", "loading\ncannot open config.yaml");
  EXPECT_EQ(r,
            "crash loop: 5 crashes within 60s; last exit code 3; last log lines:\n"
            "| loading\n| cannot open config.yaml");
  EXPECT_EQ(CrashLoopReason(d, RestartOptions{}, "signal 9 (Killed)", ""),
            "crash loop: 5 crashes within 60s; last signal 9 (Killed); the log is empty");
}

TEST(LastLinesTest, TakesTheLastLines) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2, 100), "b\nc");
  EXPECT_EQ(LastLines("a\nb\nc", 2, 100), "b\nc");
  EXPECT_EQ(LastLines("a\nb\nc\n", 10, 100), "a\nb\nc");
  EXPECT_EQ(LastLines("only", 3, 100), "only");
  EXPECT_EQ(LastLines("", 3, 100), "");
  EXPECT_EQ(LastLines("a\n\nb\n", 2, 100), "\nb");
  EXPECT_EQ(LastLines("x\n", 0, 100), "");
}

TEST(LastLinesTest, CutsToTheByteLimitAtALineStart) {
  EXPECT_EQ(LastLines("first line\nsecond\nthird\n", 10, 13), "second\nthird");
  EXPECT_EQ(LastLines("first line\nsecond\nthird\n", 10, 11), "third");
  EXPECT_EQ(LastLines("0123456789", 1, 4), "6789");
}

}  // namespace
}  // namespace ofn::runtime

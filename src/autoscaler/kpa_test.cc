#include "autoscaler/kpa.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <string>

#include "autoscaler/clock.h"

namespace ofn::autoscaler {
namespace {

using namespace std::chrono_literals;
using Annotations = std::map<std::string, std::string>;
using TimePoint = Clock::TimePoint;

std::string K(const std::string& name) { return std::string(kAutoscalingPrefix) + name; }

KpaConfig Config(const Annotations& a, KpaDefaults d = KpaDefaults::Knative(), int cc = 0) {
  auto c = KpaConfig::FromAnnotations(a, -1, -1, cc, d);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : KpaConfig{};
}

KpaDefaults ZeroInitialAllowed(KpaDefaults d) {
  d.allow_zero_initial_scale = true;
  return d;
}

// Drives one scaler on a fake clock. Times are seconds after the start.
class Sim {
 public:
  explicit Sim(const KpaConfig& c, int ready_at_start = 0) : scaler_(c, clock_.Now(), ready_at_start) {}

  TimePoint T(double secs) const {
    return start_ + std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(secs));
  }
  // Sets the in-flight count at time `secs`; true when the scaler asks for a Decide now.
  bool Load(double secs, int in_flight) {
    clock_.Set(T(secs));
    return scaler_.RecordConcurrency(clock_.Now(), in_flight);
  }
  bool Request(double secs) {
    clock_.Set(T(secs));
    return scaler_.RecordRequest(clock_.Now());
  }
  Decision Decide(double secs, int ready) {
    clock_.Set(T(secs));
    last_ = scaler_.Decide(clock_.Now(), ready);
    return last_;
  }
  // A tick where every instance asked for earlier is ready (Ofn's cold starts
  // take milliseconds).
  Decision Tick(double secs) { return Decide(secs, scaler_.desired()); }

  KpaScaler& scaler() { return scaler_; }

 private:
  FakeClock clock_;
  TimePoint start_ = clock_.Now();
  KpaScaler scaler_;
  Decision last_;
};

// Fact sheet §1.9, number for number: a spike enters panic, panic is extended
// while over the threshold, holds the count through a drop, exits a stable
// window after the last spike, then the rate-limited scale-down and the scale
// to zero.
TEST(KpaTest, WorkedExampleFromTheFactSheet) {
  Sim sim(Config({{K("target"), "10"}}));  // CC 0, utilization 70%: TotalValue 10, TargetValue 7
  EXPECT_EQ(sim.Decide(0, 2).reason, "no concurrency data yet; keeping 1");
  // Per-second concurrency: 0 for 12 s, 42 for 30 s, 30 for 6 s, 14 for 36 s, 12 for 6 s.
  sim.Load(12, 42);

  // t0 = 18 s: S = (12*0 + 6*42)/18 = 14, P = 42.
  Decision d = sim.Decide(18, 2);
  EXPECT_DOUBLE_EQ(d.stable_value, 14.0);
  EXPECT_DOUBLE_EQ(d.panic_value, 42.0);
  EXPECT_TRUE(d.panic);  // dppc 6 over 2 ready = 3 >= 2
  EXPECT_EQ(d.desired, 6);
  EXPECT_DOUBLE_EQ(d.excess_burst_capacity, -233);  // floor(2*10 - 211 - 42)

  // t0+10 s: still over the threshold, which extends panic to 28 s + 60 s.
  d = sim.Decide(28, 2);
  EXPECT_DOUBLE_EQ(d.stable_value, 24.0);
  EXPECT_TRUE(d.panic);
  EXPECT_EQ(d.desired, 6);

  sim.Load(42, 30);
  // t0+30 s: S = P = 30, 5 instances would do, but panic never scales down.
  d = sim.Decide(48, 6);
  EXPECT_DOUBLE_EQ(d.stable_value, 30.0);
  EXPECT_DOUBLE_EQ(d.panic_value, 30.0);
  EXPECT_TRUE(d.panic);
  EXPECT_EQ(d.desired, 6);
  EXPECT_NE(d.reason.find("never scaling down in panic, holding 6"), std::string::npos) << d.reason;

  sim.Load(48, 14);
  sim.Load(84, 12);
  // t0+72 s: panic ended at 88 s; S = 21 -> 3, which max-scale-down-rate 2 allows from 6.
  d = sim.Decide(90, 6);
  EXPECT_FALSE(d.panic);
  EXPECT_DOUBLE_EQ(d.stable_value, 21.0);
  EXPECT_EQ(d.desired, 3);
  EXPECT_DOUBLE_EQ(d.excess_burst_capacity, -163);  // floor(6*10 - 211 - 12): the activator stays in the path

  // Load drops to 0: after a window of zeros, 3 -> floor(3/2) = 1 -> 0 wanted.
  sim.Load(90, 0);
  EXPECT_EQ(sim.Decide(150, 3).desired, 1);
  d = sim.Decide(152, 1);
  EXPECT_EQ(d.desired, 1);  // active for more than a window: now inactive, kept for the grace period
  EXPECT_EQ(d.activity, Activity::kInactive);
  EXPECT_EQ(sim.Decide(181, 1).desired, 1);
  d = sim.Decide(182, 1);  // 30 s scale-to-zero grace
  EXPECT_EQ(d.desired, 0);
  EXPECT_NE(d.reason.find("scaled to zero"), std::string::npos) << d.reason;
}

// A step from 0 to 64 concurrent requests, target 10 per instance at 100%
// utilization. Stable window: average of the seconds seen so far, (1 + 64n) /
// (n + 1) (the 1 is the activator's first-request report); panic window: the
// last 6 s.
TEST(KpaTest, StepLoadFromZeroReachesSevenInstances) {
  Sim sim(Config({{K("target"), "10"}, {K("target-utilization-percentage"), "100"}, {K("initial-scale"), "0"}},
                 ZeroInitialAllowed(KpaDefaults::Knative())));
  EXPECT_EQ(sim.scaler().desired(), 0);
  EXPECT_EQ(sim.Decide(1, 0).desired, 0);

  // The first request at zero asks for a decision at once, which gives 1.
  EXPECT_TRUE(sim.Load(100, 64));
  Decision d = sim.Decide(100, 0);
  EXPECT_EQ(d.desired, 1);
  EXPECT_FALSE(d.panic);

  // 101: S = P = 65/2 = 32.5 -> 4; 4 wanted over 1 ready is a panic.
  d = sim.Tick(101);
  EXPECT_DOUBLE_EQ(d.stable_value, 32.5);
  EXPECT_TRUE(d.panic);
  EXPECT_EQ(d.desired, 4);
  const int want[] = {5, 5, 6, 6, 7};  // 102..106: 43, 48.25, 51.4, 53.5 -> 5, 5, 6, 6; at 106 P = 64 -> 7
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sim.Tick(102 + i).desired, want[i]) << "at " << 102 + i;

  // The stable window alone gets there at 115: (1 + 64*15) / 16 = 60.0625 -> 7.
  for (int t = 107; t <= 161; ++t) {
    d = sim.Tick(t);
    EXPECT_EQ(d.desired, 7) << "at " << t;
    if (t == 115) {
      EXPECT_DOUBLE_EQ(d.stable_value, 60.0625);
    }
  }
  EXPECT_TRUE(d.panic);  // the last over-threshold tick was at 101
  d = sim.Tick(162);      // 101 + 60 < 162
  EXPECT_FALSE(d.panic);
  EXPECT_DOUBLE_EQ(d.stable_value, 64);
  EXPECT_EQ(d.desired, 7);  // ceil(64 / 10)
}

// The benchmark: 64 clients against a function at zero with target 10
// must reach 6 instances within 2 s. With Ofn's defaults the panic window is
// 1 s, so the first whole second of load is enough.
TEST(KpaTest, OfnDefaultsReachSixInstancesWithinTwoSeconds) {
  Sim sim(Config({{K("target"), "10"}, {K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Ofn())));
  ASSERT_TRUE(sim.Load(100.5, 64));
  EXPECT_EQ(sim.Decide(100.5, 0).desired, 1);
  EXPECT_EQ(sim.Tick(100.75).desired, 1);
  Decision d = sim.Tick(101);  // half a second of 64: 32 -> ceil(32/7) = 5
  EXPECT_DOUBLE_EQ(d.panic_value, 32);
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(sim.Tick(101.5).desired, 5);
  d = sim.Tick(102);  // a whole second of 64 -> ceil(64/7) = 10
  EXPECT_EQ(d.desired, 10);
  EXPECT_TRUE(d.panic);
}

TEST(KpaTest, LoadAtZeroPokesOnceUntilDecided) {
  Sim sim(Config({{K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Knative())));
  EXPECT_FALSE(sim.Load(10, 0));  // no load, no poke
  EXPECT_TRUE(sim.Load(10, 1));
  EXPECT_TRUE(sim.Request(10));  // still at zero: still worth deciding
  Decision d = sim.Decide(10, 0);
  EXPECT_EQ(d.desired, 1);  // 1 / 70 rounds up to one instance
  EXPECT_FALSE(sim.Load(10.1, 2));  // on its way up: the tick will do
  EXPECT_FALSE(sim.Request(10.1));
}

TEST(KpaTest, RpsMetricScalesOnArrivals) {
  // 120 requests per second, target 50 rps per instance at 100%: ceil(2.4) = 3.
  Sim sim(Config({{K("metric"), "rps"}, {K("target"), "50"}, {K("target-utilization-percentage"), "100"},
                  {K("window"), "6s"}}));
  sim.Decide(0, 1);
  for (int s = 0; s < 10; ++s)
    for (int k = 0; k < 120; ++k) sim.Request(s + k / 120.0);
  Decision d = sim.Decide(10, 1);
  EXPECT_DOUBLE_EQ(d.stable_value, 120);
  EXPECT_EQ(d.desired, 3);
  // Concurrency does not matter to an rps function.
  sim.Load(10, 500);
  EXPECT_EQ(sim.Decide(10.5, 3).desired, 3);
}

TEST(KpaTest, RpsMetricScalesFromZeroOnTheFirstRequest) {
  Sim sim(Config({{K("metric"), "rps"}, {K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Knative())));
  EXPECT_TRUE(sim.Request(5));
  EXPECT_EQ(sim.Decide(5, 0).desired, 1);
}

TEST(KpaTest, ConcurrencyIsTimeWeighted) {
  // Ofn's defaults: a 1 s panic window shows each second's mean alone.
  Sim sim(Config({{K("target"), "10"}, {K("target-utilization-percentage"), "100"}}, KpaDefaults::Ofn()));
  sim.Decide(0, 1);
  sim.Load(0, 10);
  sim.Load(0.5, 0);  // 10 for half a second: 5 on average
  EXPECT_DOUBLE_EQ(sim.Decide(1, 1).panic_value, 5);
  sim.Load(1, 4);
  sim.Load(1.25, 8);  // 4 for 0.25 s, 8 for 0.75 s: 7
  Decision d = sim.Decide(2, 1);
  EXPECT_DOUBLE_EQ(d.panic_value, 7);
  EXPECT_DOUBLE_EQ(d.stable_value, 6);  // (5 + 7) / 2
}

TEST(KpaTest, ContainerConcurrencyCapsTheTarget) {
  // Steady concurrency 10, target 10 at 70%: 7 per instance -> 2 instances.
  Sim loose(Config({{K("target"), "10"}, {K("window"), "6s"}}));
  loose.Decide(0, 2);
  loose.Load(0, 10);
  EXPECT_EQ(loose.Decide(10, 2).desired, 2);
  // containerConcurrency 5 caps the target: 5 * 0.7 = 3.5 per instance -> 3.
  Sim capped(Config({{K("target"), "10"}, {K("window"), "6s"}}, KpaDefaults::Knative(), 5));
  capped.Decide(0, 3);
  capped.Load(0, 10);
  EXPECT_EQ(capped.Decide(10, 3).desired, 3);
}

TEST(KpaTest, ScaleDownIsLimitedByMaxScaleDownRate) {
  const Annotations a = {{K("target"), "10"}, {K("target-utilization-percentage"), "100"}, {K("window"), "6s"}};
  Sim sim(Config(a));
  sim.Decide(0, 10);
  sim.Load(0, 100);
  EXPECT_EQ(sim.Decide(20, 10).desired, 10);
  sim.Load(20, 0);
  Decision d = sim.Decide(27, 10);  // a window of zeros: 0 wanted, but at most halved
  EXPECT_DOUBLE_EQ(d.stable_value, 0);
  EXPECT_EQ(d.desired, 5);
  EXPECT_NE(d.reason.find("rate-limited to 5 from 10 ready"), std::string::npos) << d.reason;
  EXPECT_EQ(sim.Tick(28).desired, 2);
  EXPECT_EQ(sim.Tick(29).desired, 1);

  KpaDefaults fast;
  fast.max_scale_down_rate = 4;
  Sim sim4(Config(a, fast));
  sim4.Decide(0, 10);
  sim4.Load(0, 100);
  sim4.Decide(20, 10);
  sim4.Load(20, 0);
  EXPECT_EQ(sim4.Decide(27, 10).desired, 2);  // floor(10 / 4)
}

TEST(KpaTest, ScaleUpIsLimitedByMaxScaleUpRate) {
  KpaDefaults slow;
  slow.max_scale_up_rate = 2;
  Sim sim(Config({{K("target"), "10"}, {K("target-utilization-percentage"), "100"}}, slow));
  sim.Decide(0, 1);
  sim.Load(0, 100);  // wants 10
  EXPECT_EQ(sim.Decide(1, 1).desired, 2);
  EXPECT_EQ(sim.Tick(2).desired, 4);
  EXPECT_EQ(sim.Tick(3).desired, 8);
  EXPECT_EQ(sim.Tick(4).desired, 10);
}

TEST(KpaTest, ScaleDownDelayHoldsTheHighestRecentCount) {
  Sim sim(Config({{K("target"), "10"}, {K("target-utilization-percentage"), "100"}, {K("window"), "6s"},
                  {K("scale-down-delay"), "10s"}}));
  sim.Decide(0, 10);
  sim.Load(0, 100);
  EXPECT_EQ(sim.Decide(20, 10).desired, 10);
  sim.Load(20, 0);
  for (int t = 22; t <= 28; t += 2) {
    Decision d = sim.Tick(t);
    EXPECT_EQ(d.desired, 10) << "at " << t;
    EXPECT_NE(d.reason.find("scale-down-delay 10s holds 10"), std::string::npos) << d.reason;
  }
  // 10 s after the last decision for 10, the highest since is the 7 of t=22.
  EXPECT_EQ(sim.Tick(30).desired, 7);
  EXPECT_EQ(sim.Tick(32).desired, 5);
}

TEST(KpaTest, IdleFunctionScalesToZeroAfterWindowAndGrace) {
  // Ofn's defaults: the average is 0 one stable window (10 s) after the last
  // request; the function then goes inactive and reaches zero after 5 s of grace.
  Sim sim(Config({}, KpaDefaults::Ofn()));
  EXPECT_EQ(sim.scaler().desired(), 1);  // initial-scale
  sim.Decide(0, 1);
  sim.Load(0, 3);
  sim.Load(2, 0);
  double zero_at = -1;
  for (double t = 0.5; t <= 40 && zero_at < 0; t += 0.5) {
    Decision d = sim.Tick(t);
    if (d.desired == 0) zero_at = t;
    if (t < 12) {
      EXPECT_EQ(d.activity, Activity::kActive) << t;
    }
  }
  // Last load in the second ending at 2; the average is 0 from 12; inactive at 12; zero at 17.
  EXPECT_EQ(zero_at, 17);
}

TEST(KpaTest, RetentionPeriodKeepsTheLastInstanceLonger) {
  Sim sim(Config({{K("scale-to-zero-pod-retention-period"), "20s"}}, KpaDefaults::Ofn()));
  sim.Decide(0, 1);
  double zero_at = -1;
  for (double t = 0.5; t <= 60 && zero_at < 0; t += 0.5) {
    Decision d = sim.Tick(t);
    if (d.desired == 0) zero_at = t;
    if (t == 20) {
      EXPECT_NE(d.reason.find("scale-to-zero-pod-retention-period 20s"), std::string::npos) << d.reason;
    }
  }
  EXPECT_EQ(zero_at, 30);  // inactive at 10 (a stable window after becoming active), + 20 s
}

TEST(KpaTest, StaysUpForAStableWindowAfterActivation) {
  // A lone request wakes the function at 100.5; the average falls to 0 at 160,
  // but the function became active at 100.6 and keeps its instance until it
  // has been active for a whole window; then the 30 s grace applies.
  Sim sim(Config({{K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Knative())));
  ASSERT_TRUE(sim.Load(100.5, 1));
  EXPECT_EQ(sim.Decide(100.5, 0).desired, 1);
  sim.Load(100.5, 0);
  EXPECT_EQ(sim.Decide(100.6, 1).activity, Activity::kActive);
  for (int t = 101; t < 160; ++t) EXPECT_EQ(sim.Tick(t).desired, 1);
  Decision d = sim.Tick(160);
  EXPECT_DOUBLE_EQ(d.stable_value, 0);
  EXPECT_EQ(d.desired, 1);
  EXPECT_EQ(d.activity, Activity::kActive);
  EXPECT_NE(d.reason.find("active for 59.4s of the 1m stable window, keeping 1"), std::string::npos) << d.reason;
  d = sim.Tick(161);
  EXPECT_EQ(d.activity, Activity::kInactive);
  EXPECT_EQ(d.desired, 1);
  EXPECT_EQ(sim.Tick(190).desired, 1);
  EXPECT_EQ(sim.Tick(191).desired, 0);
}

TEST(KpaTest, MinScaleKeepsInstancesWhenIdle) {
  Sim sim(Config({{K("min-scale"), "2"}}, KpaDefaults::Ofn()));
  EXPECT_EQ(sim.scaler().desired(), 2);
  for (int t = 0; t <= 3600; t += 2) EXPECT_EQ(sim.Tick(t).desired, 2) << t;
  Decision d = sim.Tick(3602);
  EXPECT_NE(d.reason.find("min-scale 2"), std::string::npos) << d.reason;
}

TEST(KpaTest, MinReplicasFromScaleOptionsKeepInstances) {
  auto c = KpaConfig::FromAnnotations({}, /*min_replicas=*/1, /*max_replicas=*/-1, 0, KpaDefaults::Ofn());
  ASSERT_TRUE(c.ok());
  Sim sim(*c);
  for (int t = 0; t <= 600; t += 5) EXPECT_EQ(sim.Tick(t).desired, 1) << t;
}

TEST(KpaTest, MaxScaleCaps) {
  Sim sim(Config({{K("max-scale"), "3"}, {K("target"), "10"}, {K("initial-scale"), "0"}},
                 ZeroInitialAllowed(KpaDefaults::Ofn())));
  ASSERT_TRUE(sim.Load(0, 100));
  EXPECT_EQ(sim.Decide(0, 0).desired, 1);
  for (int t = 1; t <= 30; ++t) {
    Decision d = sim.Tick(t);
    EXPECT_EQ(d.desired, 3) << t;
    EXPECT_NE(d.reason.find("max-scale 3"), std::string::npos) << d.reason;
  }
}

TEST(KpaTest, InitialScaleHoldsUntilFirstReached) {
  Sim sim(Config({{K("initial-scale"), "5"}}, KpaDefaults::Ofn()));
  EXPECT_EQ(sim.scaler().desired(), 5);
  Decision d = sim.Decide(0, 0);
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.activity, Activity::kActivating);
  EXPECT_NE(d.reason.find("initial-scale 5"), std::string::npos) << d.reason;
  EXPECT_EQ(sim.Decide(0.5, 2).desired, 5);  // instances still starting
  d = sim.Decide(1, 5);                       // all five up: initialized
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.activity, Activity::kActive);
  EXPECT_EQ(sim.Decide(2, 5).desired, 2);  // no load: an ordinary halving from here on
}

TEST(KpaTest, InitialScaleZeroStartsInactiveAtZero) {
  Sim sim(Config({{K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Ofn())));
  EXPECT_EQ(sim.scaler().desired(), 0);
  Decision d = sim.Decide(0, 0);
  EXPECT_EQ(d.desired, 0);
  EXPECT_EQ(d.activity, Activity::kInactive);
}

TEST(KpaTest, DisabledScaleToZeroKeepsOne) {
  KpaDefaults d = KpaDefaults::Ofn();
  d.enable_scale_to_zero = false;
  Sim sim(Config({}, d));
  for (int t = 0; t <= 600; t += 5) EXPECT_EQ(sim.Tick(t).desired, 1) << t;
  EXPECT_NE(sim.Tick(605).reason.find("scale to zero disabled"), std::string::npos);
}

TEST(KpaTest, ActivationScaleIsTheSmallestNonZeroCount) {
  Sim sim(Config({{K("activation-scale"), "3"}, {K("initial-scale"), "0"}}, ZeroInitialAllowed(KpaDefaults::Ofn())));
  ASSERT_TRUE(sim.Load(0, 1));
  Decision d = sim.Decide(0, 0);
  EXPECT_EQ(d.desired, 3);
  EXPECT_NE(d.reason.find("activation-scale 3"), std::string::npos) << d.reason;
  sim.Load(0.5, 0);
  double zero_at = -1;
  for (double t = 1; t <= 60 && zero_at < 0; t += 1) {
    if (sim.Tick(t).desired == 0) zero_at = t;
  }
  EXPECT_GT(zero_at, 0);  // scale to zero still works
}

TEST(KpaTest, NewScalerWithRunningInstancesStartsInPanic) {
  // After a restart, four instances are running and there is no history: hold
  // them for a stable window rather than halve them on an empty average.
  Sim sim(Config({}), /*ready_at_start=*/4);
  EXPECT_TRUE(sim.scaler().panicking());
  Decision d = sim.Decide(1, 4);
  EXPECT_TRUE(d.panic);
  EXPECT_EQ(d.desired, 4);
  EXPECT_EQ(sim.Decide(60, 4).desired, 4);
  d = sim.Decide(61, 4);  // 0 + 60 < 61
  EXPECT_FALSE(d.panic);
  EXPECT_EQ(d.desired, 2);
}

TEST(KpaTest, ActivationTimesOutAfterProgressDeadline) {
  // Instances that never become ready: after progress-deadline + 30 s with no
  // load, give up and scale to zero.
  Sim sim(Config({{"serving.knative.dev/progress-deadline", "60s"}}));
  for (int t = 0; t <= 90; t += 2) {
    Decision d = sim.Decide(t, 0);
    EXPECT_EQ(d.desired, 1) << t;
    EXPECT_EQ(d.activity, Activity::kActivating);
  }
  Decision d = sim.Decide(91, 0);
  EXPECT_EQ(d.desired, 0);
  EXPECT_NE(d.reason.find("activation timed out after 1m31s"), std::string::npos) << d.reason;
}

TEST(KpaTest, NoDataWithInstancesUpChangesNothing) {
  Sim sim(Config({{K("initial-scale"), "3"}}));
  Decision d = sim.Decide(0, 3);
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.reason, "no concurrency data yet; starting at 3");
  EXPECT_EQ(sim.Decide(0.5, 3).reason, "no concurrency data yet; keeping 3");
  EXPECT_DOUBLE_EQ(d.excess_burst_capacity, 3 * 100 - 211);  // the initial value: initialScale * TotalValue - TBC
}

TEST(KpaTest, ExcessBurstCapacityFollowsTargetBurstCapacity) {
  auto ebc = [](const std::string& tbc) {
    Sim sim(Config({{K("target-burst-capacity"), tbc}, {K("target"), "10"}}));
    sim.Decide(0, 4);
    sim.Load(0, 5);
    return sim.Decide(5, 4).excess_burst_capacity;
  };
  EXPECT_DOUBLE_EQ(ebc("0"), 0);
  EXPECT_DOUBLE_EQ(ebc("-1"), -1);
  EXPECT_DOUBLE_EQ(ebc("20"), 15);  // floor(4*10 - 20 - 5)
}

TEST(KpaTest, WeightedExponentialAggregation) {
  Sim sim(Config({{K("metric-aggregation-algorithm"), "weighted-exponential"}, {K("target"), "10"},
                  {K("target-utilization-percentage"), "100"}}));
  sim.Decide(0, 10);
  sim.Load(0, 100);
  Decision d = sim.Decide(60, 10);
  // sum over 60 one-second buckets of 0.2 * 0.8^i * 100
  EXPECT_NEAR(d.stable_value, 100 * (1 - std::pow(0.8, 60)), 1e-9);
  EXPECT_EQ(d.desired, 10);
}

}  // namespace
}  // namespace ofn::autoscaler

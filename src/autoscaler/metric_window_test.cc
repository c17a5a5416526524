#include "autoscaler/metric_window.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "autoscaler/max_window.h"

namespace ofn::autoscaler {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

// Second n on a clock that starts well past the epoch.
TimePoint At(double secs) {
  return TimePoint(1000h) + std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(secs));
}

TEST(MetricWindowTest, NewSeriesIsAveragedOverItsOwnSeconds) {
  // The fact sheet's partial window: six seconds of 5 in a 60 s window give 5, not 30/60.
  MetricWindow w(60s);
  for (int s = 0; s < 6; ++s) w.Record(At(s), 5);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(5)), 5.0);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(5.9)), 5.0);
}

TEST(MetricWindowTest, RecordsInOneSecondAreSummed) {
  MetricWindow w(60s);
  w.Record(At(0.1), 2);
  w.Record(At(0.9), 3);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(0)), 5.0);
}

TEST(MetricWindowTest, GapsCountAsZeroOnceWrittenPast) {
  MetricWindow w(60s);
  w.Record(At(0), 10);
  w.Record(At(4), 10);  // seconds 1..3 were skipped: zeros
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(4)), 4.0);
}

TEST(MetricWindowTest, SecondsAfterTheLastWriteAreNotCounted) {
  // Between the last write and now, the divisor is the series' own length
  // (capped by the seconds of the window still covered): 30 / min(6, 60-3).
  MetricWindow w(60s);
  for (int s = 0; s < 6; ++s) w.Record(At(s), 5);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(8)), 5.0);
}

TEST(MetricWindowTest, OldBucketsLeaveTheWindow) {
  MetricWindow w(10s);
  for (int s = 0; s < 10; ++s) w.Record(At(s), s < 5 ? 10 : 0);  // 5 s of 10, then 5 s of 0
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(9)), 5.0);
  // At 12, seconds 0..2 have left: (2 * 10) / (10 - 3).
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(12)), 2.857143);  // 20/7, rounded
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(19)), 0.0);  // last write a full window ago
  EXPECT_FALSE(w.IsEmpty(At(19)));
  EXPECT_TRUE(w.IsEmpty(At(20)));
}

TEST(MetricWindowTest, RoundsToSixDecimals) {
  MetricWindow w(60s);
  w.Record(At(0), 1);
  w.Record(At(1), 0);
  w.Record(At(2), 0);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(2)), 0.333333);
}

TEST(MetricWindowTest, ResetsAfterAWindowOfSilence) {
  MetricWindow w(10s);
  for (int s = 0; s < 10; ++s) w.Record(At(s), 1);
  w.Record(At(30), 8);  // a new series: averaged over its one second
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(30)), 8.0);
}

TEST(MetricWindowTest, DropsRecordsOlderThanTheWindow) {
  MetricWindow w(10s);
  w.Record(At(20), 4);
  w.Record(At(5), 100);
  EXPECT_DOUBLE_EQ(w.LinearAverage(At(20)), 4.0);
}

TEST(MetricWindowTest, EmptyWindowAveragesToZero) {
  MetricWindow w(60s);
  EXPECT_TRUE(w.IsEmpty(At(0)));
  EXPECT_EQ(w.LinearAverage(At(0)), 0.0);
  EXPECT_EQ(w.WeightedExponentialAverage(At(0)), 0.0);
}

TEST(MetricWindowTest, WeightedExponentialFavoursRecentSeconds) {
  // 60 buckets: alpha = max(1 - 0.0001^(1/60), 0.2) = 0.2.
  MetricWindow w(60s);
  w.Record(At(0), 10);
  w.Record(At(1), 20);
  EXPECT_NEAR(w.WeightedExponentialAverage(At(1)), 0.2 * 20 + 0.2 * 0.8 * 10, 1e-12);
  // Two empty seconds since the last write decay every term by 0.8^2.
  EXPECT_NEAR(w.WeightedExponentialAverage(At(3)), (0.2 * 20 + 0.2 * 0.8 * 10) * 0.64, 1e-12);
  EXPECT_EQ(w.WeightedExponentialAverage(At(61)), 0.0);
}

TEST(MetricWindowTest, WeightedExponentialAlphaForShortWindows) {
  // 6 buckets: alpha = 1 - 0.0001^(1/6), above the 0.2 floor.
  MetricWindow w(6s);
  w.Record(At(0), 10);
  const double alpha = 1 - std::pow(0.0001, 1.0 / 6);
  EXPECT_NEAR(w.WeightedExponentialAverage(At(0)), alpha * 10, 1e-12);
}

TEST(MaxWindowTest, HoldsTheMaximumForTheWindow) {
  MaxWindow w(10s);  // five 2 s slots
  w.Record(At(0), 10);
  EXPECT_EQ(w.Current(), 10);
  for (int t = 2; t < 10; t += 2) {
    w.Record(At(t), 5);
    EXPECT_EQ(w.Current(), 10) << t;
  }
  w.Record(At(10), 5);  // the slot of t=0 has left
  EXPECT_EQ(w.Current(), 5);
}

TEST(MaxWindowTest, SameSlotKeepsTheMaximumAndRisesAtOnce) {
  MaxWindow w(10s);
  w.Record(At(0), 3);
  w.Record(At(1), 1);
  EXPECT_EQ(w.Current(), 3);
  w.Record(At(2), 8);
  EXPECT_EQ(w.Current(), 8);
}

TEST(MaxWindowTest, LongSilenceForgetsEverything) {
  MaxWindow w(10s);
  w.Record(At(0), 9);
  w.Record(At(100), 2);
  EXPECT_EQ(w.Current(), 2);
}

}  // namespace
}  // namespace ofn::autoscaler

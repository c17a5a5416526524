#include "autoscaler/keda_scaler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "autoscaler/clock.h"

namespace ofn::autoscaler {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using nlohmann::json;

json Kafka(const std::string& lag_threshold = "10", const std::string& activation = "0") {
  return {{"type", "kafka"},
          {"metadata",
           {{"bootstrapServers", "localhost:9092"},
            {"consumerGroup", "g"},
            {"topic", "t"},
            {"lagThreshold", lag_threshold},
            {"activationLagThreshold", activation}}}};
}

json Behavior(json behavior) { return {{"advanced", {{"horizontalPodAutoscalerConfig", {{"behavior", behavior}}}}}}; }

// A config from spec.serving.scaleOptions, over KEDA's own defaults so that
// the numbers are KEDA's and the HPA's.
KedaConfig Config(json triggers, json scaled_object = json::object(), json options = json::object()) {
  options["keda"] = {{"triggers", std::move(triggers)}, {"scaledObject", std::move(scaled_object)}};
  auto r = KedaConfig::FromFunction({{"scaleOptions", options}}, KedaDefaults::Keda());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : KedaConfig{};
}

// Drives a scaler the way the server would: at each NextPoll(), with the
// backlog the test says the broker has.
class Driver {
 public:
  explicit Driver(KedaConfig c, std::optional<int> replicas = std::nullopt)
      : scaler_(std::move(c), clock_.Now(), replicas) {}

  // Advances to `t` after the start and decides there with this lag.
  KedaDecision At(seconds t, std::optional<double> lag) {
    clock_.Set(start_ + t);
    last_ = scaler_.Decide(clock_.Now(), wall_ + t, {lag ? KedaMeasurement::Of(*lag) : KedaMeasurement::Failed()});
    return last_;
  }
  int Replicas(seconds t, std::optional<double> lag) { return At(t, lag).replicas; }

  KedaScaler& scaler() { return scaler_; }
  FakeClock& clock() { return clock_; }
  Clock::TimePoint start() const { return start_; }
  void set_wall(KedaScaler::WallTime w) { wall_ = w; }
  const KedaDecision& last() const { return last_; }

 private:
  FakeClock clock_;
  Clock::TimePoint start_ = clock_.Now();
  KedaScaler::WallTime wall_ = system_clock::time_point(sys_days(2025y / June / 9));
  KedaScaler scaler_;
  KedaDecision last_;
};

TEST(KedaScalerTest, ActivationAndCooldown) {
  Driver d(Config(json::array({Kafka()}), {{"cooldownPeriod", 60}, {"pollingInterval", 15}}), 0);
  EXPECT_EQ(d.Replicas(0s, 0), 0);
  EXPECT_FALSE(d.last().active);
  EXPECT_EQ(d.scaler().NextPoll(), d.start() + 15s);  // at zero only KEDA's poll matters
  EXPECT_EQ(d.Replicas(15s, 5), 1);                   // lag 5 > activation 0
  EXPECT_TRUE(d.last().active);
  EXPECT_EQ(d.Replicas(30s, 0), 1);  // idle, but not for cooldownPeriod yet
  EXPECT_FALSE(d.last().active);
  EXPECT_EQ(d.Replicas(75s, 0), 1);  // last active at 15 s: 15 + 60 is not before 75
  EXPECT_EQ(d.Replicas(90s, 0), 0);
  EXPECT_NE(d.last().reason.find("no trigger active for 1m: 1 -> 0"), std::string::npos) << d.last().reason;
}

TEST(KedaScalerTest, ActivityResetsTheCooldown) {
  Driver d(Config(json::array({Kafka()}), {{"cooldownPeriod", 60}, {"pollingInterval", 15}}), 1);
  EXPECT_EQ(d.Replicas(0s, 3), 1);
  EXPECT_EQ(d.Replicas(45s, 1), 1);  // active again at 45 s
  EXPECT_EQ(d.Replicas(90s, 0), 1);
  EXPECT_EQ(d.Replicas(105s, 0), 1);  // 45 + 60 is not before 105
  EXPECT_EQ(d.Replicas(120s, 0), 0);
}

TEST(KedaScalerTest, WithoutAnyActiveCheckTheCreationTimeCounts) {
  // OpenFunction starts the workload at 1; with nothing to do it goes to zero
  // at the first poll after creation + initialCooldownPeriod.
  Driver d(Config(json::array({Kafka()}), {{"pollingInterval", 30}}));
  EXPECT_EQ(d.scaler().replicas(), 1);
  EXPECT_EQ(d.Replicas(0s, 0), 1);
  EXPECT_EQ(d.Replicas(30s, 0), 0);

  Driver later(Config(json::array({Kafka()}), {{"pollingInterval", 30}, {"initialCooldownPeriod", 60}}));
  EXPECT_EQ(later.Replicas(30s, 0), 1);
  EXPECT_EQ(later.Replicas(60s, 0), 1);
  EXPECT_EQ(later.Replicas(90s, 0), 0);
}

TEST(KedaScalerTest, ActivateScalesUpAtOnce) {
  Driver d(Config(json::array({Kafka()}), {{"pollingInterval", 30}}), 0);
  EXPECT_EQ(d.Replicas(0s, 0), 0);
  // An event arrives 1 s later: no waiting for the poll at 30 s.
  d.clock().Set(d.start() + 1s);
  EXPECT_EQ(d.scaler().Activate(d.clock().Now()), 1);
  EXPECT_EQ(d.scaler().replicas(), 1);
  // It counts as activity: the cooldown runs from 1 s.
  EXPECT_EQ(d.Replicas(300s, 0), 1);
  EXPECT_EQ(d.Replicas(330s, 0), 0);
  // Min replicas come up together.
  Driver two(Config(json::array({Kafka()}), {{"idleReplicaCount", 0}}, {{"minReplicas", 2}}), 0);
  EXPECT_EQ(two.scaler().Activate(two.clock().Now()), 2);
}

TEST(KedaScalerTest, Lag95Threshold10GoesToTenCappedAtMax) {
  // No behavior: the HPA's legacy path allows max(2 x current, 4) per sync.
  Driver d(Config(json::array({Kafka("10")}), json::object(), {{"maxReplicas", 10}}), 0);
  // KEDA takes it from 0 to 1; the HPA's sync, due too, wants ceil(95 / 10) =
  // 10 and may add up to max(2 x 1, 4).
  EXPECT_EQ(d.Replicas(0s, 95), 4);
  EXPECT_NE(d.last().reason.find("a trigger is active: 0 -> 1"), std::string::npos) << d.last().reason;
  EXPECT_EQ(d.Replicas(15s, 95), 8);   // at most 2 x 4
  EXPECT_EQ(d.Replicas(30s, 95), 10);  // there
  EXPECT_EQ(d.Replicas(45s, 95), 10);

  Driver capped(Config(json::array({Kafka("10")}), json::object(), {{"maxReplicas", 6}}), 4);
  EXPECT_EQ(capped.Replicas(0s, 95), 6);
  EXPECT_NE(capped.last().reason.find("limited to 6 (maxReplicas)"), std::string::npos) << capped.last().reason;
  EXPECT_EQ(capped.Replicas(15s, 950), 6);
}

TEST(KedaScalerTest, FactSheetWorkedExampleWithDefaultBehavior) {
  // §2.3: lag capped at 40 (4 partitions), threshold 10, three replicas.
  Driver d(Config(json::array({Kafka("10")}), Behavior(json::object())), 3);
  EXPECT_EQ(d.Replicas(0s, 40), 4);  // ratio 40 / 30 = 1.33 > 1.1
  // The lag drops to 5: the highest recommendation of the last 300 s holds 4 ...
  EXPECT_EQ(d.Replicas(15s, 5), 4);
  EXPECT_EQ(d.Replicas(299s, 5), 4);
  // ... until the window has passed; then Percent 100 allows 4 -> 1 in one step.
  EXPECT_EQ(d.Replicas(315s, 5), 1);
}

TEST(KedaScalerTest, DefaultScaleUpPoliciesPerPeriod) {
  // Pods 4 or Percent 100 per 15 s, whichever allows more.
  Driver d(Config(json::array({Kafka("10")}), Behavior(json::object()), {{"maxReplicas", 50}}), 1);
  EXPECT_EQ(d.Replicas(0s, 500), 5);    // 1 + 4 beats 2 x 1
  EXPECT_EQ(d.Replicas(15s, 500), 10);  // the change at 0 s is out of the period: 2 x 5 beats 5 + 4
  EXPECT_EQ(d.Replicas(30s, 500), 20);
  EXPECT_EQ(d.Replicas(45s, 500), 40);
  EXPECT_EQ(d.Replicas(60s, 500), 50);  // wants 50: reached, not beyond
}

TEST(KedaScalerTest, ScaleUpPolicyCountsChangesWithinItsPeriod) {
  json behavior = {{"scaleUp", {{"policies", {{{"type", "Pods"}, {"value", 2}, {"periodSeconds", 60}}}}}}};
  Driver d(Config(json::array({Kafka("10")}), Behavior(behavior)), 1);
  EXPECT_EQ(d.Replicas(0s, 100), 3);
  EXPECT_EQ(d.Replicas(15s, 100), 3);  // 2 pods already added within 60 s
  EXPECT_EQ(d.Replicas(60s, 100), 5);  // the change at 0 s has left the period
}

TEST(KedaScalerTest, Tolerance) {
  Driver d(Config(json::array({Kafka("10")}), Behavior({{"scaleDown", {{"stabilizationWindowSeconds", 0}}}})), 4);
  EXPECT_EQ(d.Replicas(0s, 43), 4);   // 43 / 40 = 1.075: within 10%
  EXPECT_EQ(d.Replicas(15s, 45), 5);  // 1.125: ceil(4.5)
  EXPECT_EQ(d.Replicas(30s, 46), 5);  // 46 / 50 = 0.92: within
  EXPECT_EQ(d.Replicas(45s, 44), 5);  // 0.88: ceil(4.4) is 5 anyway
  EXPECT_EQ(d.Replicas(60s, 39), 4);  // 0.78: ceil(3.9)
}

TEST(KedaScalerTest, ScaleDownStabilizationAndPolicies) {
  // As in the samples: 45 s window, at most 50% down per 15 s.
  json behavior = {{"scaleDown",
                    {{"policies", {{{"periodSeconds", 15}, {"type", "Percent"}, {"value", 50}}}},
                     {"stabilizationWindowSeconds", 45}}},
                   {"scaleUp", {{"stabilizationWindowSeconds", 0}}}};
  Driver d(Config(json::array({Kafka("20")}), Behavior(behavior)), 10);
  EXPECT_EQ(d.Replicas(0s, 200), 10);
  EXPECT_EQ(d.Replicas(15s, 20), 10);  // wants 1; 10 from 0 s is in the window
  EXPECT_EQ(d.Replicas(30s, 20), 10);
  EXPECT_EQ(d.Replicas(45s, 20), 5);  // the 10 left the window; 50% of 10
  EXPECT_EQ(d.Replicas(60s, 20), 2);  // trunc(50% of 5)
  EXPECT_EQ(d.Replicas(75s, 20), 1);
  EXPECT_EQ(d.Replicas(90s, 20), 1);  // never below max(minReplicas, 1) while active
}

TEST(KedaScalerTest, LegacyStabilizationHoldsForFiveMinutes) {
  Driver d(Config(json::array({Kafka("10")})), 6);
  EXPECT_EQ(d.Replicas(0s, 60), 6);
  EXPECT_EQ(d.Replicas(15s, 9), 6);
  EXPECT_EQ(d.Replicas(300s, 9), 6);  // the 6 recorded at 0 s is still in the window
  EXPECT_EQ(d.Replicas(315s, 9), 1);  // no rate limit down on the legacy path
}

TEST(KedaScalerTest, ActivationThresholdDecidesZeroToOneOnly) {
  Driver d(Config(json::array({Kafka("10", "5")}), {{"cooldownPeriod", 30}}), 0);
  EXPECT_EQ(d.Replicas(0s, 5), 0);  // 5 is not above 5
  EXPECT_EQ(d.Replicas(30s, 6), 1);
  // Above zero the HPA ignores the activation threshold: 30 / 10 = 3.
  EXPECT_EQ(d.Replicas(60s, 30), 3);
  // A lag of 4 keeps no one active; after the cooldown the workload goes to zero.
  EXPECT_EQ(d.Replicas(90s, 4), 3);
  EXPECT_FALSE(d.last().active);
  EXPECT_EQ(d.Replicas(120s, 4), 0);
}

TEST(KedaScalerTest, ExcludedPersistentLagCountsForActivationOnly) {
  Driver d(Config(json::array({Kafka("10")})), 0);
  KedaMeasurement m{0, 7};  // no lag to scale on, but lag that keeps the function active
  EXPECT_EQ(d.scaler().Decide(d.clock().Now(), {}, {m}).replicas, 1);
}

TEST(KedaScalerTest, CronWindowInItsTimeZone) {
  json cron = {
      {"type", "cron"},
      {"metadata",
       {{"timezone", "Asia/Kolkata"}, {"start", "0 9 * * *"}, {"end", "0 17 * * *"}, {"desiredReplicas", "3"}}}};
  Driver d(Config(json::array({cron}), {{"cooldownPeriod", 120}}), 0);
  // The wall clock starts at 08:58 IST (03:28 UTC); the steady clock moves with it.
  d.set_wall(system_clock::time_point(sys_days(2025y / June / 9) + 3h + 28min));
  EXPECT_EQ(d.Replicas(0s, std::nullopt), 0);
  EXPECT_EQ(d.Replicas(60s, std::nullopt), 0);   // 08:59
  EXPECT_EQ(d.Replicas(120s, std::nullopt), 3);  // 09:00: 0 -> 1, and the HPA asks for 3 / 1
  EXPECT_TRUE(d.last().active);
  const seconds end = 8h + 2min;  // 17:00 IST
  EXPECT_EQ(d.Replicas(end - 30s, std::nullopt), 3);
  // Outside the window the metric is 0; the HPA's stabilization keeps 3 ...
  EXPECT_EQ(d.Replicas(end, std::nullopt), 3);
  EXPECT_FALSE(d.last().active);
  // ... until KEDA's cooldown, counted from the last active poll at 16:59:30.
  EXPECT_EQ(d.Replicas(end + 90s, std::nullopt), 3);
  EXPECT_EQ(d.Replicas(end + 120s, std::nullopt), 0);
}

TEST(KedaScalerTest, MinReplicasAndIdle) {
  // minReplicas without idle: never zero; below min is raised to it.
  Driver min_only(Config(json::array({Kafka()}), {{"cooldownPeriod", 0}}, {{"minReplicas", 2}}), 0);
  EXPECT_EQ(min_only.Replicas(0s, 0), 2);
  EXPECT_EQ(min_only.Replicas(600s, 0), 2);

  // With idleReplicaCount 0: zero when inactive, straight to min when active.
  Driver idle(Config(json::array({Kafka()}), {{"cooldownPeriod", 60}, {"idleReplicaCount", 0}}, {{"minReplicas", 2}}),
              0);
  EXPECT_EQ(idle.Replicas(0s, 0), 0);
  EXPECT_EQ(idle.Replicas(30s, 1), 2);
  EXPECT_EQ(idle.Replicas(60s, 1), 2);  // the HPA's floor is minReplicas
  EXPECT_EQ(idle.Replicas(120s, 0), 2);
  EXPECT_EQ(idle.Replicas(150s, 0), 0);  // last active at 60 s
}

TEST(KedaScalerTest, UnmeasuredTriggersNeitherActivateNorScaleDown) {
  Driver d(Config(json::array({Kafka("10")}), Behavior({{"scaleDown", {{"stabilizationWindowSeconds", 0}}}})), 5);
  EXPECT_EQ(d.Replicas(0s, std::nullopt), 5);  // would scale down on 0: held
  EXPECT_NE(d.last().reason.find("not measured"), std::string::npos) << d.last().reason;
  EXPECT_FALSE(d.last().active);
  EXPECT_EQ(d.Replicas(15s, 10), 1);
}

TEST(KedaScalerTest, LargestProposalWins) {
  json redis = {{"type", "redis-streams"},
                {"metadata", {{"address", "localhost:6379"}, {"stream", "s"}, {"consumerGroup", "g"}}}};
  KedaConfig c = Config(json::array({Kafka("10"), redis}));
  KedaScaler s(c, FakeClock().Now(), 2);
  // Kafka asks for ceil(12 / 10) = 2, redis for ceil(16 / 5) = 4.
  EXPECT_EQ(s.Decide(FakeClock().Now(), {}, {KedaMeasurement::Of(12), KedaMeasurement::Of(16)}).replicas, 4);
}

TEST(KedaScalerTest, ValueMetricScalesTheCurrentCount) {
  json t = Kafka("10");
  t["metricType"] = "Value";
  Driver d(Config(json::array({t})), 3);
  EXPECT_EQ(d.Replicas(0s, 20), 6);  // ratio 20 / 10 = 2, times 3 instances
}

TEST(KedaScalerTest, NoTriggersHoldsTheCount) {
  Driver d(Config(json::array()), 1);
  EXPECT_EQ(d.Replicas(0s, 100), 1);
  EXPECT_EQ(d.Replicas(3600s, 0), 1);
  EXPECT_EQ(d.scaler().NextPoll(), KedaScaler::TimePoint::max());
}

TEST(KedaScalerTest, NextPollAndEarlyCalls) {
  Driver d(Config(json::array({Kafka("10")}), {{"pollingInterval", 30}}), 2);
  EXPECT_EQ(d.scaler().NextPoll(), d.start());  // both due at creation
  EXPECT_EQ(d.Replicas(0s, 20), 2);
  EXPECT_EQ(d.scaler().NextPoll(), d.start() + 15s);  // the HPA syncs before KEDA polls
  EXPECT_EQ(d.Replicas(5s, 1000), 2);                 // nothing due yet
  EXPECT_EQ(d.last().reason, "nothing due");
  EXPECT_EQ(d.Replicas(15s, 20), 2);
  EXPECT_EQ(d.scaler().NextPoll(), d.start() + 30s);

  // Ofn's defaults: both every second.
  KedaScaler ofn(*KedaConfig::FromFunction({{"scaleOptions", {{"keda", {{"triggers", json::array({Kafka()})}}}}}}),
                 d.start());
  ofn.Decide(d.start(), {}, {KedaMeasurement::Of(5)});
  EXPECT_EQ(ofn.NextPoll(), d.start() + 1s);
}

}  // namespace
}  // namespace ofn::autoscaler

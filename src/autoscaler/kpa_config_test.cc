#include "autoscaler/kpa_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

namespace ofn::autoscaler {
namespace {

using namespace std::chrono_literals;
using Annotations = std::map<std::string, std::string>;

std::string K(const std::string& name) { return std::string(kAutoscalingPrefix) + name; }

Result<KpaConfig> Parse(const Annotations& a, int min_replicas = -1, int max_replicas = -1, int cc = 0,
                        const KpaDefaults& d = KpaDefaults::Knative()) {
  return KpaConfig::FromAnnotations(a, min_replicas, max_replicas, cc, d);
}

KpaConfig MustParse(const Annotations& a, int min_replicas = -1, int max_replicas = -1, int cc = 0,
                    const KpaDefaults& d = KpaDefaults::Knative()) {
  auto r = Parse(a, min_replicas, max_replicas, cc, d);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : KpaConfig{};
}

// The message of a rejected configuration (empty if it was accepted).
std::string ErrorOf(const Annotations& a, int min_replicas = -1, int max_replicas = -1, int cc = 0,
                    const KpaDefaults& d = KpaDefaults::Knative()) {
  auto r = Parse(a, min_replicas, max_replicas, cc, d);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}

TEST(KpaConfigTest, NoAnnotationsGivesKnativeDefaults) {
  const KpaConfig c = MustParse({});
  EXPECT_EQ(c.autoscaler_class, "kpa.autoscaling.knative.dev");
  EXPECT_EQ(c.metric, KpaMetric::kConcurrency);
  EXPECT_EQ(c.aggregation, Aggregation::kLinear);
  EXPECT_DOUBLE_EQ(c.total_value, 100);
  EXPECT_DOUBLE_EQ(c.target_utilization, 0.7);
  EXPECT_DOUBLE_EQ(c.target_value, 70);  // 100 x 0.7
  EXPECT_EQ(c.stable_window, 60s);
  EXPECT_EQ(c.panic_window, 6s);
  EXPECT_DOUBLE_EQ(c.panic_threshold, 2.0);
  EXPECT_EQ(c.min_scale, 0);
  EXPECT_EQ(c.max_scale, 0);
  EXPECT_EQ(c.initial_scale, 1);
  EXPECT_EQ(c.activation_scale, 0);
  EXPECT_DOUBLE_EQ(c.max_scale_up_rate, 1000);
  EXPECT_DOUBLE_EQ(c.max_scale_down_rate, 2);
  EXPECT_EQ(c.scale_to_zero_grace_period, 30s);
  EXPECT_EQ(c.scale_to_zero_pod_retention_period, 0s);
  EXPECT_EQ(c.scale_down_delay, 0s);
  EXPECT_EQ(c.progress_deadline, 600s);
  EXPECT_DOUBLE_EQ(c.target_burst_capacity, 211);
  EXPECT_TRUE(c.enable_scale_to_zero);
  EXPECT_TRUE(c.unrecognized_annotations.empty());
}

TEST(KpaConfigTest, OfnDefaultsIdleToZeroSooner) {
  const KpaConfig c = MustParse({}, -1, -1, 0, KpaDefaults::Ofn());
  EXPECT_EQ(c.stable_window, 10s);
  EXPECT_EQ(c.panic_window, 1s);  // 10% of 10 s
  EXPECT_EQ(c.scale_to_zero_grace_period, 5s);
  EXPECT_DOUBLE_EQ(c.target_value, 70);  // everything else is Knative's
  // A function can still ask for Knative's window.
  EXPECT_EQ(MustParse({{K("window"), "60s"}}, -1, -1, 0, KpaDefaults::Ofn()).panic_window, 6s);
}

TEST(KpaConfigTest, RpsDefaultTargetIs140) {
  const KpaConfig c = MustParse({{K("metric"), "rps"}});
  EXPECT_EQ(c.metric, KpaMetric::kRps);
  EXPECT_DOUBLE_EQ(c.total_value, 200);
  EXPECT_DOUBLE_EQ(c.target_value, 140);  // 200 x the fixed 0.7
}

TEST(KpaConfigTest, TargetAnnotationTimesUtilization) {
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "10"}}).target_value, 7);
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "10"}}).total_value, 10);
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "10"}, {K("target-utilization-percentage"), "100"}}).target_value, 10);
  EXPECT_DOUBLE_EQ(MustParse({{K("metric"), "rps"}, {K("target"), "50"}}).target_value, 35);
  EXPECT_DOUBLE_EQ(
      MustParse({{K("metric"), "rps"}, {K("target"), "50"}, {K("target-utilization-percentage"), "80"}}).target_value,
      40);
}

TEST(KpaConfigTest, ContainerConcurrencyCapsTheTarget) {
  // The hard limit is the total when no target is set...
  KpaConfig c = MustParse({}, -1, -1, 5);
  EXPECT_EQ(c.container_concurrency, 5);
  EXPECT_DOUBLE_EQ(c.total_value, 5);
  EXPECT_DOUBLE_EQ(c.target_value, 3.5);
  // ...and caps a larger target, but not a smaller one.
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "10"}}, -1, -1, 5).total_value, 5);
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "10"}}, -1, -1, 5).target_value, 3.5);
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "3"}}, -1, -1, 5).total_value, 3);
  // rps targets are not capped by a concurrency limit.
  EXPECT_DOUBLE_EQ(MustParse({{K("metric"), "rps"}, {K("target"), "50"}}, -1, -1, 5).total_value, 50);
}

TEST(KpaConfigTest, TargetValueHasAFloor) {
  const KpaConfig c = MustParse({{K("target"), "0.01"}, {K("target-utilization-percentage"), "1"}});
  EXPECT_DOUBLE_EQ(c.target_value, 0.01);  // not 0.0001
}

TEST(KpaConfigTest, LegacyFractionInTheConfigMap) {
  KpaDefaults d;
  d.container_concurrency_target_percentage = 0.5;  // a fraction, not 0.5%
  EXPECT_DOUBLE_EQ(MustParse({}, -1, -1, 0, d).target_value, 50);
}

TEST(KpaConfigTest, PanicWindowIsRoundedToSecondsWithAFloorOfOne) {
  EXPECT_EQ(MustParse({{K("window"), "1m30s"}}).panic_window, 9s);
  EXPECT_EQ(MustParse({{K("window"), "15s"}}).panic_window, 2s);  // 1.5 s rounds up
  EXPECT_EQ(MustParse({{K("window"), "6s"}}).panic_window, 1s);   // 0.6 s
  EXPECT_EQ(MustParse({{K("window"), "6s"}, {K("panic-window-percentage"), "1"}}).panic_window, 1s);
  EXPECT_EQ(MustParse({{K("window"), "1h"}, {K("panic-window-percentage"), "100"}}).panic_window, 1h);
  EXPECT_DOUBLE_EQ(MustParse({{K("panic-threshold-percentage"), "150"}}).panic_threshold, 1.5);
}

TEST(KpaConfigTest, DurationsAcceptGoSyntax) {
  const KpaConfig c = MustParse({{K("window"), "2m"},
                                 {K("scale-down-delay"), "1m30s"},
                                 {K("scale-to-zero-pod-retention-period"), "1500ms"},
                                 {"serving.knative.dev/progress-deadline", "2m"}});
  EXPECT_EQ(c.stable_window, 120s);
  EXPECT_EQ(c.scale_down_delay, 90s);
  EXPECT_EQ(c.scale_to_zero_pod_retention_period, 1500ms);
  EXPECT_EQ(c.progress_deadline, 120s);
}

struct AliasCase {
  const char* kebab;
  const char* camel;
  const char* kebab_value;
  const char* camel_value;
};

TEST(KpaConfigTest, KebabCaseWinsOverCamelCaseAlias) {
  const AliasCase cases[] = {
      {"target-utilization-percentage", "targetUtilizationPercentage", "50", "90"},
      {"panic-window-percentage", "panicWindowPercentage", "20", "30"},
      {"panic-threshold-percentage", "panicThresholdPercentage", "300", "400"},
      {"min-scale", "minScale", "2", "3"},
      {"max-scale", "maxScale", "7", "8"},
      {"initial-scale", "initialScale", "4", "5"},
      {"scale-down-delay", "scaleDownDelay", "10s", "20s"},
      {"scale-to-zero-pod-retention-period", "scaleToZeroPodRetentionPeriod", "10s", "20s"},
      {"target-burst-capacity", "targetBurstCapacity", "0", "-1"},
      {"metric-aggregation-algorithm", "metricAggregationAlgorithm", "weighted-exponential", "linear"},
  };
  auto fingerprint = [](const KpaConfig& c) {
    return std::to_string(c.target_utilization) + "|" + std::to_string(c.panic_window_percentage) + "|" +
           std::to_string(c.panic_threshold) + "|" + std::to_string(c.min_scale) + "|" +
           std::to_string(c.max_scale) + "|" + std::to_string(c.initial_scale) + "|" +
           std::to_string(c.scale_down_delay.count()) + "|" +
           std::to_string(c.scale_to_zero_pod_retention_period.count()) + "|" +
           std::to_string(c.target_burst_capacity) + "|" + std::to_string(static_cast<int>(c.aggregation));
  };
  for (const auto& c : cases) {
    const KpaConfig both = MustParse({{K(c.kebab), c.kebab_value}, {K(c.camel), c.camel_value}});
    const KpaConfig kebab = MustParse({{K(c.kebab), c.kebab_value}});
    const KpaConfig camel = MustParse({{K(c.camel), c.camel_value}});
    EXPECT_EQ(fingerprint(both), fingerprint(kebab)) << c.kebab;
    EXPECT_NE(fingerprint(camel), fingerprint(kebab)) << c.camel << " alone is read too";
  }
}

TEST(KpaConfigTest, AnErrorNamesTheKeyThatWasUsed) {
  EXPECT_EQ(ErrorOf({{K("minScale"), "-1"}}), "autoscaling.knative.dev/minScale: -1 must be >= 0");
  // The kebab key wins, so a bad alias beside a good kebab key is not read.
  EXPECT_EQ(ErrorOf({{K("min-scale"), "1"}, {K("minScale"), "-1"}}), "");
}

TEST(KpaConfigTest, ReplicasOverrideScaleAnnotations) {
  // OpenFunction writes minReplicas/maxReplicas over min-scale/max-scale and
  // their aliases, so the annotations (even invalid ones) do not count.
  const KpaConfig c = MustParse({{K("min-scale"), "junk"}, {K("maxScale"), "1"}}, 2, 9);
  EXPECT_EQ(c.min_scale, 2);
  EXPECT_EQ(c.max_scale, 9);
  // Unset (-1) leaves the annotations in charge.
  const KpaConfig d = MustParse({{K("min-scale"), "1"}, {K("max-scale"), "4"}}, -1, -1);
  EXPECT_EQ(d.min_scale, 1);
  EXPECT_EQ(d.max_scale, 4);
  // One set, one not.
  const KpaConfig e = MustParse({{K("min-scale"), "1"}, {K("max-scale"), "4"}}, -1, 6);
  EXPECT_EQ(e.min_scale, 1);
  EXPECT_EQ(e.max_scale, 6);
}

TEST(KpaConfigTest, InitialScaleZeroNeedsTheClusterToAllowIt) {
  EXPECT_EQ(MustParse({{K("initial-scale"), "0"}}).initial_scale, 1);  // falls back, no error
  KpaDefaults d;
  d.allow_zero_initial_scale = true;
  EXPECT_EQ(MustParse({{K("initial-scale"), "0"}}, -1, -1, 0, d).initial_scale, 0);
  EXPECT_EQ(MustParse({{K("initial-scale"), "3"}}).initial_scale, 3);
}

TEST(KpaConfigTest, ActivationScaleWithinBounds) {
  EXPECT_EQ(MustParse({{K("activation-scale"), "3"}}).activation_scale, 3);
  EXPECT_EQ(MustParse({{K("activation-scale"), "3"}, {K("min-scale"), "3"}, {K("max-scale"), "3"}}).activation_scale,
            3);
}

TEST(KpaConfigTest, EveryValidationRule) {
  struct Case {
    Annotations a;
    std::string want;
  };
  const Case cases[] = {
      {{{K("class"), "foo.knative.dev"}},
       "autoscaling.knative.dev/class: foo.knative.dev is not one of kpa.autoscaling.knative.dev, "
       "hpa.autoscaling.knative.dev"},
      {{{K("class"), ""}}, "autoscaling.knative.dev/class: must not be empty"},
      {{{K("metric"), "cpu"}}, "autoscaling.knative.dev/metric: \"cpu\" is not one of concurrency, rps"},
      {{{K("metric"), ""}}, "autoscaling.knative.dev/metric: \"\" is not one of concurrency, rps"},
      {{{K("target"), "0.001"}}, "autoscaling.knative.dev/target: 0.001 must be >= 0.01"},
      {{{K("target"), "-5"}}, "autoscaling.knative.dev/target: -5 must be >= 0.01"},
      {{{K("target"), "ten"}}, "autoscaling.knative.dev/target: \"ten\" is not a number"},
      {{{K("target-utilization-percentage"), "0.5"}},
       "autoscaling.knative.dev/target-utilization-percentage: 0.5 is outside [1, 100]"},
      {{{K("targetUtilizationPercentage"), "101"}},
       "autoscaling.knative.dev/targetUtilizationPercentage: 101 is outside [1, 100]"},
      {{{K("window"), "5s"}}, "autoscaling.knative.dev/window: 5s is outside [6s, 1h]"},
      {{{K("window"), "61m"}}, "autoscaling.knative.dev/window: 61m is outside [6s, 1h]"},
      {{{K("window"), "6500ms"}}, "autoscaling.knative.dev/window: 6500ms must be a whole number of seconds"},
      {{{K("window"), "60"}},
       "autoscaling.knative.dev/window: invalid duration \"60\": missing unit (ns, us, ms, s, m or h)"},
      {{{K("panic-window-percentage"), "0.5"}},
       "autoscaling.knative.dev/panic-window-percentage: 0.5 is outside [1, 100]"},
      {{{K("panicWindowPercentage"), "101"}},
       "autoscaling.knative.dev/panicWindowPercentage: 101 is outside [1, 100]"},
      {{{K("panic-threshold-percentage"), "50"}},
       "autoscaling.knative.dev/panic-threshold-percentage: 50 is outside [110, 1000]"},
      {{{K("panicThresholdPercentage"), "1001"}},
       "autoscaling.knative.dev/panicThresholdPercentage: 1001 is outside [110, 1000]"},
      {{{K("min-scale"), "-1"}}, "autoscaling.knative.dev/min-scale: -1 must be >= 0"},
      {{{K("min-scale"), "1.5"}}, "autoscaling.knative.dev/min-scale: \"1.5\" is not a 32-bit integer"},
      {{{K("min-scale"), "3000000000"}},
       "autoscaling.knative.dev/min-scale: \"3000000000\" is not a 32-bit integer"},
      {{{K("max-scale"), "-1"}}, "autoscaling.knative.dev/max-scale: -1 must be >= 0"},
      {{{K("min-scale"), "5"}, {K("max-scale"), "3"}},
       "autoscaling.knative.dev/max-scale: 3 is less than autoscaling.knative.dev/min-scale 5"},
      {{{K("initial-scale"), "-1"}}, "autoscaling.knative.dev/initial-scale: -1 must be >= 0"},
      {{{K("initialScale"), "x"}}, "autoscaling.knative.dev/initialScale: \"x\" is not a 32-bit integer"},
      {{{K("scale-down-delay"), "-1s"}}, "autoscaling.knative.dev/scale-down-delay: -1s is outside [0s, 1h]"},
      {{{K("scaleDownDelay"), "2h"}}, "autoscaling.knative.dev/scaleDownDelay: 2h is outside [0s, 1h]"},
      {{{K("scale-down-delay"), "1500ms"}},
       "autoscaling.knative.dev/scale-down-delay: 1500ms must be a whole number of seconds"},
      {{{K("scale-to-zero-pod-retention-period"), "-1s"}},
       "autoscaling.knative.dev/scale-to-zero-pod-retention-period: -1s is outside [0s, 1h]"},
      {{{K("scaleToZeroPodRetentionPeriod"), "1h1s"}},
       "autoscaling.knative.dev/scaleToZeroPodRetentionPeriod: 1h1s is outside [0s, 1h]"},
      {{{K("activation-scale"), "1"}}, "autoscaling.knative.dev/activation-scale: 1 must be >= 2"},
      {{{K("activation-scale"), "2"}, {K("min-scale"), "3"}},
       "autoscaling.knative.dev/activation-scale: 2 is outside [min-scale 3, max-scale unbounded]"},
      {{{K("activation-scale"), "5"}, {K("max-scale"), "4"}},
       "autoscaling.knative.dev/activation-scale: 5 is outside [min-scale 0, max-scale 4]"},
      {{{K("target-burst-capacity"), "-2"}},
       "autoscaling.knative.dev/target-burst-capacity: -2 must be >= 0 or exactly -1"},
      {{{K("targetBurstCapacity"), "lots"}},
       "autoscaling.knative.dev/targetBurstCapacity: \"lots\" is not a number"},
      {{{K("metric-aggregation-algorithm"), "max"}},
       "autoscaling.knative.dev/metric-aggregation-algorithm: \"max\" is not one of linear, weighted-exponential, "
       "weightedExponential"},
      {{{"serving.knative.dev/progress-deadline", "0s"}}, "serving.knative.dev/progress-deadline: 0s must be > 0s"},
      {{{"serving.knative.dev/progress-deadline", "soon"}},
       "serving.knative.dev/progress-deadline: invalid duration \"soon\": expected a number"},
  };
  for (const auto& c : cases) EXPECT_EQ(ErrorOf(c.a), c.want);
}

TEST(KpaConfigTest, ReplicaAndConcurrencyArgumentsAreChecked) {
  EXPECT_EQ(ErrorOf({}, -2), "serving.scaleOptions.minReplicas: -2 must be >= 0");
  EXPECT_EQ(ErrorOf({}, -1, -5), "serving.scaleOptions.maxReplicas: -5 must be >= 0");
  EXPECT_EQ(ErrorOf({}, 4, 2), "serving.scaleOptions.maxReplicas: 2 is less than serving.scaleOptions.minReplicas 4");
  EXPECT_EQ(ErrorOf({{K("max-scale"), "2"}}, 4),
            "autoscaling.knative.dev/max-scale: 2 is less than serving.scaleOptions.minReplicas 4");
  EXPECT_EQ(ErrorOf({}, 4, 0), "");  // max 0 = unbounded
  EXPECT_EQ(ErrorOf({}, -1, -1, -1), "containerConcurrency: -1 is outside [0, 1000]");
  EXPECT_EQ(ErrorOf({}, -1, -1, 1001), "containerConcurrency: 1001 is outside [0, 1000]");
  EXPECT_EQ(ErrorOf({}, -1, -1, 1000), "");
}

TEST(KpaConfigTest, MaxScaleLimit) {
  KpaDefaults d;
  d.max_scale_limit = 10;
  d.max_scale = 10;
  EXPECT_EQ(ErrorOf({{K("max-scale"), "11"}}, -1, -1, 0, d),
            "autoscaling.knative.dev/max-scale: 11 is outside [1, 10] (config-autoscaler max-scale-limit)");
  EXPECT_EQ(ErrorOf({{K("max-scale"), "0"}}, -1, -1, 0, d),
            "autoscaling.knative.dev/max-scale: 0 is outside [1, 10] (config-autoscaler max-scale-limit)");
  EXPECT_EQ(ErrorOf({}, -1, 0, 0, d),
            "serving.scaleOptions.maxReplicas: 0 is outside [1, 10] (config-autoscaler max-scale-limit)");
  EXPECT_EQ(MustParse({{K("max-scale"), "10"}}, -1, -1, 0, d).max_scale, 10);
  EXPECT_EQ(MustParse({}, -1, -1, 0, d).max_scale, 10);
}

TEST(KpaConfigTest, AllErrorsAreReportedTogether) {
  EXPECT_EQ(ErrorOf({{K("target"), "0"}, {K("window"), "1s"}}),
            "autoscaling.knative.dev/target: 0 must be >= 0.01; autoscaling.knative.dev/window: 1s is outside [6s, 1h]");
}

TEST(KpaConfigTest, OtherAutoscalerClassesAreValidButUnimplemented) {
  auto hpa = Parse({{K("class"), "hpa.autoscaling.knative.dev"}, {K("metric"), "cpu"}});
  ASSERT_FALSE(hpa.ok());
  EXPECT_EQ(hpa.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(hpa.status().message(),
            "autoscaling.knative.dev/class: hpa.autoscaling.knative.dev is valid, but Ofn autoscales with "
            "kpa.autoscaling.knative.dev only");
  auto custom = Parse({{K("class"), "example.com/my-autoscaler"}, {K("metric"), "queue-depth"}});
  EXPECT_EQ(custom.status().code(), StatusCode::kUnimplemented);
  // The HPA accepts any metric but an empty one.
  EXPECT_EQ(ErrorOf({{K("class"), "hpa.autoscaling.knative.dev"}, {K("metric"), ""}}),
            "autoscaling.knative.dev/metric: must not be empty");
}

TEST(KpaConfigTest, UnknownAutoscalingKeysAreListedOthersIgnored) {
  const KpaConfig c = MustParse({{K("traget"), "10"},
                                 {K("container-concurrency"), "5"},
                                 {"serving.knative.dev/progress-deadline", "60s"},
                                 {"dapr.io/enabled", "true"}});
  ASSERT_EQ(c.unrecognized_annotations.size(), 1u);
  EXPECT_EQ(c.unrecognized_annotations[0], "autoscaling.knative.dev/traget");
}

TEST(KpaConfigTest, AcceptsAlternativeSpellings) {
  EXPECT_EQ(MustParse({{K("metricAggregationAlgorithm"), "weightedExponential"}}).aggregation,
            Aggregation::kWeightedExponential);
  EXPECT_DOUBLE_EQ(MustParse({{K("target-burst-capacity"), "-1"}}).target_burst_capacity, -1);
  EXPECT_DOUBLE_EQ(MustParse({{K("target"), "+12.5"}}).total_value, 12.5);
  EXPECT_EQ(MustParse({{K("min-scale"), "+2"}}).min_scale, 2);
}

TEST(KpaDefaultsTest, KnativeAndOfnDefaultsAreValid) {
  EXPECT_TRUE(KpaDefaults::Knative().Validate().ok());
  EXPECT_TRUE(KpaDefaults::Ofn().Validate().ok());
}

TEST(KpaDefaultsTest, EveryConfigMapRule) {
  struct Case {
    void (*change)(KpaDefaults&);
    const char* want;
  };
  const Case cases[] = {
      {[](KpaDefaults& d) { d.initial_scale = -1; }, "config-autoscaler initial-scale: -1 must be >= 0"},
      {[](KpaDefaults& d) { d.initial_scale = 0; },
       "config-autoscaler initial-scale: 0 is allowed only with allow-zero-initial-scale: true"},
      {[](KpaDefaults& d) { d.min_scale = -1; }, "config-autoscaler min-scale: -1 must be >= 0"},
      {[](KpaDefaults& d) { d.max_scale = -1; }, "config-autoscaler max-scale: -1 must be >= 0"},
      {[](KpaDefaults& d) { d.min_scale = 3;
         d.max_scale = 2; },
       "config-autoscaler min-scale: 3 is greater than max-scale 2"},
      {[](KpaDefaults& d) { d.max_scale_limit = -1; }, "config-autoscaler max-scale-limit: -1 must be >= 0"},
      {[](KpaDefaults& d) { d.max_scale_limit = 5; },
       "config-autoscaler max-scale: 0 is outside [1, 5] (max-scale-limit)"},
      {[](KpaDefaults& d) { d.max_scale_up_rate = 1; }, "config-autoscaler max-scale-up-rate: 1 must be > 1"},
      {[](KpaDefaults& d) { d.max_scale_down_rate = 0.5; }, "config-autoscaler max-scale-down-rate: 0.5 must be > 1"},
      {[](KpaDefaults& d) { d.container_concurrency_target_percentage = 150; },
       "config-autoscaler container-concurrency-target-percentage: 150 is outside (0, 100] (or (0, 1] as a "
       "fraction)"},
      {[](KpaDefaults& d) { d.container_concurrency_target_percentage = 0; },
       "config-autoscaler container-concurrency-target-percentage: 0 is outside (0, 100] (or (0, 1] as a "
       "fraction)"},
      {[](KpaDefaults& d) { d.container_concurrency_target_default = 0.01; },
       "config-autoscaler container-concurrency-target-default: 0.01 times the target percentage must be >= 0.01"},
      {[](KpaDefaults& d) { d.requests_per_second_target_default = 0; },
       "config-autoscaler requests-per-second-target-default: 0 must be >= 0.01"},
      {[](KpaDefaults& d) { d.target_burst_capacity = -2; },
       "config-autoscaler target-burst-capacity: -2 must be >= 0 or exactly -1"},
      {[](KpaDefaults& d) { d.stable_window = 5s; }, "config-autoscaler stable-window: 5s is outside [6s, 1h]"},
      {[](KpaDefaults& d) { d.stable_window = 7500ms; },
       "config-autoscaler stable-window: 7.5s must be a whole number of seconds"},
      {[](KpaDefaults& d) { d.panic_window_percentage = 0; },
       "config-autoscaler panic-window-percentage: 0 is outside [1, 100]"},
      {[](KpaDefaults& d) { d.activator_capacity = 0.5; }, "config-autoscaler activator-capacity: 0.5 must be >= 1"},
      {[](KpaDefaults& d) { d.scale_to_zero_grace_period = 0s; },
       "config-autoscaler scale-to-zero-grace-period: 0s must be > 0s"},
      {[](KpaDefaults& d) { d.scale_to_zero_pod_retention_period = -1s; },
       "config-autoscaler scale-to-zero-pod-retention-period: -1s must be >= 0s"},
      {[](KpaDefaults& d) { d.scale_down_delay = -1s; }, "config-autoscaler scale-down-delay: -1s must be >= 0s"},
      {[](KpaDefaults& d) { d.scale_down_delay = 1500ms; },
       "config-autoscaler scale-down-delay: 1.5s must be a whole number of seconds"},
      {[](KpaDefaults& d) { d.progress_deadline = 0s; }, "config-deployment progress-deadline: 0s must be > 0s"},
  };
  for (const auto& c : cases) {
    KpaDefaults d;
    c.change(d);
    EXPECT_EQ(d.Validate().message(), c.want);
    // An invalid cluster configuration fails every function's resolution.
    EXPECT_EQ(ErrorOf({}, -1, -1, 0, d), c.want);
  }
  KpaDefaults unchecked;
  unchecked.panic_threshold_percentage = 50;  // only the annotation is range-checked
  EXPECT_TRUE(unchecked.Validate().ok());
}

}  // namespace
}  // namespace ofn::autoscaler

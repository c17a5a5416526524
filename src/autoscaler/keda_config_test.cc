#include "autoscaler/keda_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace ofn::autoscaler {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kTriggers = "spec.serving.scaleOptions.keda.triggers";

json Kafka(json extra = json::object()) {
  json md = {{"bootstrapServers", "localhost:9092"}, {"consumerGroup", "logs-handler"}, {"topic", "logs"}};
  md.update(extra);
  return {{"type", "kafka"}, {"metadata", md}};
}

// spec.serving with these scaleOptions.keda triggers and scaledObject.
json Serving(json triggers, json scaled_object = nullptr, json options = json::object()) {
  options["keda"] = {{"triggers", std::move(triggers)}};
  if (!scaled_object.is_null()) options["keda"]["scaledObject"] = std::move(scaled_object);
  return {{"scaleOptions", std::move(options)}};
}

KedaConfig MustParse(const json& serving, const KedaDefaults& d = KedaDefaults::Ofn()) {
  auto r = KedaConfig::FromFunction(serving, d);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : KedaConfig{};
}

// The InvalidArgument message for `serving` ("" if it parsed).
std::string ErrorOf(const json& serving) {
  auto r = KedaConfig::FromFunction(serving);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}

TEST(KedaConfigTest, DefaultsOfKedaAndOfn) {
  const KedaConfig keda = MustParse(json::object(), KedaDefaults::Keda());
  EXPECT_EQ(keda.min_replicas, 0);
  EXPECT_EQ(keda.max_replicas, 100);
  EXPECT_FALSE(keda.idle_replicas.has_value());
  EXPECT_EQ(keda.polling_interval, 30s);
  EXPECT_EQ(keda.cooldown_period, 300s);
  EXPECT_EQ(keda.initial_cooldown_period, 0s);
  EXPECT_EQ(keda.hpa_sync_period, 15s);
  EXPECT_DOUBLE_EQ(keda.hpa_tolerance, 0.1);
  EXPECT_EQ(keda.downscale_stabilization, 300s);
  EXPECT_FALSE(keda.behavior.has_value());
  EXPECT_TRUE(keda.triggers.empty());
  EXPECT_EQ(keda.hpa_min_replicas(), 1);
  EXPECT_EQ(keda.initial_replicas(), 1);

  // Ofn polls its local brokers every second; everything else is KEDA's.
  const KedaConfig ofn = MustParse(Serving(json::array({Kafka()})));
  EXPECT_EQ(ofn.polling_interval, 1s);
  EXPECT_EQ(ofn.hpa_sync_period, 1s);
  EXPECT_EQ(ofn.cooldown_period, 300s);
  EXPECT_EQ(ofn.downscale_stabilization, 300s);
  EXPECT_EQ(ofn.max_replicas, 100);
  // A function's own pollingInterval wins over either default.
  EXPECT_EQ(MustParse(Serving(json::array({Kafka()}), {{"pollingInterval", 15}})).polling_interval, 15s);
}

TEST(KedaConfigTest, KafkaTriggerAsInTheSamples) {
  const json serving = Serving(json::array({Kafka({{"lagThreshold", "20"}})}),
                               {{"advanced",
                                 {{"horizontalPodAutoscalerConfig",
                                   {{"behavior",
                                     {{"scaleDown",
                                       {{"policies", {{{"periodSeconds", 15}, {"type", "Percent"}, {"value", 50}}}},
                                        {"stabilizationWindowSeconds", 45}}},
                                      {"scaleUp", {{"stabilizationWindowSeconds", 0}}}}}}}}},
                                {"cooldownPeriod", 60},
                                {"pollingInterval", 15}},
                               {{"minReplicas", 0}, {"maxReplicas", 10}});
  const KedaConfig c = MustParse(serving);
  EXPECT_EQ(c.min_replicas, 0);
  EXPECT_EQ(c.max_replicas, 10);
  EXPECT_EQ(c.polling_interval, 15s);
  EXPECT_EQ(c.cooldown_period, 60s);
  ASSERT_TRUE(c.behavior.has_value());
  EXPECT_EQ(c.behavior->scale_down.stabilization_window, 45s);
  ASSERT_EQ(c.behavior->scale_down.policies.size(), 1u);
  EXPECT_EQ(c.behavior->scale_down.policies[0].type, HpaPolicy::Type::kPercent);
  EXPECT_EQ(c.behavior->scale_down.policies[0].value, 50);
  EXPECT_EQ(c.behavior->scale_down.policies[0].period, 15s);
  // scaleUp gives only the window: Kubernetes' default policies fill the rest.
  EXPECT_EQ(c.behavior->scale_up.stabilization_window, 0s);
  EXPECT_EQ(c.behavior->scale_up.select, SelectPolicy::kMax);
  ASSERT_EQ(c.behavior->scale_up.policies.size(), 2u);
  EXPECT_EQ(c.behavior->scale_up.policies[0].type, HpaPolicy::Type::kPods);
  EXPECT_EQ(c.behavior->scale_up.policies[0].value, 4);
  EXPECT_EQ(c.behavior->scale_up.policies[1].type, HpaPolicy::Type::kPercent);
  EXPECT_EQ(c.behavior->scale_up.policies[1].value, 100);

  ASSERT_EQ(c.triggers.size(), 1u);
  const KedaTrigger& t = c.triggers[0];
  EXPECT_EQ(t.type, "kafka");
  EXPECT_EQ(t.field, kTriggers + "[0]");
  EXPECT_EQ(t.metric_type, KedaTrigger::MetricType::kAverageValue);
  EXPECT_DOUBLE_EQ(t.target, 20);
  EXPECT_DOUBLE_EQ(t.activation, 0);
  const auto& k = std::get<KafkaTrigger>(t.source);
  EXPECT_EQ(k.bootstrap_servers, "localhost:9092");
  EXPECT_EQ(k.consumer_group, "logs-handler");
  EXPECT_EQ(k.topic, "logs");
  EXPECT_FALSE(k.offset_reset_earliest);
  EXPECT_EQ(t.metadata.at("lagThreshold"), "20");
}

TEST(KedaConfigTest, BehaviorDefaultsWhenOnlyPresent) {
  KedaDefaults d = KedaDefaults::Ofn();
  d.downscale_stabilization = 120s;  // the controller flag sets the unset scale-down window
  const KedaConfig c =
      MustParse(Serving(json::array({Kafka()}),
                        {{"advanced", {{"horizontalPodAutoscalerConfig", {{"behavior", json::object()}}}}}}),
                d);
  ASSERT_TRUE(c.behavior.has_value());
  EXPECT_EQ(c.behavior->scale_down.stabilization_window, 120s);
  ASSERT_EQ(c.behavior->scale_down.policies.size(), 1u);
  EXPECT_EQ(c.behavior->scale_down.policies[0].type, HpaPolicy::Type::kPercent);
  EXPECT_EQ(c.behavior->scale_down.policies[0].value, 100);
  EXPECT_EQ(c.behavior->scale_up.policies.size(), 2u);
}

TEST(KedaConfigTest, KafkaDefaultsAndOptions) {
  const KedaConfig c = MustParse(Serving(json::array({Kafka(), Kafka({{"activationLagThreshold", "3"},
                                                                      {"offsetResetPolicy", "earliest"},
                                                                      {"allowIdleConsumers", "true"},
                                                                      {"excludePersistentLag", "1"},
                                                                      {"scaleToZeroOnInvalidOffset", "false"}})})));
  ASSERT_EQ(c.triggers.size(), 2u);
  EXPECT_DOUBLE_EQ(c.triggers[0].target, 10);
  EXPECT_DOUBLE_EQ(c.triggers[0].activation, 0);
  EXPECT_DOUBLE_EQ(c.triggers[1].activation, 3);
  const auto& k = std::get<KafkaTrigger>(c.triggers[1].source);
  EXPECT_TRUE(k.offset_reset_earliest);
  EXPECT_TRUE(k.allow_idle_consumers);
  EXPECT_TRUE(k.exclude_persistent_lag);
  EXPECT_FALSE(k.scale_to_zero_on_invalid_offset);
}

TEST(KedaConfigTest, RedisStreamsModes) {
  auto redis = [](json md) {
    md["address"] = "localhost:6379";
    md["stream"] = "orders";
    return json{{"type", "redis-streams"}, {"metadata", md}};
  };
  const KedaConfig c = MustParse(Serving(json::array({
      redis({{"consumerGroup", "g"}}),
      redis({{"consumerGroup", "g"}, {"lagCount", "7"}, {"activationLagCount", "2"}}),
      redis(json::object()),
      redis({{"consumerGroup", "g"}, {"pendingEntriesCount", "12"}}),
  })));
  ASSERT_EQ(c.triggers.size(), 4u);
  using Mode = RedisStreamsTrigger::Mode;
  EXPECT_EQ(std::get<RedisStreamsTrigger>(c.triggers[0].source).mode, Mode::kPendingEntries);
  EXPECT_DOUBLE_EQ(c.triggers[0].target, 5);
  EXPECT_EQ(std::get<RedisStreamsTrigger>(c.triggers[1].source).mode, Mode::kLag);
  EXPECT_DOUBLE_EQ(c.triggers[1].target, 7);
  EXPECT_DOUBLE_EQ(c.triggers[1].activation, 2);
  EXPECT_EQ(std::get<RedisStreamsTrigger>(c.triggers[2].source).mode, Mode::kStreamLength);
  EXPECT_DOUBLE_EQ(c.triggers[2].target, 5);
  EXPECT_DOUBLE_EQ(c.triggers[3].target, 12);
  const auto& r = std::get<RedisStreamsTrigger>(c.triggers[0].source);
  EXPECT_EQ(r.address, "localhost:6379");
  EXPECT_EQ(r.stream, "orders");
  EXPECT_EQ(r.consumer_group, "g");
  // host and port instead of address.
  const KedaConfig h = MustParse(Serving(json::array(
      {{{"type", "redis-streams"}, {"metadata", {{"host", "redis"}, {"port", "6380"}, {"stream", "s"}}}}})));
  EXPECT_EQ(std::get<RedisStreamsTrigger>(h.triggers[0].source).address, "redis:6380");
}

TEST(KedaConfigTest, NatsJetStreamAndCron) {
  const KedaConfig c = MustParse(Serving(json::array({
      {{"type", "nats-jetstream"},
       {"metadata",
        {{"natsServerMonitoringEndpoint", "localhost:8222"},
         {"account", "$G"},
         {"stream", "ORDERS"},
         {"consumer", "worker"}}}},
      {{"type", "cron"},
       {"name", "office-hours"},
       {"metadata",
        {{"timezone", "Asia/Kolkata"}, {"start", "0 9 * * 1-5"}, {"end", "0 17 * * 1-5"}, {"desiredReplicas", "3"}}}},
  })));
  ASSERT_EQ(c.triggers.size(), 2u);
  const auto& n = std::get<NatsJetStreamTrigger>(c.triggers[0].source);
  EXPECT_EQ(n.monitoring_endpoint, "localhost:8222");
  EXPECT_EQ(n.account, "$G");
  EXPECT_EQ(n.stream, "ORDERS");
  EXPECT_EQ(n.consumer, "worker");
  EXPECT_DOUBLE_EQ(c.triggers[0].target, 10);
  EXPECT_DOUBLE_EQ(c.triggers[0].activation, 0);
  const auto& cron = std::get<CronTrigger>(c.triggers[1].source);
  EXPECT_EQ(c.triggers[1].name, "office-hours");
  EXPECT_EQ(cron.desired_replicas, 3);
  EXPECT_EQ(cron.window.start.zone().name(), "Asia/Kolkata");
  EXPECT_EQ(cron.window.end.zone().name(), "Asia/Kolkata");
  EXPECT_DOUBLE_EQ(c.triggers[1].target, 1);
}

TEST(KedaConfigTest, ScaledObjectReplicaCountsWin) {
  // v1beta1's scaledObject.{min,max}ReplicaCount override scaleOptions', as
  // OpenFunction's conversion does; idleReplicaCount is KEDA's.
  const KedaConfig c = MustParse(Serving(json::array({Kafka()}),
                                         {{"minReplicaCount", 2}, {"maxReplicaCount", 7}, {"idleReplicaCount", 0}},
                                         {{"minReplicas", 1}, {"maxReplicas", 10}}));
  EXPECT_EQ(c.min_replicas, 2);
  EXPECT_EQ(c.max_replicas, 7);
  EXPECT_EQ(c.idle_replicas, 0);
  EXPECT_EQ(c.hpa_min_replicas(), 2);
  EXPECT_EQ(c.initial_replicas(), 2);
}

TEST(KedaConfigTest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka(), Kafka({{"lagThreshold", "x"}})}))),
            kTriggers + "[1].metadata.lagThreshold: \"x\" is not an integer");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka({{"lagThreshold", "0"}})}))),
            kTriggers + "[0].metadata.lagThreshold: 0 must be > 0");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka({{"activationLagThreshold", "-1"}})}))),
            kTriggers + "[0].metadata.activationLagThreshold: -1 must be >= 0");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka({{"lagThreshold", 20}})}))),
            kTriggers + "[0].metadata.lagThreshold: must be a string, not number");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka({{"offsetResetPolicy", "oldest"}})}))),
            kTriggers + "[0].metadata.offsetResetPolicy: \"oldest\" is not one of latest, earliest");
  EXPECT_EQ(ErrorOf(Serving(json::array({{{"type", "kafka"}, {"metadata", {{"consumerGroup", "g"}}}}}))),
            kTriggers + "[0].metadata.bootstrapServers: is required for a kafka trigger");
  EXPECT_EQ(ErrorOf(Serving(json::array({{{"type", "kafka"}}}))), kTriggers + "[0].metadata: is required");
  EXPECT_EQ(ErrorOf(Serving(json::array({{{"metadata", json::object()}}}))), kTriggers + "[0].type: is required");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka()}), nullptr, {{"minReplicas", -1}})),
            "spec.serving.scaleOptions.minReplicas: -1 must be >= 0");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka()}), nullptr, {{"minReplicas", 5}, {"maxReplicas", 3}})),
            "spec.serving.scaleOptions.minReplicas: 5 is greater than spec.serving.scaleOptions.maxReplicas 3");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka()}), nullptr, {{"maxReplicas", 0}})),
            "spec.serving.scaleOptions.maxReplicas: 0 must be >= 1 (the HPA's maxReplicas)");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka()}), nullptr, {{"minReplicas", "2"}})),
            "spec.serving.scaleOptions.minReplicas: \"2\" is not an integer");
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka()}), {{"pollingInterval", 0}})),
            "spec.serving.scaleOptions.keda.scaledObject.pollingInterval: 0 must be >= 1");
  EXPECT_EQ(
      ErrorOf(Serving(json::array({Kafka()}), {{"minReplicaCount", 1}, {"idleReplicaCount", 1}})),
      "spec.serving.scaleOptions.keda.scaledObject.idleReplicaCount: 1 must be less than max(minReplicas, 1) = 1");
  EXPECT_EQ(ErrorOf({{"scaleOptions", {{"keda", "x"}}}}),
            "spec.serving.scaleOptions.keda: must be an object, not string");
  EXPECT_EQ(ErrorOf({{"scaleOptions", {{"keda", {{"triggers", "kafka"}}}}}}),
            "spec.serving.scaleOptions.keda.triggers: must be a list");

  const std::string behavior =
      "spec.serving.scaleOptions.keda.scaledObject.advanced.horizontalPodAutoscalerConfig.behavior";
  auto with_behavior = [](json b) {
    return Serving(json::array({Kafka()}), {{"advanced", {{"horizontalPodAutoscalerConfig", {{"behavior", b}}}}}});
  };
  EXPECT_EQ(ErrorOf(with_behavior({{"scaleDown", {{"stabilizationWindowSeconds", 4000}}}})),
            behavior + ".scaleDown.stabilizationWindowSeconds: 4000 must be <= 3600");
  EXPECT_EQ(ErrorOf(with_behavior({{"scaleUp", {{"selectPolicy", "Most"}}}})),
            behavior + ".scaleUp.selectPolicy: \"Most\" is not one of Max, Min, Disabled");
  EXPECT_EQ(ErrorOf(with_behavior({{"scaleUp", {{"policies", json::array()}}}})),
            behavior + ".scaleUp.policies: must list at least one policy");
  EXPECT_EQ(ErrorOf(with_behavior(
                {{"scaleUp", {{"policies", {{{"type", "Replicas"}, {"value", 1}, {"periodSeconds", 2000}}}}}}})),
            behavior + ".scaleUp.policies[0].periodSeconds: 2000 must be <= 1800; " + behavior +
                ".scaleUp.policies[0].type: \"Replicas\" is not one of Pods, Percent");
  EXPECT_EQ(ErrorOf(with_behavior({{"scaleDown", {{"policies", {{{"type", "Pods"}, {"periodSeconds", 60}}}}}}})),
            behavior + ".scaleDown.policies[0].value: is required");

  // Several errors at once, in order.
  EXPECT_EQ(ErrorOf(Serving(json::array({Kafka({{"lagThreshold", "x"}}), Kafka({{"lagThreshold", "y"}})}))),
            kTriggers + "[0].metadata.lagThreshold: \"x\" is not an integer; " + kTriggers +
                "[1].metadata.lagThreshold: \"y\" is not an integer");
}

TEST(KedaConfigTest, TriggerTypeErrors) {
  auto redis = json{{"type", "redis-streams"}, {"metadata", {{"stream", "s"}}}};
  EXPECT_EQ(ErrorOf(Serving(json::array({redis}))),
            kTriggers + "[0].metadata.address: is required for a redis-streams trigger (or host and port)");
  auto nats = json{{"type", "nats-jetstream"},
                   {"metadata", {{"natsServerMonitoringEndpoint", "x:8222"}, {"stream", "s"}, {"consumer", "c"}}}};
  EXPECT_EQ(ErrorOf(Serving(json::array({nats}))),
            kTriggers + "[0].metadata.account: is required for a nats-jetstream trigger (or accountID)");
  auto cron = [](json md) {
    json base = {{"timezone", "UTC"}, {"start", "0 9 * * *"}, {"end", "0 17 * * *"}, {"desiredReplicas", "2"}};
    base.update(md);
    return json{{"type", "cron"}, {"metadata", base}};
  };
  EXPECT_EQ(ErrorOf(Serving(json::array({cron({{"start", "0 9 * *"}})}))),
            kTriggers + "[0].metadata.start: schedule \"0 9 * *\": expected exactly 5 fields, found 4");
  EXPECT_EQ(ErrorOf(Serving(json::array({cron({{"end", "0 9 * * *"}})}))),
            kTriggers + "[0].metadata.end: must differ from start");
  EXPECT_EQ(ErrorOf(Serving(json::array({cron({{"desiredReplicas", "0"}})}))),
            kTriggers + "[0].metadata.desiredReplicas: must not be 0");
  const std::string tz = ErrorOf(Serving(json::array({cron({{"timezone", "Mars/Olympus_Mons"}})})));
  EXPECT_EQ(tz.rfind(kTriggers + "[0].metadata.timezone: unknown time zone \"Mars/Olympus_Mons\"", 0), 0u) << tz;
  EXPECT_EQ(ErrorOf(Serving(json::array(
                {json{{"type", "kafka"}, {"metricType", "Utilization"}, {"metadata", Kafka()["metadata"]}}}))),
            kTriggers + "[0].metricType: Utilization is for cpu and memory triggers only");
}

TEST(KedaConfigTest, UnimplementedNamesWhatIsMissing) {
  auto r =
      KedaConfig::FromFunction(Serving(json::array({Kafka(), {{"type", "rabbitmq"}, {"metadata", json::object()}}})));
  ASSERT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(r.status().message(), kTriggers +
                                      "[1].type: \"rabbitmq\" is a KEDA scaler Ofn does not implement (it implements "
                                      "kafka, redis-streams, nats-jetstream, cron)");
  json job = Serving(json::array({Kafka()}));
  job["scaleOptions"]["keda"]["scaledJob"] = {{"pollingInterval", 10}};
  EXPECT_EQ(KedaConfig::FromFunction(job).status().code(), StatusCode::kUnimplemented);
  // Invalid input is reported first: it must be fixed either way.
  auto both = KedaConfig::FromFunction(
      Serving(json::array({Kafka({{"lagThreshold", "x"}}), {{"type", "rabbitmq"}, {"metadata", json::object()}}})));
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
}

TEST(KedaConfigTest, IgnoredFieldsAreListed) {
  json t = Kafka();
  t["authenticationRef"] = {{"name", "kafka-auth"}};
  const KedaConfig c = MustParse(Serving(json::array({t}), {{"fallback", {{"failureThreshold", 3}, {"replicas", 2}}}}));
  EXPECT_EQ(c.ignored_fields, (std::vector<std::string>{"spec.serving.scaleOptions.keda.scaledObject.fallback",
                                                        kTriggers + "[0].authenticationRef"}));
}

TEST(KedaConfigTest, NoScaleOptionsMeansNoTriggers) {
  const KedaConfig c = MustParse({{"template", json::object()}});
  EXPECT_TRUE(c.triggers.empty());
  EXPECT_EQ(ErrorOf(json::array()), "spec.serving: must be an object");
}

// Schedules in KEDA's dialect and `zone`.
CronWindow Window(const char* zone, const char* start, const char* end) {
  auto z = TimeZone::Load(zone);
  auto s = CronSchedule::Parse(start, CronDialect::kKeda, z.ok() ? *z : TimeZone());
  auto e = CronSchedule::Parse(end, CronDialect::kKeda, z.ok() ? *z : TimeZone());
  EXPECT_TRUE(z.ok() && s.ok() && e.ok()) << zone << " " << start << " " << end;
  return CronWindow{*s, *e};
}

TEST(CronWindowTest, ActiveFromStartUntilEndInTheZone) {
  using namespace std::chrono;
  const CronWindow w = Window("Asia/Kolkata", "0 9 * * *", "0 17 * * *");
  // 09:00 IST is 03:30 UTC; 17:00 IST is 11:30 UTC.
  auto utc = [](hours h, minutes m) { return system_clock::time_point(sys_days(2025y / June / 9) + h + m); };
  EXPECT_FALSE(w.Contains(utc(3h, 29min)));
  EXPECT_TRUE(w.Contains(utc(3h, 30min)));
  EXPECT_TRUE(w.Contains(utc(11h, 29min) + 59s));
  EXPECT_FALSE(w.Contains(utc(11h, 30min)));
  EXPECT_FALSE(w.Contains(utc(20h, 0min)));
  // A window across midnight.
  const CronWindow night = Window("UTC", "0 22 * * *", "0 6 * * *");
  EXPECT_TRUE(night.Contains(utc(23h, 0min)));
  EXPECT_TRUE(night.Contains(utc(5h, 59min)));
  EXPECT_FALSE(night.Contains(utc(6h, 0min)));
}

}  // namespace
}  // namespace ofn::autoscaler

// Every async sample OpenFunction ships with scaleOptions (../shared/specs)
// gives a KedaConfig, read through the same loader `ofn apply` uses.
//
// Needs ofn_api for YAML: src/CMakeLists.txt links it with
// `ofn_unit_tests(ofn_autoscaler autoscaler ofn_api)`.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/load.h"
#include "api/testing_specs.h"
#include "autoscaler/keda_config.h"

namespace ofn::autoscaler {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// What every one of these samples asks for.
void ExpectSampleSettings(const KedaConfig& c, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(c.min_replicas, 0);
  EXPECT_EQ(c.max_replicas, 10);
  EXPECT_EQ(c.polling_interval, 15s);
  EXPECT_EQ(c.cooldown_period, 60s);
  ASSERT_TRUE(c.behavior.has_value());
  EXPECT_EQ(c.behavior->scale_down.stabilization_window, 45s);
  ASSERT_EQ(c.behavior->scale_down.policies.size(), 1u);
  EXPECT_EQ(c.behavior->scale_down.policies[0].value, 50);
  ASSERT_EQ(c.triggers.size(), 1u);
  EXPECT_EQ(c.triggers[0].type, "kafka");
  EXPECT_DOUBLE_EQ(c.triggers[0].target, 20);
  EXPECT_FALSE(std::get<KafkaTrigger>(c.triggers[0].source).topic.empty());
  EXPECT_TRUE(c.ignored_fields.empty());
}

TEST(KedaSamplesTest, EveryAsyncSampleWithScaleOptionsParses) {
  const std::filesystem::path root = api::specs::SpecsDir() / "openfunction-samples" / "functions" / "async";
  ASSERT_TRUE(std::filesystem::is_directory(root)) << api::specs::MissingSpecsMessage();
  int parsed = 0;
  for (const auto& path : api::specs::SampleManifests()) {
    if (path.string().rfind(root.string(), 0) != 0) continue;
    const std::string rel = std::filesystem::relative(path, api::specs::SpecsDir()).string();
    auto loaded = api::LoadManifests(api::specs::ReadFile(path), rel);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    for (const api::Resource& r : *loaded) {
      const json& serving = r.document.object["spec"]["serving"];
      if (r.document.kind != "Function" || !serving.contains("scaleOptions")) continue;
      auto config = KedaConfig::FromFunction(serving);
      ASSERT_TRUE(config.ok()) << rel << ": " << config.status().ToString();
      ExpectSampleSettings(*config, rel);
      ++parsed;
    }
  }
  EXPECT_EQ(parsed, 5);  // logs-handler, java pubsub and kafka-input, pubsub subscriber, bindings kafka-input
}

TEST(KedaSamplesTest, V1beta1ScaledObjectCountsConvertToTheSameConfig) {
  // logs-handler keeps its v1beta1 original in last-applied-configuration:
  // scaledObject.{min,max}ReplicaCount and serving.triggers, which the
  // conversion moves to v1beta2's places.
  const std::filesystem::path file = api::specs::SpecsDir() /
                                     "openfunction-samples/functions/async/"
                                     "logs-handler-function/logs-handler-function.yaml";
  auto loaded = api::LoadManifests(api::specs::ReadFile(file), "logs-handler-function.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  const std::string original = (*loaded)[0].document.annotations.at("kubectl.kubernetes.io/last-applied-configuration");
  ASSERT_NE(original.find("\"minReplicaCount\":0"), std::string::npos);

  auto v1beta1 = api::LoadManifests(original, "last-applied-configuration");
  ASSERT_TRUE(v1beta1.ok()) << v1beta1.status().ToString();
  ASSERT_EQ(v1beta1->size(), 1u);
  EXPECT_EQ((*v1beta1)[0].document.converted_from, "core.openfunction.io/v1beta1");
  auto config = KedaConfig::FromFunction((*v1beta1)[0].document.object["spec"]["serving"]);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ExpectSampleSettings(*config, "v1beta1 original");
}

}  // namespace
}  // namespace ofn::autoscaler

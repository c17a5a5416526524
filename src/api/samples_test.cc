// Every manifest OpenFunction ships (../shared/specs) loads: it parses,
// validates without errors, and Functions and Gateways decode.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "api/load.h"
#include "api/testing_specs.h"

namespace ofn::api {
namespace {

using specs::ReadFile;
using specs::SampleManifests;
using specs::SpecsDir;

struct Loaded {
  std::map<std::string, std::vector<Resource>> by_file;  // relative path -> resources
};

const Loaded& LoadAll() {
  static const Loaded* loaded = [] {
    auto* l = new Loaded();
    for (const auto& path : SampleManifests()) {
      std::string rel = std::filesystem::relative(path, SpecsDir()).string();
      auto r = LoadManifests(ReadFile(path), rel);
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (r.ok()) l->by_file[rel] = std::move(r).value();
    }
    return l;
  }();
  return *loaded;
}

const Resource& Find(std::string_view file, std::string_view kind, std::string_view name) {
  static const Resource kNone;
  auto it = LoadAll().by_file.find(std::string(file));
  if (it == LoadAll().by_file.end()) {
    ADD_FAILURE() << "no file " << file;
    return kNone;
  }
  for (const Resource& r : it->second) {
    if (r.document.kind == kind && r.document.name == name) return r;
  }
  ADD_FAILURE() << "no " << kind << " " << name << " in " << file;
  return kNone;
}

TEST(Samples, SpecsArePresent) {
  ASSERT_TRUE(std::filesystem::is_directory(SpecsDir() / "openfunction-samples")) << specs::MissingSpecsMessage();
  ASSERT_TRUE(std::filesystem::is_directory(SpecsDir() / "openfunction-config-samples"))
      << specs::MissingSpecsMessage();
  EXPECT_GE(SampleManifests().size(), 38u);
}

TEST(Samples, EveryManifestLoadsWithoutErrors) {
  ASSERT_TRUE(std::filesystem::is_directory(SpecsDir() / "openfunction-samples")) << specs::MissingSpecsMessage();
  int functions = 0, gateways = 0, components = 0, others = 0;
  std::string report;
  for (const auto& [file, resources] : LoadAll().by_file) {
    EXPECT_FALSE(resources.empty()) << file;
    for (const Resource& r : resources) {
      EXPECT_TRUE(r.ok()) << r.document.Describe() << ":\n" << FormatDiagnostics(r.errors);
      report += r.document.Describe() + (r.supported ? "" : " (not an Ofn kind)") + "\n";
      for (const Diagnostic& d : r.ignored) report += "  ignored: " + d.ToString() + "\n";
      if (r.document.kind == "Function") {
        ++functions;
        EXPECT_TRUE(r.function.has_value()) << r.document.Describe();
      } else if (r.document.kind == "Gateway") {
        ++gateways;
        EXPECT_TRUE(r.gateway.has_value()) << r.document.Describe();
      } else if (r.document.kind == "Component") {
        ++components;
        EXPECT_TRUE(r.supported);
      } else {
        ++others;
        EXPECT_FALSE(r.supported) << r.document.Describe();
        ASSERT_EQ(r.ignored.size(), 1u);
        EXPECT_NE(r.ignored[0].message.find("is not a kind Ofn handles"), std::string::npos);
      }
    }
  }
  EXPECT_EQ(functions, 31);
  EXPECT_EQ(gateways, 1);
  EXPECT_EQ(components, 7);
  EXPECT_EQ(others, 7) << "apps/v1 Deployments and Strimzi Kafka resources";
  std::cout << "What Ofn ignores in the samples:\n" << report;
}

// The schema registry compiles on first use; loads from many threads at once
// must agree with each other.
TEST(Samples, ConcurrentLoadsAgree) {
  auto files = SampleManifests();
  ASSERT_FALSE(files.empty()) << specs::MissingSpecsMessage();
  std::vector<std::string> texts;
  for (const auto& f : files) texts.push_back(ReadFile(f));
  auto summarize = [&texts] {
    std::string out;
    for (const std::string& t : texts) {
      auto r = LoadManifests(t, "x.yaml");
      if (!r.ok()) return std::string("parse error");
      for (const Resource& res : *r) out += FormatDiagnostics(res.errors) + FormatDiagnostics(res.ignored);
    }
    return out;
  };
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) threads.emplace_back([&, i] { results[i] = summarize(); });
  for (auto& t : threads) t.join();
  for (const std::string& r : results) EXPECT_EQ(r, results[0]);
  EXPECT_FALSE(results[0].empty());
}

TEST(Samples, FunctionWithBuildAndServing) {
  const Resource& r = Find("openfunction-config-samples/function-sample.yaml", "Function", "function-sample");
  ASSERT_TRUE(r.function.has_value());
  const Function& f = *r.function;
  EXPECT_EQ(f.ns, "default");
  EXPECT_EQ(f.version, "v1.0.0");
  EXPECT_EQ(f.image, "openfunctiondev/v1beta1-sample:latest");
  EXPECT_EQ(f.build["builder"], "openfunction/builder-go:latest");
  EXPECT_EQ(f.build["env"]["FUNC_NAME"], "HelloWorld");
  ASSERT_TRUE(f.serving.has_value());
  ASSERT_TRUE(f.serving->http.has_value());
  EXPECT_EQ(f.serving->http->port, 8080);
  EXPECT_EQ(f.serving->http->route.gateway_ref.name, "openfunction");
  EXPECT_EQ(f.serving->http->route.gateway_ref.ns, "openfunction");
  EXPECT_EQ(f.serving->timeout, std::chrono::minutes(5));
  EXPECT_TRUE(f.serving->dapr_triggers.empty());
  ASSERT_TRUE(f.serving->container.has_value());
  EXPECT_FALSE(f.serving->container->resources.limits.cpu_millis.has_value());
}

TEST(Samples, BuildOnlyFunctionHasNoServing) {
  const Resource& r =
      Find("openfunction-config-samples/function-sample-build-only.yaml", "Function", "function-sample-build-only");
  ASSERT_TRUE(r.function.has_value());
  EXPECT_FALSE(r.function->serving.has_value());
  EXPECT_EQ(r.function->build["srcRepo"]["url"], "https://github.com/OpenFunction/samples.git");
}

TEST(Samples, KedaHttpRoute) {
  const Resource& r =
      Find("openfunction-config-samples/function-kedahttp-sample-serving.yaml", "Function", "kedahttp-sample");
  ASSERT_TRUE(r.function.has_value());
  const Serving& s = *r.function->serving;
  ASSERT_TRUE(s.http.has_value());
  EXPECT_EQ(s.http->port, 9898);
  EXPECT_EQ(s.http->route.hostnames, std::vector<std::string>{"podinfo.com"});
  ASSERT_EQ(s.http->route.rules.size(), 1u);
  ASSERT_EQ(s.http->route.rules[0].matches.size(), 1u);
  EXPECT_EQ(s.http->route.rules[0].matches[0].path.type, "PathPrefix");
  EXPECT_EQ(s.http->route.rules[0].matches[0].path.value, "/");
  EXPECT_EQ(s.scale.min_replicas, 0);
  EXPECT_EQ(s.scale.max_replicas, 10);
  EXPECT_EQ(s.scale.keda["httpScaledObject"]["targetPendingRequests"], 100);
}

TEST(Samples, ParamsAndScale) {
  const Resource& r =
      Find("openfunction-samples/functions/knative/greeting-node/greeting.yaml", "Function", "sample-node-knative");
  ASSERT_TRUE(r.function.has_value());
  const Serving& s = *r.function->serving;
  EXPECT_EQ(s.params.at("NODE_ENV"), "dev");
  EXPECT_EQ(s.params.at("DEBUG"), "common:*,ofn:*");
  EXPECT_EQ(s.scale.min_replicas, 0);
  EXPECT_EQ(s.scale.max_replicas, 2);
  EXPECT_EQ(s.http->port, 8080);
  EXPECT_EQ(s.http->route.gateway_ref.name, "openfunction") << "OpenFunction's default gateway";
}

TEST(Samples, AsyncBindings) {
  const Resource& r = Find("openfunction-samples/functions/async/mqtt-io-node/async-bindings.yaml", "Function",
                           "sample-node-async-bindings");
  ASSERT_TRUE(r.function.has_value());
  const Serving& s = *r.function->serving;
  EXPECT_FALSE(s.http.has_value()) << "a function with Dapr triggers is async";
  ASSERT_EQ(s.dapr_triggers.size(), 1u);
  EXPECT_EQ(s.dapr_triggers[0].name, "mqtt-in");
  EXPECT_EQ(s.dapr_triggers[0].type, "bindings.mqtt");
  EXPECT_EQ(s.dapr_triggers[0].input_name, "mqtt-in");
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].name, "mqtt-out");
  EXPECT_EQ(s.outputs[0].operation, "create");
  EXPECT_EQ(s.bindings["mqtt-in"]["metadata"][1]["value"], "tcp://admin:public@emqx:1883");
  EXPECT_EQ(s.params.at("FUNCTION_TARGET"), "tryAsync");
  EXPECT_EQ(s.annotations.at("dapr.io/log-level"), "debug");
}

TEST(Samples, PubsubTrigger) {
  const Resource& r = Find("openfunction-config-samples/function-pubsub-sample-serving-only.yaml", "Function",
                           "autoscaling-subscriber");
  ASSERT_TRUE(r.function.has_value());
  const Serving& s = *r.function->serving;
  ASSERT_EQ(s.dapr_triggers.size(), 1u);
  EXPECT_EQ(s.dapr_triggers[0].topic, "pubsub");
  EXPECT_EQ(s.dapr_triggers[0].type, "pubsub.kafka");
  EXPECT_EQ(s.dapr_triggers[0].input_name, "producer");
  EXPECT_EQ(s.scale.keda["scaledObject"]["cooldownPeriod"], 30);
  EXPECT_EQ(s.pubsub["kafka-server"]["type"], "pubsub.kafka");
}

TEST(Samples, OutputTypeFromItsComponent) {
  const Resource& r = Find("openfunction-samples/functions/knative/with-output-binding/function-front.yaml", "Function",
                           "function-front");
  ASSERT_TRUE(r.function.has_value());
  const Serving& s = *r.function->serving;
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].type, "bindings.kafka") << "looked up in serving.bindings";
  EXPECT_EQ(s.outputs[0].output_name, "kafka-server");
  ASSERT_TRUE(s.hooks.has_value());
  EXPECT_EQ(s.hooks->pre, (std::vector<std::string>{"plugin-custom", "plugin-example"}));
  EXPECT_EQ(s.hooks->post, (std::vector<std::string>{"plugin-example", "plugin-custom"}));
  EXPECT_EQ(s.hooks->policy, "Append");
  EXPECT_EQ(s.http->port, 8080);
}

TEST(Samples, CommandAndRouteRules) {
  const Resource& r = Find("openfunction-samples/functions/knative/wasmedge/http-server/wasmedge-http-server.yaml",
                           "Function", "wasmedge-http-server");
  ASSERT_TRUE(r.function.has_value());
  const Function& f = *r.function;
  EXPECT_EQ(f.workload_runtime, "wasmedge");
  ASSERT_TRUE(f.serving->container.has_value());
  EXPECT_EQ(f.serving->container->command, std::vector<std::string>{"/wasmedge_hyper_server.wasm"});
  ASSERT_EQ(f.serving->http->route.rules.size(), 1u);
  EXPECT_EQ(f.serving->http->route.rules[0].matches[0].path.value, "/echo");
  bool probe_reported = false;
  for (const Diagnostic& d : r.ignored) {
    probe_reported |= d.path == "spec.serving.template.containers[0].livenessProbe";
  }
  EXPECT_TRUE(probe_reported);
}

TEST(Samples, Gateway) {
  const Resource& r = Find("openfunction-config-samples/gateway-sample.yaml", "Gateway", "openfunction");
  ASSERT_TRUE(r.gateway.has_value());
  const Gateway& g = *r.gateway;
  EXPECT_EQ(g.ns, "openfunction");
  EXPECT_EQ(g.domain, "ofn.io");
  EXPECT_EQ(g.cluster_domain, "cluster.local");
  EXPECT_EQ(g.host_template, "{{.Name}}.{{.Namespace}}.{{.Domain}}");
  EXPECT_EQ(g.path_template, "{{.Namespace}}/{{.Name}}");
  EXPECT_EQ(g.http_route_label_key, "app.kubernetes.io/managed-by");
  EXPECT_EQ(g.gateway_ref["name"], "contour");
  EXPECT_EQ(g.gateway_spec["listeners"].size(), 2u);
}

TEST(Samples, ServerManagedMetadataIsReportedNotRejected) {
  const Resource& r = Find("openfunction-samples/functions/async/logs-handler-function/logs-handler-function.yaml",
                           "Function", "logs-async-handler");
  EXPECT_TRUE(r.ok());
  std::vector<std::string> paths;
  for (const Diagnostic& d : r.ignored) paths.push_back(d.path);
  for (const char* p :
       {"metadata.creationTimestamp", "metadata.generation", "metadata.resourceVersion", "metadata.uid"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), p), paths.end()) << p;
  }
}

}  // namespace
}  // namespace ofn::api

#include "api/convert.h"

#include <gtest/gtest.h>

#include "api/load.h"
#include "api/testing_specs.h"
#include "api/validate.h"

namespace ofn::api {
namespace {

using nlohmann::json;

Document Parse(std::string_view text) {
  auto docs = ParseManifests(text, "v1.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->empty()) return {};
  return std::move(docs->front());
}

std::vector<std::string> Strings(const std::vector<Diagnostic>& ds) {
  std::vector<std::string> v;
  for (const Diagnostic& d : ds) v.push_back(d.ToString());
  return v;
}

constexpr const char* kKnative = R"(apiVersion: core.openfunction.io/v1beta1
kind: Function
metadata:
  name: function-sample
  annotations:
    plugins: |
      order:
      - plugin-a
      - plugin-b
    plugins.tracing: |
      enabled: true
      provider:
        name: skywalking
        oapServer: localhost:11800
spec:
  version: v2.0.0
  image: openfunctiondev/sample-go-func:v1
  imageCredentials:
    name: push-secret
  port: 8081
  route:
    gatewayRef:
      name: openfunction
      namespace: openfunction
    hostnames: [hello.example.com]
    rules:
      - matches:
          - path: {type: PathPrefix, value: /hello}
  build:
    builder: openfunction/builder-go:latest
    timeout: 10m
    params:
      RUN_IMAGE: example.com/run
    srcRepo:
      url: https://github.com/OpenFunction/samples.git
      bundleContainer:
        image: example.com/bundle
      credentials:
        name: git-secret
  serving:
    runtime: knative
    params:
      DEBUG: "1"
    scaleOptions:
      minReplicas: 1
      maxReplicas: 5
      knative:
        autoscaling.knative.dev/target: "10"
    states:
      store:
        type: state.redis
        version: v1
        metadata:
          - name: redisHost
            value: localhost:6379
    template:
      containers:
        - name: function
          imagePullPolicy: IfNotPresent
)";

TEST(Convert, KnativeFunction) {
  Document in = Parse(kKnative);
  ASSERT_TRUE(Validate(in).ok()) << testing::PrintToString(Strings(Validate(in).errors));
  Conversion c = ConvertFunctionToV1beta2(in);
  EXPECT_TRUE(c.errors.empty()) << testing::PrintToString(Strings(c.errors));
  EXPECT_TRUE(c.notes.empty()) << testing::PrintToString(Strings(c.notes));
  const json& o = c.document.object;
  EXPECT_EQ(o["apiVersion"], "core.openfunction.io/v1beta2");
  EXPECT_EQ(c.document.converted_from, "core.openfunction.io/v1beta1");
  EXPECT_EQ(o["metadata"]["name"], "function-sample");
  EXPECT_EQ(o["spec"]["version"], "v2.0.0");
  EXPECT_EQ(o["spec"]["imageCredentials"]["name"], "push-secret");
  const json& http = o["spec"]["serving"]["triggers"]["http"];
  EXPECT_EQ(http["port"], 8081);
  EXPECT_EQ(http["route"]["hostnames"], json::parse(R"(["hello.example.com"])"));
  EXPECT_EQ(http["route"]["gatewayRef"], json::parse(R"({"name":"openfunction","namespace":"openfunction"})"));
  EXPECT_EQ(http["route"]["rules"][0]["matches"][0]["path"]["value"], "/hello");
  EXPECT_FALSE(o["spec"].contains("port"));
  EXPECT_FALSE(o["spec"].contains("route"));
  EXPECT_FALSE(o["spec"]["serving"].contains("runtime"));
  const json& build = o["spec"]["build"];
  EXPECT_EQ(build["shipwright"]["params"], json::parse(R"([{"name":"RUN_IMAGE","value":"example.com/run"}])"));
  EXPECT_EQ(build["srcRepo"]["bundleContainer"]["image"], "example.com/bundle");
  EXPECT_EQ(build["timeout"], "10m");
  EXPECT_FALSE(build.contains("params"));
  EXPECT_EQ(o["spec"]["serving"]["states"]["store"]["spec"]["type"], "state.redis");
  EXPECT_EQ(o["spec"]["serving"]["scaleOptions"]["knative"]["autoscaling.knative.dev/target"], "10");
  EXPECT_EQ(o["spec"]["serving"]["hooks"],
            json::parse(R"({"policy":"Override","pre":["plugin-a","plugin-b"],"post":["plugin-b","plugin-a"]})"));
  EXPECT_EQ(o["spec"]["serving"]["tracing"]["provider"]["oapServer"], "localhost:11800");

  ValidationReport v2 = Validate(c.document);
  EXPECT_TRUE(v2.ok()) << testing::PrintToString(Strings(v2.errors));
  // Positions point at what the user wrote.
  EXPECT_EQ(c.document.PositionOf("/spec/serving/triggers/http/port").line, 20);
  EXPECT_EQ(c.document.PositionOf("/spec/serving/triggers/http/route/hostnames").line, 25);
  EXPECT_EQ(c.document.PositionOf("/spec/build/shipwright/params/0").line, 33);
  EXPECT_EQ(c.document.PositionOf("/spec/serving/hooks/pre").line, 6);
  EXPECT_EQ(c.document.PositionOf("/spec/serving/states/store/spec/version").line, 52);
}

TEST(Convert, LoadsAsATypedV1beta2Function) {
  auto loaded = LoadManifests(kKnative, "v1.yaml");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  const Resource& r = (*loaded)[0];
  EXPECT_TRUE(r.ok()) << FormatDiagnostics(r.errors);
  ASSERT_TRUE(r.function.has_value());
  EXPECT_EQ(r.document.api_version, "core.openfunction.io/v1beta2");
  EXPECT_EQ(r.function->serving->http->port, 8081);
  EXPECT_EQ(r.function->serving->scale.min_replicas, 1);
  EXPECT_EQ(r.function->serving->hooks->policy, "Override");
  // Notes name v1beta2 paths at the v1beta1 lines.
  std::vector<std::string> ignored = Strings(r.ignored);
  EXPECT_EQ(r.function->image_credentials, "push-secret");
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "v1.yaml:10: spec.serving.tracing: kept, not acted on yet"),
            ignored.end())
      << testing::PrintToString(ignored);
}

TEST(Convert, AsyncFunction) {
  Document in = Parse(R"(apiVersion: core.openfunction.io/v1beta1
kind: Function
metadata:
  name: kafka-input
spec:
  image: openfunctiondev/kafka-input:v1
  port: 8080
  serving:
    runtime: async
    inputs:
      - name: greeting
        component: target-topic
        operation: get
      - name: sub
        component: pubsub-kafka
        topic: sample-topic
    outputs:
      - name: sample
        component: target-topic
        operation: create
        params: {key: value}
      - name: lost
        component: nowhere
    bindings:
      target-topic:
        type: bindings.kafka
        version: v1
        metadata:
          - name: brokers
            value: kafka:9092
    pubsub:
      pubsub-kafka:
        type: pubsub.kafka
        version: v1
        metadata: []
    scaleOptions:
      keda:
        scaledObject:
          pollingInterval: 15
          minReplicaCount: 0
          maxReplicaCount: 10
          cooldownPeriod: 60
          workloadType: Deployment
    triggers:
      - type: kafka
        targetKind: object
        metadata:
          topic: sample-topic
          lagThreshold: "20"
)");
  ValidationReport v1 = Validate(in);
  ASSERT_TRUE(v1.ok()) << testing::PrintToString(Strings(v1.errors));
  Conversion c = ConvertFunctionToV1beta2(in);
  EXPECT_TRUE(c.errors.empty());
  const json& s = c.document.object["spec"]["serving"];
  EXPECT_EQ(s["triggers"], json::parse(R"({"dapr": [
      {"name": "target-topic", "inputName": "greeting", "type": "bindings.kafka"},
      {"name": "pubsub-kafka", "inputName": "sub", "topic": "sample-topic", "type": "pubsub.kafka"}]})"));
  EXPECT_EQ(s["outputs"], json::parse(R"([{"dapr": {"name": "target-topic", "type": "bindings.kafka",
      "operation": "create", "outputName": "sample", "metadata": {"key": "value"}}}])"));
  EXPECT_EQ(s["scaleOptions"], json::parse(R"({"minReplicas": 0, "maxReplicas": 10, "keda": {
      "scaledObject": {"pollingInterval": 15, "cooldownPeriod": 60},
      "triggers": [{"type": "kafka", "metadata": {"topic": "sample-topic", "lagThreshold": "20"}}]}})"));
  EXPECT_EQ(Strings(c.notes),
            (std::vector<std::string>{
                "v1.yaml:13: spec.serving.inputs[0].operation: dropped by the conversion to v1beta2: Dapr triggers "
                "have no operation",
                "v1.yaml:7: spec.port: dropped by the conversion to v1beta2: async functions serve no HTTP",
                "v1.yaml:43: spec.serving.scaleOptions.keda.scaledObject.workloadType: dropped by the conversion to "
                "v1beta2: not in its schema",
                "v1.yaml:46: spec.serving.triggers[0].targetKind: dropped by the conversion to v1beta2: not in its "
                "schema",
                "v1.yaml:22: spec.serving.outputs[1]: dropped by the conversion to v1beta2 (as OpenFunction does): "
                "its component is in neither serving.bindings nor serving.pubsub",
            }));
  ValidationReport v2 = Validate(c.document);
  EXPECT_TRUE(v2.ok()) << testing::PrintToString(Strings(v2.errors));

  Resource r = LoadResource(in);
  ASSERT_TRUE(r.function.has_value()) << FormatDiagnostics(r.errors);
  EXPECT_FALSE(r.function->serving->http.has_value());
  ASSERT_EQ(r.function->serving->dapr_triggers.size(), 2u);
  EXPECT_EQ(r.function->serving->dapr_triggers[1].topic, "sample-topic");
}

TEST(Convert, V1beta1ErrorsUseV1beta1Paths) {
  Resource r = LoadResource(Parse(R"(apiVersion: core.openfunction.io/v1beta1
kind: Function
metadata:
  name: f
spec:
  image: x
  port: eighty
  serving:
    inputs: []
)"));
  EXPECT_EQ(Strings(r.errors), (std::vector<std::string>{"v1.yaml:7: spec.port: expected integer, got \"eighty\"",
                                                         "v1.yaml:8: spec.serving.runtime: required field missing"}));
  EXPECT_FALSE(r.function.has_value());
}

TEST(Convert, BadPluginAnnotation) {
  Resource r = LoadResource(Parse(R"(apiVersion: core.openfunction.io/v1beta1
kind: Function
metadata:
  name: f
  annotations:
    plugins: "pre: [a, b"
spec:
  image: x
  serving:
    runtime: knative
)"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(
      r.errors[0].ToString().starts_with("v1.yaml:6: metadata.annotations.plugins: cannot read this annotation"))
      << r.errors[0].ToString();
}

TEST(Convert, SemanticErrorsAfterConversion) {
  Resource r = LoadResource(Parse(R"(apiVersion: core.openfunction.io/v1beta1
kind: Function
metadata:
  name: f
spec:
  image: x
  port: 70000
  serving:
    runtime: knative
    scaleOptions:
      minReplicas: 3
      maxReplicas: 2
)"));
  EXPECT_EQ(Strings(r.errors),
            (std::vector<std::string>{"v1.yaml:7: spec.serving.triggers.http.port: must be between 1 and 65535",
                                      "v1.yaml:11: spec.serving.scaleOptions.minReplicas: cannot be greater than "
                                      "maxReplicas (2)"}));
}

// The v1beta1 object kubectl recorded in a sample's last-applied annotation
// converts to what OpenFunction stored as v1beta2 in the same file.
TEST(Convert, RealV1beta1Object) {
  auto path =
      specs::SpecsDir() / "openfunction-samples/functions/async/logs-handler-function/logs-handler-function.yaml";
  ASSERT_TRUE(std::filesystem::exists(path)) << specs::MissingSpecsMessage();
  auto docs = ParseManifests(specs::ReadFile(path), "logs-handler-function.yaml");
  ASSERT_TRUE(docs.ok());
  const Document& stored = docs->front();
  std::string recorded = stored.annotations.at("kubectl.kubernetes.io/last-applied-configuration");
  auto v1docs = ParseManifests(recorded, "last-applied.json");
  ASSERT_TRUE(v1docs.ok());
  Resource r = LoadResource(v1docs->front());
  ASSERT_TRUE(r.ok()) << FormatDiagnostics(r.errors);
  const json& got = r.document.object["spec"];
  const json& want = stored.object["spec"];
  for (const char* f : {"build", "image", "imageCredentials", "version"}) EXPECT_EQ(got[f], want[f]) << f;
  const json& gs = got["serving"];
  const json& ws = want["serving"];
  for (const char* f : {"bindings", "scaleOptions", "template"}) EXPECT_EQ(gs[f], ws[f]) << f;
  // The stored object predates OpenFunction setting outputName and inputName
  // from the v1beta1 names; the conversion code sets them now, and so does Ofn.
  json outputs = gs["outputs"];
  EXPECT_EQ(outputs[0]["dapr"]["outputName"], "notify");
  outputs[0]["dapr"].erase("outputName");
  EXPECT_EQ(outputs, ws["outputs"]);
  json dapr = gs["triggers"]["dapr"];
  EXPECT_EQ(dapr[0]["inputName"], "kafka");
  dapr[0].erase("inputName");
  EXPECT_EQ(dapr, ws["triggers"]["dapr"]);
  ASSERT_TRUE(r.function.has_value());
  EXPECT_EQ(r.function->serving->dapr_triggers[0].input_name, "kafka");
}

}  // namespace
}  // namespace ofn::api

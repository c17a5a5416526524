#include "api/validate.h"

#include <gtest/gtest.h>

#include "api/acted_on.h"

namespace ofn::api {
namespace {

Document Parse(std::string_view text, std::string_view source = "hello.yaml") {
  auto docs = ParseManifests(text, source);
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->empty()) return {};
  return std::move(docs->front());
}

std::vector<std::string> Strings(const std::vector<Diagnostic>& ds) {
  std::vector<std::string> v;
  for (const Diagnostic& d : ds) v.push_back(d.ToString());
  return v;
}

constexpr const char* kHello = R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: hello
  namespace: demo
spec:
  version: v1.0.0
  image: example.com/hello:latest
  serving:
    triggers:
      http:
        port: 8080
    scaleOptions:
      minReplicas: two
      maxReplicas: 5
    template:
      containers:
        - name: function
          imagePullPolicy: IfNotPresent
)";

TEST(Validate, TheErrorNamesFileLineAndPath) {
  ValidationReport r = Validate(Parse(kHello));
  EXPECT_TRUE(r.supported);
  EXPECT_EQ(
      Strings(r.errors),
      std::vector<std::string>{"hello.yaml:14: spec.serving.scaleOptions.minReplicas: expected integer, got \"two\""});
  EXPECT_EQ(r.errors[0].pointer, "/spec/serving/scaleOptions/minReplicas");
}

TEST(Validate, AllErrorsOfADocument) {
  ValidationReport r = Validate(Parse(R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: Hello_World
  namespace: Demo
  labels:
    app: "bad value!"
    "-bad-key": x
  annotations:
    note: 5
spec:
  version: 2
  serving:
    params:
      DEBUG: true
    triggers:
      http:
        port: "8080"
        route:
          gatewayRef:
            name: x
          rules:
            - matches:
                - path:
                    type: Prefix
    hooks:
      pre: plugin-a
    template:
      containers:
        - name: function
          resources:
            limits:
              cpu: lots
)"));
  EXPECT_EQ(Strings(r.errors),
            (std::vector<std::string>{
                "hello.yaml:4: metadata.name: invalid name \"Hello_World\": must be a DNS label: at "
                "most 63 of a-z, 0-9 and '-', starting and ending with a letter or digit (it "
                "becomes part of a host name)",
                "hello.yaml:5: metadata.namespace: invalid namespace \"Demo\": must be a DNS label "
                "(at most 63 of a-z, 0-9 and '-')",
                "hello.yaml:7: metadata.labels[app]: invalid label value \"bad value!\": at most 63 "
                "of letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
                "hello.yaml:8: metadata.labels[-bad-key]: invalid key: must be at most 63 "
                "characters of letters, digits, '-', '_' or '.', starting and ending with a letter "
                "or digit (with an optional DNS prefix and '/')",
                "hello.yaml:10: metadata.annotations[note]: expected string, got 5",
                "hello.yaml:11: spec.image: required field missing",
                "hello.yaml:12: spec.version: expected string, got 2",
                "hello.yaml:15: spec.serving.params[DEBUG]: expected string, got true",
                "hello.yaml:18: spec.serving.triggers.http.port: expected integer, got \"8080\"",
                "hello.yaml:20: spec.serving.triggers.http.route.gatewayRef.namespace: required "
                "field missing",
                "hello.yaml:25: spec.serving.triggers.http.route.rules[0].matches[0].path.type: "
                "unsupported value \"Prefix\": supported values: \"Exact\", \"PathPrefix\", "
                "\"RegularExpression\"",
                "hello.yaml:27: spec.serving.hooks.pre: expected array, got \"plugin-a\"",
                "hello.yaml:33: spec.serving.template.containers[0].resources.limits[cpu]: invalid "
                "value \"lots\": should match "
                "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(("
                "[0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'",
            }));
}

TEST(Validate, ApiVersionAndKind) {
  auto errors = [](std::string_view text) { return Strings(Validate(Parse(text, "k.yaml")).errors); };
  EXPECT_EQ(errors("metadata:\n  name: x\n"), (std::vector<std::string>{"k.yaml:1: apiVersion: required field missing",
                                                                        "k.yaml:1: kind: required field missing"}));
  EXPECT_EQ(errors("apiVersion: 5\nkind: Function\n"),
            (std::vector<std::string>{"k.yaml:1: apiVersion: expected a non-empty string, got 5"}));
  EXPECT_EQ(errors("apiVersion: core.openfunction.io/v1alpha2\nkind: Function\nmetadata:\n  name: x\n"),
            (std::vector<std::string>{"k.yaml:1: apiVersion: version v1alpha2 of Function is not supported (use "
                                      "core.openfunction.io/v1beta1, core.openfunction.io/v1beta2)"}));
  EXPECT_EQ(errors("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nspec:\n  image: x\n"),
            (std::vector<std::string>{"k.yaml:1: metadata.name: required field missing"}));
  EXPECT_EQ(errors("apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata: {}\nspec:\n  image: x\n"),
            (std::vector<std::string>{"k.yaml:3: metadata.name: required field missing"}));
}

TEST(Validate, KindsOfferedElsewhereAreIgnoredNotErrors) {
  ValidationReport r =
      Validate(Parse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: {}\n", "d.yaml"));
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.supported);
  EXPECT_EQ(Strings(r.ignored), std::vector<std::string>{
                                    "d.yaml:1: apps/v1 Deployment is not a kind Ofn handles; the document is ignored"});
}

TEST(Validate, IgnoredFieldsAreListedOnce) {
  ValidationReport r = Validate(Parse(R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: hello
  uid: 1234
  surprise: field
spec:
  image: x
  imageCredentials:
    name: push-secret
  typo: {a: 1, b: {c: 2}}
  serving:
    runtime: knative
    triggers:
      http:
        port: 8080
        engine: keda
    template:
      containers:
        - name: function
          imagePullPolicy: Always
          command: [./hello]
          env:
            - name: A
              valueFrom:
                secretKeyRef: {name: s, key: k}
        - name: sidecar
          image: busybox
status:
  serving:
    state: Running
)"));
  EXPECT_TRUE(r.ok()) << testing::PrintToString(Strings(r.errors));
  EXPECT_EQ(
      Strings(r.ignored),
      (std::vector<std::string>{
          "hello.yaml:5: metadata.uid: kept, not acted on yet",
          "hello.yaml:6: metadata.surprise: unknown field, ignored (not in the schema; Kubernetes would prune it)",
          "hello.yaml:11: spec.typo: unknown field, ignored (not in the schema; Kubernetes would prune it)",
          "hello.yaml:13: spec.serving.runtime: unknown field, ignored (not in the schema; Kubernetes would "
          "prune it)",
          "hello.yaml:17: spec.serving.triggers.http.engine: kept, not acted on yet",
          "hello.yaml:21: spec.serving.template.containers[0].imagePullPolicy: kept, not acted on yet",
          "hello.yaml:25: spec.serving.template.containers[0].env[0].valueFrom: kept, not acted on yet",
          "hello.yaml:27: spec.serving.template.containers[1]: kept, not acted on yet",
          "hello.yaml:29: status: ignored: status is written by Ofn",
      }));
}

TEST(Validate, StatusIsNeitherValidatedNorRead) {
  ValidationReport r = Validate(Parse(R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: {name: f}
spec: {image: x}
status: {serving: {state: 5}, bogus: true}
)"));
  EXPECT_TRUE(r.ok()) << testing::PrintToString(Strings(r.errors));
}

TEST(Validate, OtherKinds) {
  ValidationReport r = Validate(Parse(R"(apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cron_input
spec:
  type: bindings.cron
  version: v1
  metadata:
    - name: schedule
      value: "@every 2s"
    - name: number
      value: 5
    - name: nested
      value: {a: [1]}
  initTimeout: 5s
)",
                                      "c.yaml"));
  EXPECT_TRUE(r.ok()) << testing::PrintToString(Strings(r.errors));
  // A Component's type, version and metadata make the backend; initTimeout is not acted on.
  EXPECT_EQ(Strings(r.ignored), std::vector<std::string>{"c.yaml:15: spec.initTimeout: kept, not acted on yet"});

  r = Validate(
      Parse("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: c\nspec:\n  type: 5\n", "c.yaml"));
  EXPECT_EQ(Strings(r.errors), (std::vector<std::string>{"c.yaml:5: spec.metadata: required field missing",
                                                         "c.yaml:5: spec.version: required field missing",
                                                         "c.yaml:6: spec.type: expected string, got 5"}));

  r = Validate(Parse(R"(apiVersion: events.openfunction.io/v1alpha1
kind: ClusterEventBus
metadata:
  name: default
  namespace: ignored
spec:
  natsStreaming:
    natsURL: "nats://nats.default:4222"
    natsStreamingClusterID: "stan"
    subscriptionType: queue
    durableSubscriptionName: "ImDurable"
)",
                     "bus.yaml"));
  EXPECT_TRUE(r.ok()) << testing::PrintToString(Strings(r.errors));
  // natsStreaming is carried by JetStream at natsURL: what only NATS Streaming had is said to be unused.
  EXPECT_EQ(Strings(r.ignored),
            (std::vector<std::string>{
                "bus.yaml:5: metadata.namespace: ignored: ClusterEventBus is cluster-scoped",
                "bus.yaml:9: spec.natsStreaming.natsStreamingClusterID: kept, not acted on yet",
                "bus.yaml:10: spec.natsStreaming.subscriptionType: kept, not acted on yet",
                "bus.yaml:11: spec.natsStreaming.durableSubscriptionName: kept, not acted on yet"}));
}

TEST(Validate, HugeDocument) {
  std::string text =
      "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: big\nspec:\n"
      "  image: x\n  serving:\n    params:\n";
  for (int i = 0; i < 20000; ++i) text += "      P" + std::to_string(i) + ": \"" + std::to_string(i) + "\"\n";
  text += "      BAD: 5\n";
  ValidationReport r = Validate(Parse(text, "huge.yaml"));
  EXPECT_EQ(Strings(r.errors),
            std::vector<std::string>{"huge.yaml:20009: spec.serving.params[BAD]: expected string, got 5"});
}

TEST(Validate, DeepNestingInPreservedFields) {
  // scaleOptions.keda.scaledObject.advanced... is typed; a Component's
  // metadata value is free-form: deep values there are kept, within limits.
  std::string value = "{}";
  for (int i = 0; i < 90; ++i) value = "{a: " + value + "}";
  ValidationReport r =
      Validate(Parse("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n"
                     "  type: t\n  version: v1\n  metadata:\n  - name: deep\n    value: " +
                     value + "\n"));
  EXPECT_TRUE(r.ok()) << testing::PrintToString(Strings(r.errors));
}

TEST(Validate, Names) {
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("hello-world-1"));
  EXPECT_FALSE(IsDnsLabel("-a"));
  EXPECT_FALSE(IsDnsLabel("a."));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_TRUE(IsDnsSubdomain("a.b-c.d"));
  EXPECT_FALSE(IsDnsSubdomain("a..b"));
  EXPECT_FALSE(IsDnsSubdomain("A.b"));
  EXPECT_EQ(CheckObjectName("core.openfunction.io", "Function", "a.b").empty(), false);
  EXPECT_EQ(CheckObjectName("networking.openfunction.io", "Gateway", "a.b"), "");
  EXPECT_EQ(CheckObjectName("dapr.io", "Component", "cron_input"), "");
  EXPECT_NE(CheckObjectName("dapr.io", "Component", "a/b"), "");
}

TEST(ActedOn, Patterns) {
  Document d = Parse(R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: {name: f}
spec:
  image: x
  serving:
    scaleOptions: {minReplicas: 1, knative: {a: b}}
    template:
      containers:
        - name: sidecar
          command: [x]
        - name: function
          command: [y]
          env: [{name: A, value: b}]
)");
  EXPECT_TRUE(IsActedOn(d, "/spec/image"));
  EXPECT_TRUE(IsActedOn(d, "/spec/serving/scaleOptions/knative/a"));
  EXPECT_TRUE(IsActedOn(d, "/spec/serving/template/containers/1/command"));
  EXPECT_TRUE(IsActedOn(d, "/spec/serving/template/containers/1/env/0/value"));
  EXPECT_FALSE(IsActedOn(d, "/spec/serving/template/containers/0/command")) << "only the container named function";
  EXPECT_FALSE(IsActedOn(d, "/spec/serving")) << "only parts of it";
  EXPECT_FALSE(IsActedOn(d, "/spec/nothing"));
  EXPECT_FALSE(ActedOnPatterns("core.openfunction.io", "Function").empty());
}

}  // namespace
}  // namespace ofn::api

#include "api/function.h"

#include <gtest/gtest.h>

#include "api/load.h"

namespace ofn::api {
namespace {

Resource Load(std::string_view text) {
  auto docs = ParseManifests(text, "fn.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->empty()) return {};
  return LoadResource(std::move(docs->front()));
}

std::vector<std::string> Errors(const Resource& r) {
  std::vector<std::string> v;
  for (const Diagnostic& d : r.errors) v.push_back(d.ToString());
  return v;
}

constexpr const char* kHeader = R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: hello
)";

TEST(Function, Defaults) {
  Resource r = Load(std::string(kHeader) + "spec:\n  image: example.com/hello\n  serving: {}\n");
  ASSERT_TRUE(r.function.has_value()) << FormatDiagnostics(r.errors);
  const Function& f = *r.function;
  EXPECT_EQ(f.version, "latest");
  EXPECT_EQ(f.workload_runtime, "OCIContainer");
  EXPECT_TRUE(f.build.is_null());
  ASSERT_TRUE(f.serving->http.has_value());
  EXPECT_EQ(f.serving->http->port, 8080);
  EXPECT_EQ(f.serving->http->route.gateway_ref.name, "openfunction");
  EXPECT_TRUE(f.serving->http->route.rules.empty());
  EXPECT_FALSE(f.serving->container.has_value());
  EXPECT_FALSE(f.serving->timeout.has_value());
  EXPECT_FALSE(f.serving->scale.min_replicas.has_value());
}

TEST(Function, ContainerAndResources) {
  Resource r = Load(std::string(kHeader) + R"yaml(spec:
  image: example.com/hello
  serving:
    timeout: 30s
    triggers:
      http:
        port: 9000
        route:
          rules:
            - matches:
                - headers: [{name: x-version, value: v2}]
                  queryParams: [{type: RegularExpression, name: q, value: "a.*"}]
                  method: POST
            - {}
    template:
      containers:
        - name: sidecar
          image: busybox
        - name: function
          command: [python3, -m, http.server]
          args: ["$(PORT)"]
          workingDir: /srv
          env:
            - {name: A, value: "1"}
            - {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}
            - {name: EMPTY}
          resources:
            limits: {cpu: 500m, memory: 128Mi, nvidia.com/gpu: 1}
            requests: {cpu: "0.25", memory: 64M}
)yaml");
  ASSERT_TRUE(r.function.has_value()) << FormatDiagnostics(r.errors);
  const Serving& s = *r.function->serving;
  EXPECT_EQ(s.timeout, std::chrono::seconds(30));
  EXPECT_EQ(s.http->port, 9000);
  ASSERT_EQ(s.http->route.rules.size(), 2u);
  const HttpRouteMatch& m = s.http->route.rules[0].matches[0];
  EXPECT_EQ(m.path.type, "PathPrefix");
  EXPECT_EQ(m.path.value, "/");
  EXPECT_EQ(m.headers[0].name, "x-version");
  EXPECT_EQ(m.headers[0].type, "Exact");
  EXPECT_EQ(m.query_params[0].type, "RegularExpression");
  EXPECT_EQ(m.method, "POST");
  ASSERT_EQ(s.http->route.rules[1].matches.size(), 1u) << "a rule without matches matches every path";
  ASSERT_TRUE(s.container.has_value());
  const FunctionContainer& c = *s.container;
  EXPECT_EQ(c.command, (std::vector<std::string>{"python3", "-m", "http.server"}));
  EXPECT_EQ(c.args, std::vector<std::string>{"$(PORT)"});
  EXPECT_EQ(c.working_dir, "/srv");
  ASSERT_EQ(c.env.size(), 2u) << "valueFrom is not acted on";
  EXPECT_EQ(c.env[0].name, "A");
  EXPECT_EQ(c.env[1].name, "EMPTY");
  EXPECT_EQ(c.env[1].value, "");
  EXPECT_EQ(c.resources.limits.cpu_millis, 500);
  EXPECT_EQ(c.resources.limits.memory_bytes, 134217728);
  EXPECT_EQ(c.resources.limits.other.at("nvidia.com/gpu"), "1");
  EXPECT_EQ(c.resources.requests.cpu_millis, 250);
  EXPECT_EQ(c.resources.requests.memory_bytes, 64000000);
}

TEST(Function, SemanticErrors) {
  Resource r = Load(std::string(kHeader) + R"(spec:
  image: ""
  build:
    srcRepo: {revision: main}
    timeout: forever
    failedBuildsHistoryLimit: -1
    shipwright:
      strategy: {name: x, kind: Strategy}
  serving:
    timeout: 0s
    params:
      "A=B": x
    hooks:
      policy: Replace
    scaleOptions:
      minReplicas: 20
      keda:
        scaledObject: {pollingInterval: -5}
        scaledJob: {}
    triggers:
      http:
        port: 0
        engine: nginx
        route:
          rules:
            - matches:
                - path: {type: Exact, value: relative}
    template:
      containers:
        - name: function
          env: [{name: "", value: x}]
          resources:
            limits: {cpu: 1, memory: 1Gi}
            requests: {cpu: 2, memory: 2Gi}
)");
  EXPECT_FALSE(r.function.has_value());
  EXPECT_EQ(Errors(r), (std::vector<std::string>{
                           "fn.yaml:6: spec.image: must be specified",
                           "fn.yaml:8: spec.build.srcRepo: must specify one of: url or bundleContainer",
                           "fn.yaml:9: spec.build.timeout: invalid duration \"forever\": expected a number",
                           "fn.yaml:10: spec.build.failedBuildsHistoryLimit: cannot be less than 0",
                           "fn.yaml:12: spec.build.shipwright.strategy.kind: unsupported value \"Strategy\": "
                           "supported values: \"BuildStrategy\", \"ClusterBuildStrategy\"",
                           "fn.yaml:14: spec.serving.timeout: must be greater than 0",
                           "fn.yaml:16: spec.serving.params[A=B]: invalid environment variable name \"A=B\": must be "
                           "non-empty and without '='",
                           "fn.yaml:18: spec.serving.hooks.policy: unsupported value \"Replace\": supported values: "
                           "\"Append\", \"Override\"",
                           "fn.yaml:20: spec.serving.scaleOptions.minReplicas: cannot be greater than maxReplicas "
                           "(10, the default)",
                           "fn.yaml:21: spec.serving.scaleOptions.keda: exactly one of scaledObject, scaledJob and "
                           "httpScaledObject must be set",
                           "fn.yaml:22: spec.serving.scaleOptions.keda.scaledObject.pollingInterval: cannot be less "
                           "than 0",
                           "fn.yaml:27: spec.serving.triggers.http.engine: unknown engine \"nginx\": neither knative "
                           "nor keda",
                           "fn.yaml:31: spec.serving.triggers.http.route.rules[0].matches[0].path.value: must be an "
                           "absolute path (start with '/')",
                           "fn.yaml:35: spec.serving.template.containers[0].env[0].name: invalid environment variable "
                           "name \"\": must be non-empty and without '='",
                           "fn.yaml:38: spec.serving.template.containers[0].resources.requests[cpu]: must be less "
                           "than or equal to the cpu limit",
                           "fn.yaml:38: spec.serving.template.containers[0].resources.requests[memory]: must be less "
                           "than or equal to the memory limit",
                       }));
}

TEST(Function, BadQuantitiesAndPorts) {
  Resource r = Load(std::string(kHeader) + R"(spec:
  image: x
  serving:
    triggers:
      http:
        port: 65536
    template:
      containers:
        - name: function
          resources:
            limits: {cpu: "-1", memory: 99999999999999999999Gi}
            requests: {cpu: 1e30}
)");
  EXPECT_EQ(Errors(r), (std::vector<std::string>{
                           "fn.yaml:10: spec.serving.triggers.http.port: must be between 1 and 65535",
                           "fn.yaml:15: spec.serving.template.containers[0].resources.limits[cpu]: must be greater "
                           "than or equal to 0",
                           "fn.yaml:15: spec.serving.template.containers[0].resources.limits[memory]: invalid "
                           "quantity \"99999999999999999999Gi\": more than 18 significant digits",
                           "fn.yaml:16: spec.serving.template.containers[0].resources.requests[cpu]: quantity "
                           "\"1e+30\" is too large",
                       }));
}

TEST(Function, NeedsBuildOrServing) {
  Resource r = Load(std::string(kHeader) + "spec:\n  image: x\n");
  EXPECT_EQ(Errors(r), std::vector<std::string>{"fn.yaml:5: spec.serving: must be specified when spec.build is not"});
}

TEST(Function, DecodeIsSafeOnUnvalidatedInput) {
  // The typed view checks every type itself: no crash, only errors.
  for (
      const char* spec :
      {R"({"spec": 5})", R"({"spec": {"serving": []}})",
       R"({"spec": {"serving": {"triggers": {"http": {"port": "x", "route": {"rules": [1, {"matches": "x"}]}}, "dapr": {}}}}})",
       R"({"spec": {"serving": {"template": {"containers": [{"name": "function", "env": [1, {"name": 2}], "resources": {"limits": []}}]}}}})",
       R"({"spec": {"serving": {"scaleOptions": {"minReplicas": 1e300, "keda": []}, "outputs": [{"dapr": 1}], "hooks": {"pre": [1]}}}})",
       R"({"spec": {"build": {"srcRepo": []}, "image": []}})"}) {
    Document doc = DocumentFromJson(nlohmann::json::parse(spec), "x.json");
    std::vector<Diagnostic> errors;
    DecodeFunction(doc, &errors);
    EXPECT_FALSE(errors.empty()) << spec;
  }
}

}  // namespace
}  // namespace ofn::api

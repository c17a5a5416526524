#include "api/gateway.h"

#include <gtest/gtest.h>

#include "api/load.h"

namespace ofn::api {
namespace {

Resource Load(std::string_view text) {
  auto docs = ParseManifests(text, "gw.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->empty()) return {};
  return LoadResource(std::move(docs->front()));
}

TEST(Gateway, Defaults) {
  Resource r = Load(R"(apiVersion: networking.openfunction.io/v1alpha1
kind: Gateway
metadata:
  name: local
spec:
  domain: example.com
  gatewaySpec:
    listeners:
      - {name: http, port: 80, protocol: HTTP}
)");
  ASSERT_TRUE(r.gateway.has_value()) << FormatDiagnostics(r.errors);
  EXPECT_EQ(r.gateway->ns, "default");
  EXPECT_EQ(r.gateway->host_template, "{{.Name}}.{{.Namespace}}.{{.Domain}}");
  EXPECT_EQ(r.gateway->path_template, "{{.Namespace}}/{{.Name}}");
  EXPECT_EQ(r.gateway->cluster_domain, "cluster.local");
  EXPECT_TRUE(r.gateway->gateway_ref.is_null());
}

TEST(Gateway, Errors) {
  Resource r = Load(R"(apiVersion: networking.openfunction.io/v1alpha1
kind: Gateway
metadata:
  name: local
spec:
  domain: Not A Domain
  hostTemplate: "{{.Name}}.{{.Cluster}}"
  gatewaySpec:
    listeners:
      - {name: http, port: 80, protocol: HTTP}
      - {name: http, port: 0, protocol: HTTP}
)");
  std::vector<std::string> got;
  for (const Diagnostic& d : r.errors) got.push_back(d.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "gw.yaml:11: spec.gatewaySpec.listeners[1].port: must be greater than or equal to 1",
                     "gw.yaml:11: spec.gatewaySpec.listeners[1]: duplicate entry with name \"http\"",
                 }))
      << "schema errors first; the semantic checks run once those are fixed";
  r = Load(R"(apiVersion: networking.openfunction.io/v1alpha1
kind: Gateway
metadata:
  name: local
spec:
  domain: Not A Domain
  hostTemplate: "{{.Name}}.{{.Cluster}}"
  gatewaySpec:
    listeners: [{name: http, port: 80, protocol: HTTP}]
)");
  got.clear();
  for (const Diagnostic& d : r.errors) got.push_back(d.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "gw.yaml:6: spec.domain: invalid domain \"Not A Domain\": must be a DNS name like example.com",
                     "gw.yaml:7: spec.hostTemplate: unsupported template field {{.Cluster}}: use {{.Name}}, "
                     "{{.Namespace}} or {{.Domain}}",
                 }));
}

TEST(Gateway, Templates) {
  EXPECT_EQ(*ExpandGatewayTemplate("{{.Name}}.{{.Namespace}}.{{.Domain}}", "hello", "default", "ofn.io"),
            "hello.default.ofn.io");
  EXPECT_EQ(*ExpandGatewayTemplate("{{ .Namespace }}/{{ .Name }}", "hello", "default", "ofn.io"), "default/hello");
  EXPECT_EQ(*ExpandGatewayTemplate("static", "a", "b", "c"), "static");
  EXPECT_FALSE(ExpandGatewayTemplate("{{.Name", "a", "b", "c").ok());
  EXPECT_FALSE(ExpandGatewayTemplate("{{.Labels}}", "a", "b", "c").ok());
}

}  // namespace
}  // namespace ofn::api

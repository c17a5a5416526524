#include "cli/table.h"

#include <gtest/gtest.h>

#include "cli/printers.h"

namespace ofn::cli {
namespace {

using nlohmann::json;

TEST(Table, KubectlLayout) {
  Table t({"NAME", "READY", "AGE"});
  t.AddRow({"hello", "1", "5s"});
  t.AddRow({"a-much-longer-name", "0", "3m"});
  // Widest cell + 3 spaces, at least 6; the last column unpadded.
  EXPECT_EQ(t.Render(),
            "NAME                 READY   AGE\n"
            "hello                1       5s\n"
            "a-much-longer-name   0       3m\n");
}

TEST(Table, EmptyCellsAndShortRows) {
  Table t({"A", "B", "C"});
  t.AddRow({"x"});         // missing cells print empty
  t.AddRow({"y", "", ""});  // no trailing spaces from an empty last column
  EXPECT_EQ(t.Render(),
            "A     B     C\n"
            "x\n"
            "y\n");
}

json Function(const std::string& ns, const std::string& name) {
  return json::parse(R"({"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function",
    "metadata": {"name": ")" + name + R"(", "namespace": ")" + ns + R"(", "creationTimestamp": "2026-11-26T14:00:00Z"},
    "status": {"serving": {"state": "Running", "resourceRef": "default-hello", "replicas": 2, "readyReplicas": 1},
               "build": {"state": "Skipped"},
               "addresses": [{"type": "External", "value": "http://hello.default.ofn.local:8080/"},
                             {"type": "Internal", "value": "http://127.0.0.1:8080/default/hello"}]}})");
}

SysTime Created() { return *ParseTimestamp("2026-11-26T14:00:00Z"); }

TEST(RenderTable, FunctionColumns) {
  std::string out = RenderTable({Function("default", "hello")}, {}, Created() + std::chrono::seconds(5));
  EXPECT_EQ(out,
            "NAME    BUILDSTATE   SERVINGSTATE   BUILDER   SERVING         URL                                   AGE\n"
            "hello   Skipped      Running                  default-hello   http://127.0.0.1:8080/default/hello   5s\n");
}

TEST(RenderTable, FunctionWideAllNamespacesAndPrefix) {
  TableOptions o;
  o.all_namespaces = true;
  o.wide = true;
  o.kind_prefix = true;
  std::string out = RenderTable({Function("prod", "hello")}, o, Created() + std::chrono::hours(96));
  EXPECT_NE(out.find("NAMESPACE   NAME"), std::string::npos) << out;
  EXPECT_NE(out.find("   AGE   REPLICAS   READY\n"), std::string::npos) << out;
  EXPECT_NE(out.find("prod        function.core.openfunction.io/hello"), std::string::npos) << out;
  EXPECT_NE(out.find("4d    2          1\n"), std::string::npos) << out;
}

TEST(RenderTable, GatewayColumns) {
  json gw = json::parse(R"({"apiVersion": "networking.openfunction.io/v1alpha1", "kind": "Gateway",
    "metadata": {"name": "openfunction", "namespace": "default", "creationTimestamp": "2026-11-26T14:00:00Z"},
    "spec": {"domain": "ofn.local", "hostTemplate": "{{.Name}}.{{.Namespace}}.{{.Domain}}",
             "pathTemplate": "{{.Namespace}}/{{.Name}}"}})");
  std::string out = RenderTable({gw}, {}, Created() + std::chrono::minutes(3));
  EXPECT_EQ(out,
            "NAME           DOMAIN      HOSTTEMPLATE                           PATHTEMPLATE               AGE\n"
            "openfunction   ofn.local   {{.Name}}.{{.Namespace}}.{{.Domain}}   {{.Namespace}}/{{.Name}}   3m\n");
}

TEST(RenderTable, OtherKindsNameAndAge) {
  json c = {{"apiVersion", "dapr.io/v1alpha1"}, {"kind", "Component"}, {"metadata", {{"name", "kafka"}}}};
  EXPECT_EQ(RenderTable({c}, {}, Created()), "NAME    AGE\nkafka   <unknown>\n");
}

TEST(PreferredAddress, InternalElseFirst) {
  EXPECT_EQ(PreferredAddress(Function("default", "hello")), "http://127.0.0.1:8080/default/hello");
  json only_external = {{"status", {{"addresses", {{{"type", "External"}, {"value", "http://x/"}}}}}}};
  EXPECT_EQ(PreferredAddress(only_external), "http://x/");
  EXPECT_EQ(PreferredAddress(json::object()), "");
}

}  // namespace
}  // namespace ofn::cli

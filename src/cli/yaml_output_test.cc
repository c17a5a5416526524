#include "cli/yaml_output.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace ofn::cli {
namespace {

using nlohmann::json;

// YAML back to JSON with the core schema's rules for plain scalars; quoted
// scalars (tag "!") are always strings.
json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(ToJson(e));
      return a;
    }
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~") return nullptr;
      json num = json::parse(s, nullptr, false);
      if (!num.is_discarded() && num.is_number()) return num;
      return s;
    }
    default: return nullptr;
  }
}

json RoundTrip(const json& j) { return ToJson(YAML::Load(ToYaml(j))); }

TEST(ToYaml, KubectlShape) {
  json obj = json::parse(R"({"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function",
    "metadata": {"name": "hello", "labels": {}},
    "spec": {"serving": {"triggers": {"http": {"port": 8080}},
                         "template": {"containers": [{"name": "function", "args": ["-v", "2"]}]}}}})");
  EXPECT_EQ(ToYaml(obj),
            "apiVersion: core.openfunction.io/v1beta2\n"
            "kind: Function\n"
            "metadata:\n"
            "  labels: {}\n"
            "  name: hello\n"
            "spec:\n"
            "  serving:\n"
            "    template:\n"
            "      containers:\n"
            "      - args:\n"
            "        - \"-v\"\n"
            "        - \"2\"\n"
            "        name: function\n"
            "    triggers:\n"
            "      http:\n"
            "        port: 8080\n");
}

TEST(ToYaml, QuotesWhatWouldReadBackAsSomethingElse) {
  for (const char* s : {"", "true", "False", "yes", "no", "on", "off", "y", "null", "~", "1", "1.5", "-2", "1e3",
                        "0x1F", "0o17", "0b101", "+1", "1E-3", ".5", "1.2.3", "1_000", "12:30", ".inf", ".nan", "2026-11-26T14:00:00Z", "a: b", "a #b", " lead",
                        "trail ", "-x", "*ref", "&anchor", "!tag", "{a}", "[1]", "a,b", "@x", "`x", "%x", "'q'",
                        "\"dq\"", "{{.Name}}x", "tab\there", "bell\x07", "key:"}) {
    EXPECT_FALSE(IsPlainSafe(s)) << s;
    json j = {{"k", s}};
    EXPECT_EQ(RoundTrip(j), j) << ToYaml(j);
  }
  for (const char* s : {"hello", "http://127.0.0.1:8080/default/hello", "Running", "a b",
                        "ünïcode", "x-y_z", "3m", "v1beta2", "72b8f1cb-c662-4b1f-aeab-d0d9bd311a6b", "deadbeef", "1e",
                        "e3", "0xZZ", "1.2.3x"}) {
    EXPECT_TRUE(IsPlainSafe(s)) << s;
    json j = {{"k", s}};
    EXPECT_EQ(RoundTrip(j), j) << ToYaml(j);
  }
  EXPECT_TRUE(IsPlainSafe("Running"));
  EXPECT_TRUE(IsPlainSafe("http://127.0.0.1:8080/default/hello"));
}

TEST(ToYaml, MultiLineTextAsLiteralBlock) {
  json j = {{"script", "echo hi\nexit 0\n"}, {"msg", "a\nb"}};
  EXPECT_EQ(ToYaml(j), "msg: |-\n  a\n  b\nscript: |\n  echo hi\n  exit 0\n");
  EXPECT_EQ(RoundTrip(j), j);
  // Shapes a literal block cannot carry exactly fall back to double quotes.
  json hard = {{"a", "x\n\n"}, {"b", " lead\nx"}, {"c", "x \ny"}, {"d", "\nx"}, {"e", "a\n\nb"}};
  EXPECT_EQ(RoundTrip(hard), hard) << ToYaml(hard);
}

TEST(ToYaml, RoundTripsAKubectlList) {
  json list = json::parse(R"({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
    "items": [
      {"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function",
       "metadata": {"name": "hello", "namespace": "default", "generation": 1, "resourceVersion": "7",
                    "creationTimestamp": "2026-11-26T14:00:00Z", "annotations": {"a/b": "x: y"}},
       "spec": {"version": "v2.0.0", "image": "openfunction/sample-go-func:v1",
                "serving": {"scaleOptions": {"minReplicas": 0, "maxReplicas": 10, "knative": {
                              "autoscaling.knative.dev/target": "10"}},
                            "params": {"DEBUG": "true", "EMPTY": ""},
                            "triggers": {"dapr": [{"name": "kafka", "type": "bindings.kafka"}]},
                            "outputs": [], "weird": [[1, 2], [], {}, null, 2.5, -1, true]}},
       "status": {"serving": {"state": "Running", "replicas": 0},
                  "addresses": [{"type": "Internal", "value": "http://127.0.0.1:8080/default/hello"}]}}]})");
  EXPECT_EQ(RoundTrip(list), list) << ToYaml(list);
  EXPECT_EQ(RoundTrip(json::array({1, "two", nullptr})), json::array({1, "two", nullptr}));
  EXPECT_EQ(ToYaml(json("x")), "x\n");
}

}  // namespace
}  // namespace ofn::cli

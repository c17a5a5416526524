#include "ofn/function_context.h"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ofn {
namespace {

FunctionContext MustParse(std::string_view json) {
  auto fc = FunctionContext::Parse(json);
  EXPECT_TRUE(fc.ok()) << fc.status().ToString();
  return fc.ok() ? std::move(fc).value() : FunctionContext{};
}

// What OpenFunction's controller (GenOpenFunctionContextV1beta1, marshalled by
// jsoniter in struct field order) writes for
// specs/openfunction-config-samples/function-with-plugins-serving-only.yaml:
// a dapr trigger makes it Async; the cron binding is named after the Dapr
// component the controller created; the plugins come from the `plugins`
// annotation and the tracing config from `plugins.tracing`.
constexpr char kPluginsSample[] = R"json({"name":"bindings-plugins","version":"v1.0.0","inputs":{"input":{"uri":"cron","componentName":"serving-4x5wh-bindings-cron-jt7mb","componentType":"bindings.cron"}},"runtime":"Async","port":"8080","prePlugins":["plugin-custom","plugin-example"],"postPlugins":["plugin-custom","plugin-example"],"pluginsTracing":{"enabled":false,"provider":{"name":"skywalking","oapServer":"localhost:xxx"},"tags":{"func":"function-with-tracing","layer":"faas","tag1":"value1","tag2":"value2"},"baggage":{"key":"sw8-correlation","value":"base64(string key):base64(string value),base64(string key2):base64(string value2)"}}})json";

TEST(FunctionContextTest, PluginsSampleFromOpenFunction) {
  FunctionContext fc = MustParse(kPluginsSample);
  EXPECT_EQ(fc.name, "bindings-plugins");
  EXPECT_EQ(fc.version, "v1.0.0");
  EXPECT_EQ(fc.runtime, "Async");
  EXPECT_EQ(fc.port, "8080");
  ASSERT_EQ(fc.inputs.size(), 1u);
  const Component& in = fc.inputs.at("input");
  EXPECT_EQ(in.uri, "cron");
  EXPECT_EQ(in.component_name, "serving-4x5wh-bindings-cron-jt7mb");
  EXPECT_EQ(in.component_type, "bindings.cron");
  EXPECT_EQ(in.building_block(), "bindings");
  EXPECT_TRUE(in.metadata.empty());
  EXPECT_TRUE(fc.outputs.empty());
  EXPECT_EQ(fc.pre_plugins, (std::vector<std::string>{"plugin-custom", "plugin-example"}));
  EXPECT_EQ(fc.post_plugins, (std::vector<std::string>{"plugin-custom", "plugin-example"}));
  EXPECT_EQ(fc.http_pattern, "");
  EXPECT_EQ(fc.raw_states, "");
}

// specs/openfunction-samples/functions/async/bindings/kafka-input/kafka-input.yaml:
// a Kafka input binding; for bindings the controller sets uri to the component's short name.
TEST(FunctionContextTest, AsyncKafkaInputSample) {
  FunctionContext fc = MustParse(
      R"({"name":"kafka-input","version":"v1.0.0","inputs":{"target-topic":{"uri":"target-topic",)"
      R"("componentName":"serving-9qk2d-bindings-target-topic-7xnpl","componentType":"bindings.kafka"}},)"
      R"("runtime":"Async","port":"8080"})");
  EXPECT_EQ(fc.name, "kafka-input");
  EXPECT_EQ(fc.runtime, "Async");
  ASSERT_EQ(fc.inputs.count("target-topic"), 1u);
  EXPECT_EQ(fc.inputs.at("target-topic").component_type, "bindings.kafka");
  EXPECT_EQ(fc.inputs.at("target-topic").uri, "target-topic");
  EXPECT_TRUE(fc.outputs.empty());
}

// specs/openfunction-config-samples/function-bindings-sample-serving-only.yaml,
// function "bindings": cron in, Kafka out with operation "create".
TEST(FunctionContextTest, AsyncCronToKafkaOutputSample) {
  FunctionContext fc = MustParse(
      R"({"name":"bindings","version":"v1.0.0",)"
      R"("inputs":{"cron":{"uri":"cron","componentName":"serving-b2v7c-bindings-cron-kz5bd","componentType":"bindings.cron"}},)"
      R"("outputs":{"sample":{"uri":"kafka-server","componentName":"serving-b2v7c-bindings-kafka-server-wq8cx",)"
      R"("componentType":"bindings.kafka","operation":"create"}},"runtime":"Async","port":"8080"})");
  ASSERT_EQ(fc.outputs.size(), 1u);
  const Component& out = fc.outputs.at("sample");
  EXPECT_EQ(out.uri, "kafka-server");
  EXPECT_EQ(out.component_name, "serving-b2v7c-bindings-kafka-server-wq8cx");
  EXPECT_EQ(out.component_type, "bindings.kafka");
  EXPECT_EQ(out.operation, "create");
}

// specs/openfunction-samples/functions/async/pubsub/subscriber: for pub/sub the uri is the topic.
TEST(FunctionContextTest, AsyncKafkaPubsubSubscriberSample) {
  FunctionContext fc = MustParse(
      R"({"name":"autoscaling-subscriber","version":"v2.0.0","inputs":{"kafka-server":{"uri":"sample-topic",)"
      R"("componentName":"serving-5rtsd-pubsub-kafka-server-d2m8x","componentType":"pubsub.kafka"}},)"
      R"("runtime":"Async","port":"8080"})");
  const Component& in = fc.inputs.at("kafka-server");
  EXPECT_EQ(in.uri, "sample-topic");
  EXPECT_EQ(in.building_block(), "pubsub");
}

// specs/openfunction-samples/functions/knative/with-output-binding/function-front.yaml:
// an HTTP-triggered (Knative) function with an output and output metadata.
TEST(FunctionContextTest, KnativeWithOutputSample) {
  FunctionContext fc = MustParse(
      R"({"name":"function-front","version":"v1.0.0","outputs":{"kafka-server":{"uri":"kafka-server",)"
      R"("componentName":"serving-8j2nd-bindings-kafka-server-ls9df","componentType":"bindings.kafka",)"
      R"("metadata":{"key":"k1"},"operation":"create"}},"runtime":"Knative","port":"8080",)"
      R"("prePlugins":["plugin-custom","plugin-example"],"postPlugins":["plugin-example","plugin-custom"],)"
      R"("httpPattern":"/front"})");
  EXPECT_EQ(fc.runtime, "Knative");
  EXPECT_EQ(fc.outputs.at("kafka-server").metadata, (std::map<std::string, std::string>{{"key", "k1"}}));
  EXPECT_EQ(fc.post_plugins, (std::vector<std::string>{"plugin-example", "plugin-custom"}));
  EXPECT_EQ(fc.http_pattern, "/front");
}

TEST(FunctionContextTest, EmptyIsAValidEmptyContext) {
  for (const char* text : {"", "   \n", "{}", "{\"inputs\":{},\"outputs\":null}"}) {
    auto fc = FunctionContext::Parse(text);
    ASSERT_TRUE(fc.ok()) << text << ": " << fc.status().ToString();
    EXPECT_EQ(fc->runtime, "Knative") << text;
    EXPECT_EQ(fc->port, "8080") << text;
    EXPECT_TRUE(fc->name.empty());
    EXPECT_TRUE(fc->inputs.empty());
    EXPECT_TRUE(fc->outputs.empty());
  }
}

TEST(FunctionContextTest, PortAsNumberOrString) {
  EXPECT_EQ(MustParse(R"({"port":9090})").port, "9090");
  EXPECT_EQ(MustParse(R"({"port":"65535"})").port, "65535");
  EXPECT_EQ(MustParse(R"({"port":"1"})").port, "1");
  EXPECT_EQ(MustParse(R"({"port":""})").port, "8080");  // as the Go framework: empty means default
  EXPECT_EQ(MustParse(R"({"port":null})").port, "8080");
}

TEST(FunctionContextTest, StatesKeptAsJsonText) {
  FunctionContext fc = MustParse(
      R"({"states":{"mystate":{"componentName":"serving-x-state-mystate-abc","componentType":"state.redis"}}})");
  EXPECT_EQ(fc.raw_states,
            R"({"mystate":{"componentName":"serving-x-state-mystate-abc","componentType":"state.redis"}})");
}

TEST(FunctionContextTest, GoDecodingRules) {
  // Unknown members are ignored, null is "absent", and member names match
  // case-insensitively as in Go's encoding/json.
  FunctionContext fc = MustParse(
      R"({"Name":"f","requestID":"r-1","state":{"x":1},"event":{},"future":[1,2,3],"version":null,)"
      R"("outputs":{"o":{"ComponentType":"pubsub.nats","componentname":"ps","URI":"t","metadata":null,"extra":1}}})");
  EXPECT_EQ(fc.name, "f");
  EXPECT_EQ(fc.version, "");
  const Component& o = fc.outputs.at("o");
  EXPECT_EQ(o.component_type, "pubsub.nats");
  EXPECT_EQ(o.component_name, "ps");
  EXPECT_EQ(o.uri, "t");
}

TEST(FunctionContextTest, InputOperationIsIgnored) {
  // The Go framework's Input has no operation; only outputs carry one.
  FunctionContext fc = MustParse(R"({"inputs":{"i":{"componentType":"bindings.kafka","operation":"create"}}})");
  EXPECT_EQ(fc.inputs.at("i").operation, "");
}

TEST(FunctionContextTest, ComponentBuildingBlock) {
  Component c;
  c.component_type = "bindings.http";
  EXPECT_EQ(c.building_block(), "bindings");
  c.component_type = "pubsub.redis";
  EXPECT_EQ(c.building_block(), "pubsub");
  c.component_type = "nodot";
  EXPECT_EQ(c.building_block(), "");
  c.component_type = "";
  EXPECT_EQ(c.building_block(), "");
}

struct BadCase {
  const char* json;
  const char* message;  // expected prefix of the status message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.json; }

class FunctionContextErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(FunctionContextErrorTest, NamesTheFieldPath) {
  auto fc = FunctionContext::Parse(GetParam().json);
  ASSERT_FALSE(fc.ok()) << GetParam().json;
  EXPECT_EQ(fc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fc.status().message().rfind(GetParam().message, 0), 0u)
      << "got: " << fc.status().message() << "\nwant prefix: " << GetParam().message;
}

INSTANTIATE_TEST_SUITE_P(
    FunctionContext, FunctionContextErrorTest,
    ::testing::Values(
        BadCase{R"({"name":"x",})",
                "FUNC_CONTEXT: not valid JSON at byte 13: syntax error while parsing object key"},
        BadCase{R"({"name":"x"} x)", "FUNC_CONTEXT: not valid JSON at byte 14"},
        BadCase{"{\"name\":\"\xff\"}", "FUNC_CONTEXT: not valid JSON at byte 10"},
        BadCase{R"({"x":1e999})", "FUNC_CONTEXT: not valid JSON: number overflow parsing '1e999'"},
        BadCase{R"([1,2])", "FUNC_CONTEXT: expected a JSON object, got array"},
        BadCase{R"("text")", "FUNC_CONTEXT: expected a JSON object, got string"},
        BadCase{R"({"name":1})", "FUNC_CONTEXT: name: expected a string"},
        BadCase{R"({"version":{}})", "FUNC_CONTEXT: version: expected a string"},
        BadCase{R"({"runtime":"knative"})", R"(FUNC_CONTEXT: runtime: must be "Knative" or "Async", got "knative")"},
        BadCase{R"({"runtime":""})", R"(FUNC_CONTEXT: runtime: must be "Knative" or "Async", got "")"},
        BadCase{R"({"runtime":7})", "FUNC_CONTEXT: runtime: expected a string"},
        BadCase{R"({"port":"http"})", R"(FUNC_CONTEXT: port: must be a number from 1 to 65535, got "http")"},
        BadCase{R"({"port":"-1"})", "FUNC_CONTEXT: port: must be a number from 1 to 65535"},
        BadCase{R"({"port":" 80"})", "FUNC_CONTEXT: port: must be a number from 1 to 65535"},
        BadCase{R"({"port":"65536"})", "FUNC_CONTEXT: port: must be a number from 1 to 65535"},
        BadCase{R"({"port":"0000080"})", "FUNC_CONTEXT: port: must be a number from 1 to 65535"},
        BadCase{R"({"port":0})", "FUNC_CONTEXT: port: must be a number from 1 to 65535, got 0"},
        BadCase{R"({"port":-8080})", "FUNC_CONTEXT: port: must be a number from 1 to 65535, got -8080"},
        BadCase{R"({"port":18446744073709551615})", "FUNC_CONTEXT: port: must be a number from 1 to 65535"},
        BadCase{R"({"port":8080.5})", "FUNC_CONTEXT: port: expected a string or an integer"},
        BadCase{R"({"port":true})", "FUNC_CONTEXT: port: expected a string or an integer"},
        BadCase{R"({"inputs":[]})", "FUNC_CONTEXT: inputs: expected an object"},
        BadCase{R"({"inputs":{"in":"x"}})", "FUNC_CONTEXT: inputs.in: expected an object"},
        BadCase{R"({"inputs":{"in":{"componentType":"pubsub.kafka","uri":3}}})",
                "FUNC_CONTEXT: inputs.in.uri: expected a string"},
        BadCase{R"({"inputs":{"in":{"componentType":"bindings.cron","componentName":false}}})",
                "FUNC_CONTEXT: inputs.in.componentName: expected a string"},
        BadCase{R"({"inputs":{"in":{"componentName":"c"}}})", "FUNC_CONTEXT: inputs.in.componentType: required"},
        BadCase{R"({"outputs":{"sink":{"componentType":5}}})",
                "FUNC_CONTEXT: outputs.sink.componentType: expected a string"},
        BadCase{R"({"outputs":{"sink":{"componentType":""}}})", "FUNC_CONTEXT: outputs.sink.componentType: required"},
        BadCase{R"({"outputs":{"sink":{"componentType":"state.redis"}}})",
                R"(FUNC_CONTEXT: outputs.sink.componentType: must start with "bindings." or "pubsub.", got "state.redis")"},
        BadCase{R"({"outputs":{"sink":{"componentType":"bindings"}}})",
                "FUNC_CONTEXT: outputs.sink.componentType: must start with"},
        BadCase{R"({"outputs":{"sink":{"componentType":"bindings.http","metadata":[]}}})",
                "FUNC_CONTEXT: outputs.sink.metadata: expected an object of strings"},
        BadCase{R"({"outputs":{"sink":{"componentType":"bindings.http","metadata":{"url":"http://x","n":1}}}})",
                "FUNC_CONTEXT: outputs.sink.metadata.n: expected a string"},
        BadCase{R"({"outputs":{"sink":{"componentType":"bindings.http","operation":{}}}})",
                "FUNC_CONTEXT: outputs.sink.operation: expected a string"},
        BadCase{R"({"prePlugins":"a"})", "FUNC_CONTEXT: prePlugins: expected an array of strings"},
        BadCase{R"({"postPlugins":["a",2]})", "FUNC_CONTEXT: postPlugins[1]: expected a string"},
        BadCase{R"({"httpPattern":[]})", "FUNC_CONTEXT: httpPattern: expected a string"},
        BadCase{R"({"states":"x"})", "FUNC_CONTEXT: states: expected an object"}));

TEST(FunctionContextTest, ErrorMessagesStayPrintableAndBounded) {
  std::string long_key(1000, 'k');
  auto fc = FunctionContext::Parse(R"({"outputs":{")" + long_key + R"(\u0001":{"componentType":1}}})");
  ASSERT_FALSE(fc.ok());
  EXPECT_LT(fc.status().message().size(), 200u) << fc.status().message();
  for (char c : fc.status().message()) EXPECT_GE(static_cast<unsigned char>(c), 0x20);

  auto bad_utf8 = FunctionContext::Parse("{\"name\":\"" + std::string(5000, 'a') + "\xff\"}");
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_LT(bad_utf8.status().message().size(), 400u);
  for (char c : bad_utf8.status().message()) {
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F);
  }
}

}  // namespace
}  // namespace ofn

// Function: the typed view of a core.openfunction.io/v1beta2 Function, with
// exactly the fields Ofn acts on (see acted_on.h), defaults applied as
// OpenFunction's admission webhook applies them.
//
// DecodeFunction reads a Document that passed Validate() (a v1beta1 one is
// converted first, see convert.h) and adds OpenFunction's semantic checks:
// min <= max replicas, one KEDA scaler kind, a known HTTP engine, a builder
// or Dockerfile for builds, Kubernetes quantities and Go durations that
// parse, requests not above limits. Values only; thread-safe to share.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"

namespace ofn::api {

inline constexpr std::int32_t kDefaultFunctionPort = 8080;  // OpenFunction's DefaultFuncPort
inline constexpr char kDefaultGatewayName[] = "openfunction";
inline constexpr char kDefaultGatewayNamespace[] = "openfunction";

struct GatewayRef {
  std::string name = kDefaultGatewayName;
  std::string ns = kDefaultGatewayNamespace;
};

// Gateway API HTTPRoute matches; defaults as the CRD declares them.
struct HttpPathMatch {
  std::string type = "PathPrefix";  // Exact | PathPrefix | RegularExpression
  std::string value = "/";
};
struct HttpValueMatch {        // a header or query parameter
  std::string type = "Exact";  // Exact | RegularExpression
  std::string name;
  std::string value;
};
struct HttpRouteMatch {
  HttpPathMatch path;
  std::vector<HttpValueMatch> headers;
  std::vector<HttpValueMatch> query_params;
  std::string method;  // empty: any
};
struct HttpRouteRule {
  std::vector<HttpRouteMatch> matches;  // never empty: [{path: PathPrefix /}] by default
};

struct HttpRoute {
  std::vector<std::string> hostnames;
  std::vector<HttpRouteRule> rules;
  GatewayRef gateway_ref;
};

struct HttpTrigger {
  std::int32_t port = kDefaultFunctionPort;
  HttpRoute route;
};

struct DaprTrigger {
  std::string name;        // component name
  std::string type;        // e.g. bindings.kafka; looked up in bindings/pubsub when not given
  std::string topic;       // pub/sub only
  std::string input_name;  // the name the function sees (FUNC_CONTEXT inputs); defaults to name
};

struct DaprOutput {
  std::string name;  // component name
  std::string type;
  std::string topic;
  std::string operation;
  std::string output_name;  // defaults to name
  std::map<std::string, std::string> metadata;
};

struct ScaleOptions {
  std::optional<std::int32_t> min_replicas;
  std::optional<std::int32_t> max_replicas;
  std::map<std::string, std::string> knative;  // autoscaling.knative.dev/* annotations
  nlohmann::json keda;                         // scaledObject, scaledJob, httpScaledObject, triggers; null if absent
};

struct Hooks {
  std::vector<std::string> pre;
  std::vector<std::string> post;
  std::string policy = "Append";  // Append | Override
};

struct EnvVar {
  std::string name;
  std::string value;
};

// One resource list (limits or requests); "cpu" and "memory" parsed.
struct ResourceList {
  std::optional<std::int64_t> cpu_millis;    // "500m" -> 500, "2" -> 2000
  std::optional<std::int64_t> memory_bytes;  // "128Mi" -> 134217728
  std::map<std::string, std::string> other;  // other resources, as written
};

struct Resources {
  ResourceList limits;
  ResourceList requests;
};

// serving.template.containers[name=function]
struct FunctionContainer {
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;  // entries with a value (valueFrom is not acted on)
  std::string working_dir;
  Resources resources;
};

struct Serving {
  // OpenFunction's default: a function without Dapr triggers is an HTTP one.
  std::optional<HttpTrigger> http;
  std::vector<DaprTrigger> dapr_triggers;
  std::vector<DaprOutput> outputs;
  nlohmann::json bindings = nlohmann::json::object();  // name -> Dapr ComponentSpec
  nlohmann::json pubsub = nlohmann::json::object();
  nlohmann::json states = nlohmann::json::object();  // name -> {spec: ComponentSpec}
  ScaleOptions scale;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> params;  // environment of the function
  std::optional<FunctionContainer> container;
  std::optional<std::chrono::nanoseconds> timeout;  // serving.timeout
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> labels;
};

struct Function {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string version = "latest";
  std::string image;
  std::string image_credentials;  // spec.imageCredentials.name: for pushing the built image
  nlohmann::json build;  // as written; null when the function is not built by Ofn
  std::string workload_runtime = "OCIContainer";
  std::optional<Serving> serving;  // absent for build-only functions
};

// Appends an error for each semantic problem; the returned value is complete
// only when none was appended.
Function DecodeFunction(const Document& doc, std::vector<Diagnostic>* errors);

}  // namespace ofn::api

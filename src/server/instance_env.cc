#include "server/instance_env.h"

#include <nlohmann/json.hpp>

namespace ofn::server {
namespace {

// OpenFunction's building block for a Dapr component type ("bindings.kafka").
nlohmann::json Component(const std::string& name, const std::string& type, const std::string& topic) {
  nlohmann::json c = {{"componentName", name}, {"componentType", type}};
  if (!topic.empty()) c["uri"] = topic;
  return c;
}

}  // namespace

std::string FuncContextJson(const api::Function& fn) {
  nlohmann::json ctx = {{"name", fn.name}, {"version", fn.version}, {"port", "8080"}};
  bool async = false;
  nlohmann::json inputs = nlohmann::json::object(), outputs = nlohmann::json::object();
  if (fn.serving) {
    const api::Serving& s = *fn.serving;
    async = !s.dapr_triggers.empty() && !s.http;
    if (s.http) ctx["port"] = std::to_string(s.http->port);
    for (const auto& t : s.dapr_triggers) {
      inputs[t.input_name.empty() ? t.name : t.input_name] = Component(t.name, t.type, t.topic);
    }
    for (const auto& o : s.outputs) {
      nlohmann::json c = Component(o.name, o.type, o.topic);
      if (!o.operation.empty()) c["operation"] = o.operation;
      if (!o.metadata.empty()) c["metadata"] = o.metadata;
      outputs[o.output_name.empty() ? o.name : o.output_name] = std::move(c);
    }
    if (s.hooks) {
      ctx["prePlugins"] = s.hooks->pre;
      ctx["postPlugins"] = s.hooks->post;
    }
    if (!s.states.empty()) ctx["states"] = s.states;
  }
  ctx["runtime"] = async ? "Async" : "Knative";
  if (!inputs.empty()) ctx["inputs"] = inputs;
  if (!outputs.empty()) ctx["outputs"] = outputs;
  return ctx.dump();
}

std::vector<std::pair<std::string, std::string>> InstanceEnv(const api::Function& fn, const std::string& pod_name,
                                                             const PlatformEndpoints& platform) {
  std::vector<std::pair<std::string, std::string>> env;
  std::string ctx = FuncContextJson(fn);
  env.emplace_back("FUNC_CONTEXT", ctx);
  env.emplace_back("FUNC_CONTEXT_V1BETA2", ctx);
  env.emplace_back("POD_NAME", pod_name);
  env.emplace_back("POD_NAMESPACE", fn.ns);
  env.emplace_back("CONTEXT_MODE", "self-host");
  env.emplace_back("DAPR_HOST", platform.dapr_host);
  env.emplace_back("DAPR_HTTP_PORT", std::to_string(platform.dapr_http_port));
  if (fn.serving) {
    for (const auto& [k, v] : fn.serving->params) env.emplace_back(k, v);
    if (fn.serving->container) {
      for (const auto& e : fn.serving->container->env) env.emplace_back(e.name, e.value);
    }
  }
  return env;
}

}  // namespace ofn::server

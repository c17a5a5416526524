// FunctionContext: OpenFunction's FUNC_CONTEXT (v1beta1 JSON), decoded.
//
// The platform sets FUNC_CONTEXT in every instance's environment; it names the
// function, its runtime ("Knative" for sync, "Async"), its inputs and outputs
// (Dapr components) and the plugins to run around each call.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"

namespace ofn {

// An input or output: a Dapr component, by name and type ("bindings.http",
// "pubsub.redis", ...). For pub/sub, `uri` is the topic.
struct Component {
  std::string uri;
  std::string component_name;
  std::string component_type;
  std::map<std::string, std::string> metadata;
  std::string operation;  // outputs of binding type: "create", "post", ...

  // "bindings" or "pubsub" (the part of component_type before the first dot).
  std::string_view building_block() const;
};

struct FunctionContext {
  std::string name;
  std::string version;
  std::string runtime = "Knative";  // "Knative" | "Async"
  std::string port = "8080";
  std::map<std::string, Component> inputs;
  std::map<std::string, Component> outputs;
  std::vector<std::string> pre_plugins;
  std::vector<std::string> post_plugins;
  std::string http_pattern;  // path the function is served on; empty = the function's own
  std::string raw_states;    // the `states` member as JSON text, kept for later use

  // Decodes FUNC_CONTEXT; an error names the offending member ("outputs.sink.componentType").
  static Result<FunctionContext> Parse(std::string_view json);
};

}  // namespace ofn

// InstanceEnv: what a function instance sees in its environment, computed
// from its Function the way OpenFunction does (DESIGN.md §3): FUNC_CONTEXT
// (v1beta1 JSON), FUNC_CONTEXT_V1BETA2, POD_NAME, POD_NAMESPACE,
// CONTEXT_MODE=self-host, DAPR_HOST/DAPR_HTTP_PORT, serving.params and the
// container's env. The platform's own environment is never passed on. Pure.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/function.h"

namespace ofn::server {

struct PlatformEndpoints {
  std::string dapr_host = "127.0.0.1";
  int dapr_http_port = 3500;
};

// The v1beta1 FUNC_CONTEXT JSON for a function.
std::string FuncContextJson(const api::Function& fn);

std::vector<std::pair<std::string, std::string>> InstanceEnv(const api::Function& fn, const std::string& pod_name,
                                                             const PlatformEndpoints& platform);

}  // namespace ofn::server

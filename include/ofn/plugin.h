// Plugins: hooks run before and after every call, named in FUNC_CONTEXT's
// prePlugins / postPlugins and looked up in a registry of named plugins.
//
// A plugin that throws is logged and skipped; it never fails the call.
// Plugins are shared by concurrent calls: keep per-call state in CallInfo.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ofn/http_request.h"
#include "ofn/http_response.h"

namespace ofn {

struct CallInfo {
  std::string_view function;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;  // null in pre hooks
  std::chrono::steady_clock::time_point start;
  std::map<std::string, std::string> values;  // scratch space shared by the hooks of one call
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;
  virtual void Pre(CallInfo&) {}
  virtual void Post(CallInfo&) {}
};

// Registers a plugin under its name(); a later one of the same name replaces it.
void RegisterPlugin(std::shared_ptr<Plugin> plugin);
std::shared_ptr<Plugin> FindPlugin(std::string_view name);

}  // namespace ofn

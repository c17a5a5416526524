// The process-wide registries of functions and plugins. Registration happens
// during static initialization (single-threaded); lookups after main starts.
#include <mutex>

#include "ofn/function.h"
#include "ofn/plugin.h"

namespace ofn {
namespace {

std::vector<Function>& Functions() {
  static std::vector<Function> f;
  return f;
}

struct PluginTable {
  std::mutex mu;
  std::vector<std::shared_ptr<Plugin>> plugins;
};

PluginTable& Plugins() {
  static PluginTable t;
  return t;
}

}  // namespace

Function HttpFunction(std::string name, HttpHandler h) {
  Function f;
  f.name_ = std::move(name);
  f.kind_ = FunctionKind::kHttp;
  f.http_ = std::move(h);
  return f;
}

Function CloudEventFunctionOf(std::string name, CloudEventHandler h) {
  Function f;
  f.name_ = std::move(name);
  f.kind_ = FunctionKind::kCloudEvent;
  f.cloud_event_ = std::move(h);
  return f;
}

Function OpenFunction(std::string name, OpenFunctionHandler h) {
  Function f;
  f.name_ = std::move(name);
  f.kind_ = FunctionKind::kOpenFunction;
  f.open_function_ = std::move(h);
  return f;
}

void Register(Function f) { Functions().push_back(std::move(f)); }
const std::vector<Function>& RegisteredFunctions() { return Functions(); }

void RegisterPlugin(std::shared_ptr<Plugin> plugin) {
  auto& t = Plugins();
  std::lock_guard lk(t.mu);
  for (auto& p : t.plugins) {
    if (p->name() == plugin->name()) {
      p = std::move(plugin);
      return;
    }
  }
  t.plugins.push_back(std::move(plugin));
}

std::shared_ptr<Plugin> FindPlugin(std::string_view name) {
  auto& t = Plugins();
  std::lock_guard lk(t.mu);
  for (auto& p : t.plugins) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

}  // namespace ofn

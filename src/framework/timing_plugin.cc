// The built-in "timing" plugin: measures each call and reports it in a
// Server-Timing response header (fn;dur=<milliseconds>) and a debug log line.
#include <chrono>
#include <cstdio>

#include "common/log.h"
#include "ofn/plugin.h"

namespace ofn {
namespace {

class TimingPlugin : public Plugin {
 public:
  std::string_view name() const override { return "timing"; }
  void Post(CallInfo& call) override {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - call.start);
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f", static_cast<double>(us.count()) / 1000.0);
    if (call.response) call.response->add_header("Server-Timing", std::string("fn;dur=") + dur);
    std::string micros = std::to_string(us.count());
    std::string status = call.response ? std::to_string(call.response->status()) : "";
    log::Debug("call", {{"function", call.function}, {"status", status}, {"duration_us", micros}});
  }
};

const bool kRegistered = [] {
  RegisterPlugin(std::make_shared<TimingPlugin>());
  return true;
}();

}  // namespace

// Referenced by the dispatcher so the linker keeps this object file.
bool TimingPluginLinked() { return kRegistered; }

}  // namespace ofn

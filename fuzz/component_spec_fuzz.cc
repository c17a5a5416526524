// Fuzzes what turns a Component's spec JSON into a live component: the spec
// decoder (components/component.h) and the typed metadata getters, then the
// registry's factory for the types that open nothing outside (bindings.cron,
// bindings.http). Bad input must come back as an error with a message.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "components/component.h"
#include "components/cron_binding.h"
#include "components/http_binding.h"
#include "components/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ofn::components::Registry* registry = [] {
    auto* r = new ofn::components::Registry();
    ofn::components::RegisterCron(*r);
    ofn::components::RegisterHttp(*r);
    return r;
  }();
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto spec = ofn::components::ParseComponentSpec(json, "c", "default", "app");
  if (!spec.ok()) {
    if (spec.status().message().empty()) __builtin_trap();
    return 0;
  }
  for (const auto& [name, value] : spec->metadata.items()) {
    (void)spec->metadata.GetBool(name, false);
    (void)spec->metadata.GetInt(name, 0);
    (void)spec->metadata.GetDuration(name, std::chrono::milliseconds(0));
  }
  if (spec->type == "bindings.cron" || spec->type == "bindings.http") {
    auto made = registry->Create(*spec);
    if (!made.ok() && made.status().message().empty()) __builtin_trap();
  }
  return 0;
}

// libFuzzer target: FunctionContext::Parse on arbitrary bytes.
// Beyond "no crash, no sanitizer report", it checks the promises callers rely
// on: a parsed context is always usable, and an error is always a bounded,
// printable INVALID_ARGUMENT message that starts with "FUNC_CONTEXT: ".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ofn/function_context.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool ValidPort(const std::string& p) {
  if (p.empty() || p.size() > 5 || p[0] == '0') return false;
  int v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return v >= 1 && v <= 65535;
}

void CheckComponents(const std::map<std::string, ofn::Component>& m) {
  for (const auto& [name, c] : m) {
    Check(c.building_block() == "bindings" || c.building_block() == "pubsub");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fc = ofn::FunctionContext::Parse(text);
  if (fc.ok()) {
    Check(fc->runtime == "Knative" || fc->runtime == "Async");
    Check(ValidPort(fc->port));
    CheckComponents(fc->inputs);
    CheckComponents(fc->outputs);
    if (!fc->raw_states.empty()) {
      Check(nlohmann::json::accept(fc->raw_states));
    }
  } else {
    const std::string& msg = fc.status().message();
    Check(fc.status().code() == ofn::StatusCode::kInvalidArgument);
    Check(msg.rfind("FUNC_CONTEXT: ", 0) == 0);
    Check(msg.size() < 1024);
    for (char c : msg) Check(static_cast<unsigned char>(c) >= 0x20);
  }
  return 0;
}

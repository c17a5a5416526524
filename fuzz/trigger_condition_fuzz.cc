// Fuzzes the Trigger condition language (events/condition.h): parsing any
// text never crashes or overflows the stack, an error always names a column,
// and a parsed condition keeps its text, mentions only known inputs and
// evaluates against a fixed event with every input active and with none.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "api/trigger_condition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::set<std::string, std::less<>> kInputs = {"a", "b", "input-demo"};
  static const nlohmann::json kEvent = nlohmann::json::parse(R"({
    "specversion": "1.0", "id": "1", "source": "s", "type": "com.example.t", "time": "2024-01-01T00:00:00Z",
    "ext": "x", "data": {"level": "error", "n": 3, "f": 0.5, "ok": true, "nil": null,
                         "list": [1, "two", {"k": [false]}], "o": {"a": {"b": "c"}}}
  })");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = ofn::api::TriggerCondition::Parse(text, kInputs);
  if (!c.ok()) {
    if (c.status().message().rfind("column ", 0) != 0) __builtin_trap();
    return 0;
  }
  if (c->text() != text) __builtin_trap();
  for (const auto& name : c->Inputs()) {
    if (!kInputs.count(name)) __builtin_trap();
  }
  c->Evaluate([](std::string_view) { return true; }, kEvent);
  c->Evaluate([](std::string_view) { return false; }, kEvent);
  return 0;
}

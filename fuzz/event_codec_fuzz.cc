// The events engine's CloudEvent readers: a webhook request (headers + body)
// and a bus message, then the binary-mode rendering of whatever they
// accepted. Must never crash; what FromHttp accepts must render and read back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "events/event_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // First line: "name: value" headers separated by '|'; the rest is the body.
  size_t nl = text.find('\n');
  std::string head = text.substr(0, nl), body = nl == std::string::npos ? "" : text.substr(nl + 1);
  std::vector<std::pair<std::string, std::string>> headers;
  for (size_t at = 0; at <= head.size();) {
    size_t bar = head.find('|', at);
    if (bar == std::string::npos) bar = head.size();
    std::string h = head.substr(at, bar - at);
    if (size_t colon = h.find(':'); colon != std::string::npos) headers.emplace_back(h.substr(0, colon), h.substr(colon + 1));
    at = bar + 1;
  }
  ofn::events::Origin origin{"default", "src", "webhook", "hook"};
  auto ev = ofn::events::FromHttp(headers, body, origin, "id-1", std::chrono::system_clock::time_point());
  if (ev.ok()) {
    auto b = ofn::events::ToBinary(*ev);
    auto back = ofn::events::ParseEvent(ev->dump());
    if (!back.ok()) __builtin_trap();  // what was accepted must read back from the bus
    (void)b;
  }
  (void)ofn::events::ParseEvent(text);
  return 0;
}

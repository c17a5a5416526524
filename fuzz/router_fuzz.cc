// Fuzzes path patterns and request routing: the first line of the input is a
// pattern, the second a method, the rest the request path.
#include <cstdint>
#include <string>
#include <string_view>

#include "framework/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  if (a == std::string_view::npos) return 0;
  size_t b = in.find('\n', a + 1);
  if (b == std::string_view::npos) return 0;
  std::string_view pattern = in.substr(0, a), method = in.substr(a + 1, b - a - 1), path = in.substr(b + 1);
  auto p = ofn::PathPattern::Compile(pattern);
  if (!p.ok()) return 0;
  std::vector<std::pair<std::string, std::string>> params;
  bool matched = p->Match(path, &params);
  if (!matched && !params.empty()) __builtin_trap();  // a miss never leaves captures behind
  if (p->catch_all() && !matched) __builtin_trap();
  ofn::Router r;
  r.Add(std::move(*p), {std::string(method)}, 0);
  auto m = r.Find(method, path);
  if ((m.outcome == ofn::Router::Outcome::kFound) != matched) __builtin_trap();
  return 0;
}

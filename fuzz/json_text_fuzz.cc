// Fuzzes the DOM-free JSON validator and scanner (common/json_text.h) against
// nlohmann: the same verdict on every input without a NUL byte (nlohmann's
// lexer stops at one; it also refuses numbers beyond a double, which JSON
// allows), and for valid objects the same members and strings.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool valid = ofn::jsontext::Valid(text);
  if (text.find('\0') != std::string_view::npos) {
    if (valid) __builtin_trap();
    return 0;
  }
  // nlohmann's depth is unbounded, ours 512: compare only shallower inputs.
  if (std::count(text.begin(), text.end(), '[') + std::count(text.begin(), text.end(), '{') > 512) return 0;
  nlohmann::json tree;
  try {
    tree = nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range&) {
    return 0;  // a number beyond a double: valid JSON that nlohmann refuses
  } catch (const nlohmann::json::parse_error&) {
    if (valid) __builtin_trap();
    return 0;
  }
  if (!valid) __builtin_trap();
  if (tree.is_object()) {
    nlohmann::json rebuilt = nlohmann::json::object();
    for (const auto& m : ofn::jsontext::Members(text)) rebuilt[ofn::jsontext::Unquote(m.key)] = nlohmann::json::parse(m.value);
    if (rebuilt != tree) __builtin_trap();
  } else if (tree.is_array()) {
    if (ofn::jsontext::Elements(text).size() != tree.size()) __builtin_trap();
  }
  return 0;
}

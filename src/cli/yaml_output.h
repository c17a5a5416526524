// YAML output for `-o yaml`: a JSON value written as block YAML the way
// kubectl writes it (keys in order, a sequence under a key not indented
// further, "key: |-" for multi-line text). Strings that would read back as
// something else — "true", "1.5", "null", "", timestamps, text with ": " —
// are double-quoted, so the output parses back to the same JSON.
//
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ofn::cli {

std::string ToYaml(const nlohmann::json& value);

// Whether `s` can be written as a plain (unquoted) YAML scalar and still read
// back as that string under YAML 1.1 and 1.2 rules.
bool IsPlainSafe(std::string_view s);

}  // namespace ofn::cli

// Go's strconv.ParseBool, the spelling of booleans in Dapr metadata, KEDA
// trigger metadata and kubectl-style flags: 1/t/T/TRUE/true/True and
// 0/f/F/FALSE/false/False; anything else is nullopt. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace ofn {

inline std::optional<bool> ParseGoBool(std::string_view text) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f) return false;
  return std::nullopt;
}

}  // namespace ofn

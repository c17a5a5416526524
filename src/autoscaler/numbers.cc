#include "autoscaler/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ofn::autoscaler {
namespace {

std::string_view StripPlus(std::string_view s) {
  // from_chars refuses '+'; Go accepts one. Keep "+-1" and "+" invalid.
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

}  // namespace

std::optional<double> ParseFloat64(std::string_view text) {
  const std::string_view s = StripPlus(text);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int32_t> ParseInt32(std::string_view text) {
  const std::string_view s = StripPlus(text);
  if (s.empty()) return std::nullopt;
  int32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace ofn::autoscaler

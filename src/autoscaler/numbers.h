// Number text as Knative reads its annotations (Go's strconv.ParseFloat and
// ParseInt(s, 10, 32)), and a compact form for messages. The whole text must
// be the number: no spaces, no trailing characters; an optional leading '+'
// is allowed as in Go. Unlike Go, NaN and infinities are refused: no
// autoscaling setting means anything with them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ofn::autoscaler {

std::optional<double> ParseFloat64(std::string_view text);
std::optional<int32_t> ParseInt32(std::string_view text);

// "70", "0.7", "1000", "0.01", "1e+06": %g with enough digits to round-trip
// the values people write.
std::string FormatNumber(double v);

}  // namespace ofn::autoscaler

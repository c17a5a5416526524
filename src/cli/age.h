// Ages the way kubectl prints them in the AGE column: "45s", "3m20s", "15m",
// "2h5m", "20h", "4d6h", "30d", "2y10d". Plus parsing of the RFC 3339
// timestamps the API returns (metadata.creationTimestamp).
//
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ofn::cli {

using SysTime = std::chrono::system_clock::time_point;

// kubectl's HumanDuration rules: more precision while the age is small, and
// "<invalid>" for a time more than a second in the future (clock skew).
std::string HumanDuration(std::chrono::seconds d);

// "2026-11-26T14:00:00Z", with optional fractional seconds and a "+hh:mm" /
// "-hh:mm" offset instead of "Z". nullopt if malformed.
std::optional<SysTime> ParseTimestamp(std::string_view s);

// The AGE cell for a creationTimestamp: "<unknown>" when missing or malformed.
std::string AgeSince(std::string_view timestamp, SysTime now);

}  // namespace ofn::cli

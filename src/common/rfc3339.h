// RFC 3339 timestamps in UTC, as Kubernetes objects, CloudEvents and Ofn's
// logs write them: "2026-11-27T02:51:24Z", with 3 or 6 fraction digits when
// asked ("...:24.123Z"). Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ofn {

// `fraction_digits`: 0, 3 (milliseconds) or 6 (microseconds); truncated, not rounded.
std::string FormatRfc3339(std::chrono::system_clock::time_point t, int fraction_digits = 0);
// From Unix seconds, for times far enough ahead to overflow a time_point.
std::string FormatRfc3339Seconds(int64_t unix_seconds);

}  // namespace ofn

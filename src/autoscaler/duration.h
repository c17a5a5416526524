// Go-style duration text ("60s", "1m30s", "500ms", "1.5h", "-2s", "0"), the
// syntax of Go's time.ParseDuration, which Knative uses for its duration
// annotations (window, scale-down-delay, ...). Users copy these values from
// Knative manifests, so Ofn reads them the same way.
//
// Grammar: an optional sign, then "0" alone or one or more
// <decimal number><unit> pairs, where a number has digits before and/or after
// one '.', and a unit is ns, us, µs, μs, ms, s, m or h. No spaces; a number
// without a unit is an error (except "0"). Values are nanoseconds and must
// fit in int64, like Go's. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::autoscaler {

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// Short Go-like text for messages: "6s", "1h", "1m30s", "500ms", "1.5s".
// Zero components are left out ("1h", not Go's "1h0m0s"); ParseGoDuration
// reads every output back to the same value.
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace ofn::autoscaler

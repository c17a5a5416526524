// Go-style duration text ("60s", "1m30s", "500ms", "1.5h", "-2s", "0"), the
// syntax of Go's time.ParseDuration. Kubernetes' metav1.Duration, OpenFunction's
// build/serving timeouts and Knative's duration annotations (window,
// scale-down-delay, ...) all use it; users copy these values from their
// manifests, so Ofn reads them the same way Go does.
//
// Grammar: an optional sign, then "0" alone or one or more
// <decimal number><unit> pairs, where a number has digits before and/or after
// one '.', and a unit is ns, us, µs (U+00B5), μs (U+03BC), ms, s, m or h. No
// spaces; a number without a unit is an error (except "0"). Values are
// nanoseconds and must fit in int64 (-2562047h47m16.854775808s is the
// smallest), like Go's; fractions beyond nanosecond precision truncate toward
// zero. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn {

// InvalidArgument on bad input, with a message of the form
// `invalid duration "<text>": <reason>`.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// Short Go-like text for messages: "6s", "1h", "1m30s", "500ms", "1.5s",
// "10us". Zero components are left out ("1h", not Go's "1h0m0s"), and sub-second
// values use the largest unit that keeps them whole ("1500us", not Go's
// "1.5ms"). ParseGoDuration reads every output back to the same value.
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace ofn

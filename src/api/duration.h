// Go durations ("300ms", "1.5h", "5m0s"), as Kubernetes' metav1.Duration and
// OpenFunction's serving.timeout spell them. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::api {

// Go's time.ParseDuration: a signed sequence of decimal numbers with units
// ns, us (or µs), ms, s, m, h; "0" alone is allowed. Errors on anything else
// and on values beyond ±292 years.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);
// Go's Duration.String(): 1h2m3.5s, 150ms, 0s.
std::string FormatGoDuration(std::chrono::nanoseconds d);

}  // namespace ofn::api

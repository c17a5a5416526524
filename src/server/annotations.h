// Reading Ofn's own annotations (ofn.io/...) on resources: a bad value is a
// problem reported in status, and the default applies. Pure; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "components/delivery.h"

namespace ofn::server {

// Ofn's retry policy for events (see components/delivery.h), on Functions and Triggers.
inline constexpr char kMaxAttemptsAnnotation[] = "ofn.io/max-attempts";
inline constexpr char kRetryBackoffAnnotation[] = "ofn.io/retry-backoff";
inline constexpr char kRetryMaxBackoffAnnotation[] = "ofn.io/retry-max-backoff";

// The annotation as a positive integer, or `fallback` (with a problem noted).
int PositiveAnnotation(const std::map<std::string, std::string>& a, const char* name, int fallback,
                       std::string* problems);
// The annotation as a positive Go duration ("1m30s"), or `fallback` (with a problem noted).
std::chrono::milliseconds DurationAnnotation(const std::map<std::string, std::string>& a, const char* name,
                                             std::chrono::milliseconds fallback, std::string* problems);
// `base` with ofn.io/max-attempts, ofn.io/retry-backoff and ofn.io/retry-max-backoff applied.
components::RetryPolicy RetryPolicyFrom(const std::map<std::string, std::string>& a, components::RetryPolicy base,
                                        std::string* problems);

}  // namespace ofn::server

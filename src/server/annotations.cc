#include "server/annotations.h"

#include "common/duration.h"

namespace ofn::server {

// The annotation as a positive integer, or `fallback` (with a problem noted).
int PositiveAnnotation(const std::map<std::string, std::string>& a, const char* name, int fallback,
                       std::string* problems) {
  auto it = a.find(name);
  if (it == a.end()) return fallback;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || v < 1 || v > 1000000) {
    *problems += std::string(problems->empty() ? "" : "; ") + "annotation " + name + ": \"" + it->second +
                 "\" is not a positive integer";
    return fallback;
  }
  return static_cast<int>(v);
}

std::chrono::milliseconds DurationAnnotation(const std::map<std::string, std::string>& a, const char* name,
                                             std::chrono::milliseconds fallback, std::string* problems) {
  auto it = a.find(name);
  if (it == a.end()) return fallback;
  auto d = ParseGoDuration(it->second);
  if (!d.ok() || d->count() <= 0) {
    *problems += std::string(problems->empty() ? "" : "; ") + "annotation " + name + ": \"" + it->second +
                 "\" is not a positive duration";
    return fallback;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

components::RetryPolicy RetryPolicyFrom(const std::map<std::string, std::string>& a, components::RetryPolicy base,
                                        std::string* problems) {
  base.max_attempts = PositiveAnnotation(a, kMaxAttemptsAnnotation, base.max_attempts, problems);
  base.initial_backoff = DurationAnnotation(a, kRetryBackoffAnnotation, base.initial_backoff, problems);
  base.max_backoff = DurationAnnotation(a, kRetryMaxBackoffAnnotation, base.max_backoff, problems);
  return base;
}

}  // namespace ofn::server

#include "common/rfc3339.h"

#include <cstdio>
#include <ctime>

namespace ofn {

std::string FormatRfc3339Seconds(int64_t unix_seconds) {
  std::time_t secs = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t, int fraction_digits) {
  auto us = std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  int64_t frac_us = us - secs * 1000000;
  std::string s = FormatRfc3339Seconds(secs);
  if (fraction_digits != 3 && fraction_digits != 6) return s;
  char frac[32];
  if (fraction_digits == 3) {
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(frac_us / 1000));
  } else {
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(frac_us));
  }
  s.insert(s.size() - 1, frac);  // before the "Z"
  return s;
}

}  // namespace ofn

#include "common/duration.h"

#include <cstdint>
#include <limits>
#include <utility>

namespace ofn {
namespace {

using std::chrono::nanoseconds;

constexpr uint64_t kMaxNanos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Nanoseconds per unit; 0 when the unit is unknown.
uint64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;  // u, micro sign, Greek mu
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return 0;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status Invalid(std::string_view text, std::string_view why) {
  std::string m = "invalid duration \"" + std::string(text) + "\"";
  if (!why.empty()) m += ": " + std::string(why);
  return Status::InvalidArgument(std::move(m));
}

}  // namespace

Result<nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return nanoseconds(0);
  if (s.empty()) return Invalid(text, "empty");

  // The magnitude may reach 2^63 when negative (INT64_MIN), as in Go.
  const uint64_t limit = kMaxNanos + (negative ? 1 : 0);
  uint64_t total = 0;
  while (!s.empty()) {
    // Integer part.
    uint64_t whole = 0;
    bool digits = false, overflow = false;
    while (!s.empty() && IsDigit(s[0])) {
      const uint64_t d = static_cast<uint64_t>(s[0] - '0');
      if (whole > (limit - d) / 10) overflow = true;
      else whole = whole * 10 + d;
      digits = true;
      s.remove_prefix(1);
    }
    // Fraction: digits past 18 cannot change a nanosecond count, so they are
    // read but not accumulated (keeps frac * unit inside 128 bits).
    uint64_t frac = 0, scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      while (!s.empty() && IsDigit(s[0])) {
        if (scale < 1'000'000'000'000'000'000ULL) {
          frac = frac * 10 + static_cast<uint64_t>(s[0] - '0');
          scale *= 10;
        }
        digits = true;
        s.remove_prefix(1);
      }
    }
    if (!digits) return Invalid(text, "expected a number");
    if (overflow) return Invalid(text, "out of range");

    size_t n = 0;
    while (n < s.size() && s[n] != '.' && !IsDigit(s[n])) ++n;
    const std::string_view unit = s.substr(0, n);
    s.remove_prefix(n);
    if (unit.empty()) return Invalid(text, "missing unit (ns, us, ms, s, m or h)");
    const uint64_t per = UnitNanos(unit);
    if (per == 0) return Invalid(text, "unknown unit \"" + std::string(unit) + "\"");

    if (whole > limit / per) return Invalid(text, "out of range");
    uint64_t v = whole * per;
    if (frac > 0) {
      // Truncates toward zero, as Go does. v <= 2^63 here, so this cannot wrap.
      v += static_cast<uint64_t>(static_cast<unsigned __int128>(frac) * per / scale);
      if (v > limit) return Invalid(text, "out of range");
    }
    if (v > limit - total) return Invalid(text, "out of range");
    total += v;
  }
  // Two's complement: negating the unsigned magnitude gives the right bits,
  // including for 2^63 (INT64_MIN).
  return nanoseconds(static_cast<int64_t>(negative ? ~total + 1 : total));
}

std::string FormatDuration(nanoseconds d) {
  if (d == nanoseconds(0)) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so that INT64_MIN does not overflow.
  uint64_t ns = static_cast<uint64_t>(d.count());
  if (d.count() < 0) {
    out = "-";
    ns = ~ns + 1;
  }
  if (ns < 1'000'000'000) {
    if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
    return out + std::to_string(ns) + "ns";
  }
  const uint64_t secs = ns / 1'000'000'000, sub = ns % 1'000'000'000;
  const uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0 || sub > 0) {
    out += std::to_string(s);
    if (sub > 0) {
      std::string digits = std::to_string(sub);
      digits.insert(0, 9 - digits.size(), '0');
      while (digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    out += "s";
  }
  return out;
}

}  // namespace ofn

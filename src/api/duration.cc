#include "api/duration.h"

#include <cstdint>
#include <limits>

namespace ofn::api {
namespace {

constexpr std::int64_t kNs = 1;
constexpr std::int64_t kUs = 1000 * kNs;
constexpr std::int64_t kMs = 1000 * kUs;
constexpr std::int64_t kS = 1000 * kMs;
constexpr std::int64_t kM = 60 * kS;
constexpr std::int64_t kH = 60 * kM;

std::int64_t UnitOf(std::string_view u) {
  if (u == "ns") return kNs;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return kUs;  // also micro sign and Greek mu
  if (u == "ms") return kMs;
  if (u == "s") return kS;
  if (u == "m") return kM;
  if (u == "h") return kH;
  return 0;
}

// Writes the fraction of v/10^prec (trailing zeros dropped, no '.' when
// zero) in front of out, returning the integer part.
std::uint64_t PrependFrac(std::string* out, std::uint64_t v, int prec) {
  std::string frac;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(v % 10);
    print = print || digit != 0;
    if (print) frac.insert(frac.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) out->insert(0, "." + frac);
  return v;
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("invalid duration \"" + std::string(text) + "\""); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return bad();
  __int128 total = 0;
  const __int128 limit = static_cast<__int128>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return bad();
    __int128 whole = 0;
    std::size_t i = 0;
    bool digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > limit) return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
      digits = true;
    }
    __int128 frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (scale < static_cast<__int128>(1000000000000000000LL)) {  // beyond ns precision: dropped
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        digits = true;
      }
    }
    if (!digits) return bad();
    std::size_t u = i;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    if (u == i) return Status::InvalidArgument("missing unit in duration \"" + std::string(text) + "\"");
    std::int64_t unit = UnitOf(s.substr(i, u - i));
    if (unit == 0) {
      return Status::InvalidArgument("unknown unit \"" + std::string(s.substr(i, u - i)) + "\" in duration \"" +
                                     std::string(text) + "\"");
    }
    total += whole * unit + frac * unit / scale;
    if (total > limit) return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
    s.remove_prefix(u);
  }
  if (negative) total = -total;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  std::int64_t n = d.count();
  bool negative = n < 0;
  std::uint64_t u = negative ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  std::string out;
  if (u < static_cast<std::uint64_t>(kS)) {
    if (u == 0) return "0s";
    int prec;
    std::string unit;
    if (u < static_cast<std::uint64_t>(kUs)) {
      prec = 0, unit = "ns";
    } else if (u < static_cast<std::uint64_t>(kMs)) {
      prec = 3, unit = "\xC2\xB5s";
    } else {
      prec = 6, unit = "ms";
    }
    out = unit;
    u = PrependFrac(&out, u, prec);
    out.insert(0, std::to_string(u));
  } else {
    out = "s";
    u = PrependFrac(&out, u, 9);
    out.insert(0, std::to_string(u % 60));
    u /= 60;
    if (u > 0) {
      out.insert(0, std::to_string(u % 60) + "m");
      u /= 60;
      if (u > 0) out.insert(0, std::to_string(u) + "h");
    }
  }
  if (negative) out.insert(0, "-");
  return out;
}

}  // namespace ofn::api

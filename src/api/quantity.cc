#include "api/quantity.h"

#include <cmath>
#include <limits>

namespace ofn::api {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("invalid quantity \"" + std::string(text) + "\": " + std::string(why));
}

constexpr std::string_view kForm =
    "expected a number with an optional suffix (m, k, M, G, T, Ki, Mi, Gi, Ti, or an exponent like e3)";

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  Quantity q;
  q.text_ = std::string(text);
  std::string_view s = text;
  if (s.empty()) return Bad(text, "empty");
  if (s[0] == '+' || s[0] == '-') {
    q.negative_ = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;  // all digits, integer part then fraction
  int fraction_digits = 0;
  std::size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) digits += s[i];
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      digits += s[i];
      ++fraction_digits;
    }
  }
  if (digits.empty()) return Bad(text, kForm);
  std::string_view suffix = s.substr(i);
  int exp10 = -fraction_digits;
  int exp2 = 0;
  if (suffix.empty()) {
    // a plain number
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    auto k = kBinary.find(suffix[0]);
    if (k == std::string_view::npos) return Bad(text, kForm);
    exp2 = 10 * static_cast<int>(k + 1);
  } else if (suffix.size() == 1 && std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    switch (suffix[0]) {
      case 'n':
        exp10 -= 9;
        break;
      case 'u':
        exp10 -= 6;
        break;
      case 'm':
        exp10 -= 3;
        break;
      case 'k':
        exp10 += 3;
        break;
      case 'M':
        exp10 += 6;
        break;
      case 'G':
        exp10 += 9;
        break;
      case 'T':
        exp10 += 12;
        break;
      case 'P':
        exp10 += 15;
        break;
      case 'E':
        exp10 += 18;
        break;
    }
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool neg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      neg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3 || e.find_first_not_of("0123456789") != std::string_view::npos) {
      return Bad(text, kForm);
    }
    int x = std::stoi(std::string(e));
    exp10 += neg ? -x : x;
  } else {
    return Bad(text, kForm);
  }
  // Significant digits only: leading zeros dropped, trailing ones into the exponent.
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return q;  // zero
  digits.erase(0, first);
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.size() > 18) return Bad(text, "more than 18 significant digits");
  q.mantissa_ = std::stoull(digits);
  q.exp10_ = exp10;
  q.exp2_ = exp2;
  return q;
}

Result<std::int64_t> Quantity::Scaled(int scale10) const {
  if (mantissa_ == 0) return std::int64_t{0};
  const __int128 max = std::numeric_limits<std::int64_t>::max();
  auto overflow = [&] { return Status::InvalidArgument("quantity \"" + text_ + "\" is too large"); };
  __int128 v = mantissa_;
  for (int k = 0; k < exp2_; ++k) {
    v *= 2;
    if (v > max) return overflow();
  }
  int e = exp10_ + scale10;
  for (; e > 0; --e) {
    v *= 10;
    if (v > max) return overflow();
  }
  if (e < 0) {
    if (e < -38) {
      v = 1;  // a positive amount far below one unit still rounds up to one
    } else {
      __int128 divisor = 1;
      for (; e < 0; ++e) divisor *= 10;
      v = v / divisor + (v % divisor != 0 ? 1 : 0);  // round up, as Kubernetes does
    }
  }
  return static_cast<std::int64_t>(negative_ ? -v : v);
}

Result<std::int64_t> Quantity::Value() const { return Scaled(0); }
Result<std::int64_t> Quantity::MilliValue() const { return Scaled(3); }

double Quantity::ToDouble() const {
  double v = static_cast<double>(mantissa_) * std::pow(10.0, exp10_) * std::ldexp(1.0, exp2_);
  return negative_ ? -v : v;
}

}  // namespace ofn::api

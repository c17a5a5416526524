// Kubernetes resource quantities: "500m" CPU, "128Mi" memory, "1.5", "2e3".
//
// A quantity is a signed decimal number with an optional suffix: binary
// (Ki Mi Gi Ti Pi Ei, powers of 1024), decimal (n u m k M G T P E) or an
// exponent (e3, E-2). Value() and MilliValue() round up, as Kubernetes'
// Quantity.Value() and MilliValue() do, so "0.5m" CPU is 1 millicore. At most
// 18 significant digits are accepted (more has no use for resources). A
// plain value type; thread-safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::api {

class Quantity {
 public:
  static Result<Quantity> Parse(std::string_view text);

  // ceil(value) and ceil(value * 1000); errors when beyond int64.
  Result<std::int64_t> Value() const;
  Result<std::int64_t> MilliValue() const;
  double ToDouble() const;
  bool negative() const { return negative_ && mantissa_ != 0; }
  bool zero() const { return mantissa_ == 0; }
  const std::string& text() const { return text_; }

 private:
  Result<std::int64_t> Scaled(int exp10) const;

  bool negative_ = false;
  std::uint64_t mantissa_ = 0;  // significant digits, trailing zeros moved to exp10_
  int exp10_ = 0;
  int exp2_ = 0;
  std::string text_;
};

}  // namespace ofn::api

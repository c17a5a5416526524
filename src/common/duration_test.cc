#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace ofn {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

struct Good {
  const char* text;
  nanoseconds want;
};

TEST(DurationTest, ParsesGoSyntax) {
  const Good cases[] = {
      {"0", 0ns},
      {"-0", 0ns},
      {"+0", 0ns},
      {"0s", 0ns},
      {"60s", 60s},
      {"6s", 6s},
      {"1m30s", 90s},
      {"5m0s", 5min},
      {"500ms", 500ms},
      {"300ms", 300ms},
      {"1h", 1h},
      {"1h0m0s", 1h},
      {"2h45m", 165min},
      {"1h2m3.5s", 3723500ms},
      {"1.5s", 1500ms},
      {".5s", 500ms},
      {"+.5s", 500ms},
      {"5.s", 5s},
      {"1.s", 1s},
      {"1.5h", 90min},
      {"10us", 10us},
      {"2us", 2us},
      {"10\xC2\xB5s", 10us},  // micro sign
      {"2\xC2\xB5s", 2us},
      {"10\xCE\xBCs", 10us},  // Greek mu
      {"7ns", 7ns},
      {"-2s", -2s},
      {"-1s", -1s},
      {"+3m", 3min},
      {"1s500ms", 1500ms},
      {"0.000000001s", 1ns},
      {"0.0000000019s", 1ns},  // truncates, as Go does
      {"1.000000000000000000001s", 1s},
      {"9223372036854775807ns", nanoseconds(INT64_MAX)},
      {"2562047h47m16.854775807s", nanoseconds(INT64_MAX)},
      {"-9223372036854775808ns", nanoseconds(INT64_MIN)},  // Go accepts the most negative value
      {"-2562047h47m16.854775808s", nanoseconds(INT64_MIN)},
  };
  for (const auto& c : cases) {
    auto got = ParseGoDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(got->count(), c.want.count()) << c.text;
  }
}

TEST(DurationTest, RejectsWhatGoRejects) {
  const char* bad[] = {
      "",       "-",     "+",     "s",      "10",       "1.5",     ".",     ".s",     "1x",
      "1 s",    " 1s",   "1s ",   "1sm",    "1e3s",     "1h30",    "--1s",  "1,5s",   "one second",
      "9223372036854775808ns", "2562048h", "9223372036854775807ns1ns",
      "-9223372036854775809ns", "-2562047h47m16.854775809s",
      "5",      "1d",    "1.2.3s", "9999999999h", "5m0", "ms",
  };
  for (const char* text : bad) {
    auto got = ParseGoDuration(text);
    EXPECT_FALSE(got.ok()) << "accepted \"" << text << "\"";
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(DurationTest, ErrorSaysWhatIsWrong) {
  EXPECT_EQ(ParseGoDuration("10").status().message(),
            "invalid duration \"10\": missing unit (ns, us, ms, s, m or h)");
  EXPECT_EQ(ParseGoDuration("10x").status().message(), "invalid duration \"10x\": unknown unit \"x\"");
  EXPECT_EQ(ParseGoDuration("soon").status().message(), "invalid duration \"soon\": expected a number");
  EXPECT_EQ(ParseGoDuration("2562048h").status().message(), "invalid duration \"2562048h\": out of range");
}

TEST(DurationTest, FormatsShortAndRoundTrips) {
  const Good cases[] = {
      {"0s", 0ns},       {"6s", 6s},    {"1h", 1h},         {"1m30s", 90s},       {"500ms", 500ms},
      {"1.5s", 1500ms},  {"10us", 10us}, {"7ns", 7ns},      {"-2s", -2s},         {"1h5s", 3605s},
      {"1m0.25s", 60250ms},
      {"5m", 5min},      {"1h2m3.5s", 3723500ms},             {"150ms", 150ms},     {"1500us", 1500us},
      {"-2562047h47m16.854775808s", nanoseconds(INT64_MIN)},
      {"2562047h47m16.854775807s", nanoseconds(INT64_MAX)},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FormatDuration(c.want), c.text);
    auto back = ParseGoDuration(FormatDuration(c.want));
    ASSERT_TRUE(back.ok()) << c.text;
    EXPECT_EQ(*back, c.want);
  }
}

}  // namespace
}  // namespace ofn

#include "api/duration.h"

#include <gtest/gtest.h>

namespace ofn::api {
namespace {

using std::chrono::nanoseconds;

std::int64_t Ns(std::string_view s) {
  auto d = ParseGoDuration(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status().message();
  return d.ok() ? d->count() : -1;
}

TEST(Duration, ParsesGoDurations) {
  EXPECT_EQ(Ns("0"), 0);
  EXPECT_EQ(Ns("5m0s"), 300'000'000'000);
  EXPECT_EQ(Ns("300ms"), 300'000'000);
  EXPECT_EQ(Ns("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(Ns("1h2m3.5s"), 3'723'500'000'000);
  EXPECT_EQ(Ns("2us"), 2000);
  EXPECT_EQ(Ns("2\xC2\xB5s"), 2000);
  EXPECT_EQ(Ns("7ns"), 7);
  EXPECT_EQ(Ns("-1s"), -1'000'000'000);
  EXPECT_EQ(Ns("+.5s"), 500'000'000);
  EXPECT_EQ(Ns("1.s"), 1'000'000'000);
}

TEST(Duration, Rejects) {
  for (std::string_view bad :
       {"", "5", "s", "1d", "1 s", "1s ", "-", ".s", "1.2.3s", "1sm", "9999999999h", "5m0", "ms"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << "\"" << bad << "\"";
  }
}

TEST(Duration, FormatsAsGo) {
  EXPECT_EQ(FormatGoDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(300'000'000'000)), "5m0s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(3'723'500'000'000)), "1h2m3.5s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(1'500'000)), "1.5ms");
  EXPECT_EQ(FormatGoDuration(nanoseconds(2000)), "2\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(7)), "7ns");
  EXPECT_EQ(FormatGoDuration(nanoseconds(-1'000'000'000)), "-1s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(3'600'000'000'000)), "1h0m0s");
  for (std::string_view s : {"5m0s", "1h2m3.5s", "150ms", "1h0m0s"}) {
    EXPECT_EQ(FormatGoDuration(*ParseGoDuration(s)), s);
  }
}

}  // namespace
}  // namespace ofn::api

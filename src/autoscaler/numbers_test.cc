#include "autoscaler/numbers.h"

#include <gtest/gtest.h>

namespace ofn::autoscaler {
namespace {

TEST(NumbersTest, FloatsAsGoReadsThem) {
  EXPECT_EQ(ParseFloat64("70"), 70.0);
  EXPECT_EQ(ParseFloat64("0.7"), 0.7);
  EXPECT_EQ(ParseFloat64("+1.5"), 1.5);
  EXPECT_EQ(ParseFloat64("-1"), -1.0);
  EXPECT_EQ(ParseFloat64("1e3"), 1000.0);
  EXPECT_EQ(ParseFloat64(".5"), 0.5);
  for (const char* bad : {"", "+", "abc", "1.5x", " 1", "1 ", "++1", "+-1", "nan", "inf", "-Inf", "1e999", "1,5"})
    EXPECT_EQ(ParseFloat64(bad), std::nullopt) << bad;
}

TEST(NumbersTest, Int32AsGoReadsThem) {
  EXPECT_EQ(ParseInt32("0"), 0);
  EXPECT_EQ(ParseInt32("+3"), 3);
  EXPECT_EQ(ParseInt32("-3"), -3);
  EXPECT_EQ(ParseInt32("2147483647"), 2147483647);
  for (const char* bad : {"", "1.0", "1e2", "2147483648", "-2147483649", "0x10", " 1", "three"})
    EXPECT_EQ(ParseInt32(bad), std::nullopt) << bad;
}

TEST(NumbersTest, FormatsCompactly) {
  EXPECT_EQ(FormatNumber(70), "70");
  EXPECT_EQ(FormatNumber(0.7), "0.7");
  EXPECT_EQ(FormatNumber(0.01), "0.01");
  EXPECT_EQ(FormatNumber(1000), "1000");
  EXPECT_EQ(FormatNumber(32.5), "32.5");
}

}  // namespace
}  // namespace ofn::autoscaler

#include "api/quantity.h"

#include <gtest/gtest.h>

namespace ofn::api {
namespace {

std::int64_t Milli(std::string_view s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().message();
  if (!q.ok()) return -1;
  auto v = q->MilliValue();
  EXPECT_TRUE(v.ok()) << s << ": " << v.status().message();
  return v.ok() ? *v : -1;
}

std::int64_t Value(std::string_view s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().message();
  if (!q.ok()) return -1;
  auto v = q->Value();
  EXPECT_TRUE(v.ok()) << s << ": " << v.status().message();
  return v.ok() ? *v : -1;
}

TEST(Quantity, Cpu) {
  EXPECT_EQ(Milli("500m"), 500);
  EXPECT_EQ(Milli("1"), 1000);
  EXPECT_EQ(Milli("2"), 2000);
  EXPECT_EQ(Milli("0.5"), 500);
  EXPECT_EQ(Milli("1.5"), 1500);
  EXPECT_EQ(Milli(".25"), 250);
  EXPECT_EQ(Milli("100u"), 1) << "rounds up, as Kubernetes' MilliValue";
  EXPECT_EQ(Milli("0.0001"), 1);
  EXPECT_EQ(Milli("0"), 0);
  EXPECT_EQ(Milli("0m"), 0);
  EXPECT_EQ(Milli("1e-3"), 1);
  EXPECT_EQ(Milli("+250m"), 250);
}

TEST(Quantity, Memory) {
  EXPECT_EQ(Value("128Mi"), 134217728);
  EXPECT_EQ(Value("1Gi"), 1073741824);
  EXPECT_EQ(Value("1Ki"), 1024);
  EXPECT_EQ(Value("1.5Gi"), 1610612736);
  EXPECT_EQ(Value("128M"), 128000000);
  EXPECT_EQ(Value("1k"), 1000);
  EXPECT_EQ(Value("1e3"), 1000);
  EXPECT_EQ(Value("1E3"), 1000) << "E then digits is an exponent";
  EXPECT_EQ(Value("2E"), 2000000000000000000);
  EXPECT_EQ(Value("1Ei"), 1152921504606846976);
  EXPECT_EQ(Value("12345"), 12345);
  EXPECT_EQ(Value("100m"), 1) << "Value rounds up";
  EXPECT_EQ(Value("7Ti"), 7LL << 40);
  EXPECT_EQ(Value("1000000000000000000000m"), 1000000000000000000) << "trailing zeros are exact";
}

TEST(Quantity, Signs) {
  auto q = Quantity::Parse("-1.5");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->negative());
  EXPECT_EQ(*q->MilliValue(), -1500);
  EXPECT_DOUBLE_EQ(q->ToDouble(), -1.5);
  EXPECT_FALSE(Quantity::Parse("-0")->negative());
  EXPECT_TRUE(Quantity::Parse("0.000")->zero());
}

TEST(Quantity, Rejects) {
  for (std::string_view bad : {"", "m", "Mi", "1.5.5", "abc", "1 Gi", "1gi", "1KB", "1Mii", "--1", "1e", "1e+", "1ex",
                               "0x10", "1,5", ".", "+", "1e1234", "12345678901234567890123"}) {
    auto q = Quantity::Parse(bad);
    EXPECT_FALSE(q.ok()) << "\"" << bad << "\" should not parse";
    if (!q.ok()) {
      EXPECT_NE(q.status().message().find("invalid quantity"), std::string::npos);
    }
  }
}

TEST(Quantity, Overflow) {
  auto q = Quantity::Parse("16Ei");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->Value().ok());
  q = Quantity::Parse("9E");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->Value().ok());
  EXPECT_FALSE(q->MilliValue().ok());
  q = Quantity::Parse("9e999");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->Value().ok());
  EXPECT_EQ(*Quantity::Parse("1e-999")->Value(), 1);
}

}  // namespace
}  // namespace ofn::api

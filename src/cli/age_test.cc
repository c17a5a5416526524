#include "cli/age.h"

#include <gtest/gtest.h>

namespace ofn::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(HumanDuration, MatchesKubectlAgeColumn) {
  EXPECT_EQ(HumanDuration(seconds(-5)), "<invalid>");
  EXPECT_EQ(HumanDuration(seconds(-1)), "0s");
  EXPECT_EQ(HumanDuration(seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(seconds(5)), "5s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(minutes(2)), "2m");
  EXPECT_EQ(HumanDuration(minutes(3)), "3m");
  EXPECT_EQ(HumanDuration(minutes(3) + seconds(20)), "3m20s");
  EXPECT_EQ(HumanDuration(minutes(15) + seconds(20)), "15m");
  EXPECT_EQ(HumanDuration(minutes(179)), "179m");
  EXPECT_EQ(HumanDuration(hours(2)), "120m");  // kubectl too: minutes until 3h
  EXPECT_EQ(HumanDuration(hours(3)), "3h");
  EXPECT_EQ(HumanDuration(hours(3) + minutes(5)), "3h5m");
  EXPECT_EQ(HumanDuration(hours(20)), "20h");
  EXPECT_EQ(HumanDuration(hours(47)), "47h");
  EXPECT_EQ(HumanDuration(hours(96)), "4d");
  EXPECT_EQ(HumanDuration(hours(4 * 24 + 6)), "4d6h");
  EXPECT_EQ(HumanDuration(hours(30 * 24 + 6)), "30d");
  EXPECT_EQ(HumanDuration(hours(24 * (365 * 2 + 10))), "2y10d");
  EXPECT_EQ(HumanDuration(hours(24 * 365 * 9)), "9y");
}

TEST(ParseTimestamp, Rfc3339) {
  auto t = ParseTimestamp("2026-11-26T14:00:00Z");
  ASSERT_TRUE(t);
  auto base = std::chrono::duration_cast<seconds>(t->time_since_epoch()).count();
  EXPECT_EQ(base, 1795701600);  // date -u -d 2026-11-26T14:00:00Z +%s
  auto frac = ParseTimestamp("2026-11-26T14:00:00.250Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*frac - *t).count(), 250);
  auto offset = ParseTimestamp("2026-11-26T15:30:00+01:30");
  ASSERT_TRUE(offset);
  EXPECT_EQ(*offset, *t);
  EXPECT_FALSE(ParseTimestamp(""));
  EXPECT_FALSE(ParseTimestamp("2026-11-26"));
  EXPECT_FALSE(ParseTimestamp("2026-11-26T14:00:00"));  // no zone
  EXPECT_FALSE(ParseTimestamp("2026-13-26T14:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2026-11-26T14:00:00Zjunk"));
}

TEST(AgeSince, FromCreationTimestamp) {
  auto created = *ParseTimestamp("2026-11-26T14:00:00Z");
  EXPECT_EQ(AgeSince("2026-11-26T14:00:00Z", created + seconds(5)), "5s");
  EXPECT_EQ(AgeSince("2026-11-26T14:00:00Z", created + minutes(3)), "3m");
  EXPECT_EQ(AgeSince("2026-11-26T14:00:00Z", created + hours(4)), "4h");
  EXPECT_EQ(AgeSince("2026-11-26T14:00:00Z", created + hours(96)), "4d");
  EXPECT_EQ(AgeSince("", created), "<unknown>");
  EXPECT_EQ(AgeSince("yesterday", created), "<unknown>");
}

}  // namespace
}  // namespace ofn::cli

#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace ofn {
namespace {

using namespace std::chrono;

TEST(Rfc3339, SecondsMillisecondsAndMicroseconds) {
  system_clock::time_point t{seconds(1795747884) + microseconds(123456)};  // 2026-11-27T02:51:24.123456Z
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T02:51:24Z");
  EXPECT_EQ(FormatRfc3339(t, 3), "2026-11-27T02:51:24.123Z");
  EXPECT_EQ(FormatRfc3339(t, 6), "2026-11-27T02:51:24.123456Z");
  EXPECT_EQ(FormatRfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(system_clock::time_point{} - milliseconds(1), 3), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Seconds(253402300799), "9999-12-31T23:59:59Z");
}

}  // namespace
}  // namespace ofn

#include "common/cron_schedule.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace ofn {
namespace {

namespace chr = std::chrono;
using TimePoint = CronSchedule::TimePoint;
constexpr CronDialect kDapr = CronDialect::kDapr;
constexpr CronDialect kKeda = CronDialect::kKeda;

TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return chr::sys_days(chr::year(y) / mo / d) + chr::hours(h) + chr::minutes(mi) + chr::seconds(s);
}

std::string Show(std::optional<TimePoint> t) {
  if (!t) return "never";
  auto secs = chr::floor<chr::seconds>(*t);
  auto days = chr::floor<chr::days>(secs);
  chr::year_month_day ymd(days);
  chr::hh_mm_ss hms(secs - days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  std::string out = buf;
  if (auto frac = chr::duration_cast<chr::milliseconds>(*t - secs).count()) out += "+" + std::to_string(frac) + "ms";
  return out;
}

struct NextCase {
  const char* spec;
  TimePoint after;
  std::optional<TimePoint> want;
  CronDialect dialect = kDapr;
  const char* zone = "Local";  // the zone given apart (KEDA's `timezone`)
};

void ExpectNext(const NextCase& c) {
  auto zone = TimeZone::Load(c.zone);
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  auto s = CronSchedule::Parse(c.spec, c.dialect, *zone);
  ASSERT_TRUE(s.ok()) << c.spec << ": " << s.status().ToString();
  EXPECT_EQ(Show(s->Next(c.after)), Show(c.want)) << c.spec << " after " << Show(c.after) << " in " << c.zone;
}

TEST(CronScheduleTest, FieldsInUtc) {
  const NextCase cases[] = {
      {"CRON_TZ=UTC * * * * * *", Utc(2024, 3, 1) + chr::milliseconds(500), Utc(2024, 3, 1, 0, 0, 1)},
      {"CRON_TZ=UTC * * * * *", Utc(2024, 3, 1, 10, 15, 30), Utc(2024, 3, 1, 10, 16)},  // 5 fields: second 0
      {"CRON_TZ=UTC */15 * * * * *", Utc(2024, 3, 1, 10, 15, 31), Utc(2024, 3, 1, 10, 15, 45)},
      {"CRON_TZ=UTC 5/20 * * * * *", Utc(2024, 3, 1, 10), Utc(2024, 3, 1, 10, 0, 5)},
      {"CRON_TZ=UTC 5/20 * * * * *", Utc(2024, 3, 1, 10, 0, 45), Utc(2024, 3, 1, 10, 1, 5)},
      {"CRON_TZ=UTC 0 30 9-17/4 * * *", Utc(2024, 3, 1, 10), Utc(2024, 3, 1, 13, 30)},
      {"CRON_TZ=UTC 0 0,30 8,20 * * *", Utc(2024, 3, 1, 8, 30), Utc(2024, 3, 1, 20)},
      {"CRON_TZ=UTC 0 0 12 * * MON-FRI", Utc(2024, 3, 2), Utc(2024, 3, 4, 12)},  // Saturday -> Monday
      {"CRON_TZ=UTC 0 0 0 1,15 * *", Utc(2024, 3, 1), Utc(2024, 3, 15)},
      {"CRON_TZ=UTC 0 0 0 1 jan,JUL *", Utc(2024, 3, 1), Utc(2024, 7, 1)},
      {"CRON_TZ=UTC 0 0 0 31 * *", Utc(2024, 4, 1), Utc(2024, 5, 31)},
      {"CRON_TZ=UTC 0 0 0 29 feb *", Utc(2024, 3, 1), Utc(2028, 2, 29)},
      {"CRON_TZ=UTC 0 0 0 1 1 *", Utc(2024, 12, 31, 23, 59, 59), Utc(2025, 1, 1)},
      {"CRON_TZ=UTC 0 0 12 * * *", Utc(2024, 3, 1, 12), Utc(2024, 3, 2, 12)},  // strictly after
      {"CRON_TZ=UTC 0 0 0 30 2 *", Utc(2024, 3, 1), std::nullopt},
      {"CRON_TZ=UTC 0 0 0 31 4,6,9,11 *", Utc(2024, 3, 1), std::nullopt},
      // KEDA's dialect: minute resolution, zone given apart. 2025-06-07 is a Saturday.
      {"30 9 * * MON-FRI", Utc(2025, 6, 7, 12), Utc(2025, 6, 9, 9, 30), kKeda, "UTC"},
      {"30 9 * * *", Utc(2025, 6, 9, 9, 30), Utc(2025, 6, 10, 9, 30), kKeda, "UTC"},  // strictly after
      {"30 9 * * *", Utc(2025, 6, 9, 9, 29, 59), Utc(2025, 6, 9, 9, 30), kKeda, "UTC"},
      {"50/20 * * * *", Utc(2025, 6, 9, 9, 51), Utc(2025, 6, 9, 10, 50), kKeda, "UTC"},  // N/step: N to the max
      {"*/20 * * * *", Utc(2025, 6, 9, 9, 41), Utc(2025, 6, 9, 10), kKeda, "UTC"},
      {"0 0 1 jan,JUL *", Utc(2025, 6, 9), Utc(2025, 7, 1), kKeda, "UTC"},
      {"0 0 30 2 *", Utc(2025, 6, 9), std::nullopt, kKeda, "UTC"},
  };
  for (const auto& c : cases) ExpectNext(c);
}

TEST(CronScheduleTest, DayOfMonthAndDayOfWeek) {
  // 2024-03-01 is a Friday, and so is 2025-07-04.
  const NextCase cases[] = {
      // Both restricted: either matches.
      {"CRON_TZ=UTC 0 0 0 13 * fri", Utc(2024, 3, 1), Utc(2024, 3, 8)},
      {"CRON_TZ=UTC 0 0 0 13 * fri", Utc(2024, 3, 8), Utc(2024, 3, 13)},
      {"0 0 13 * FRI", Utc(2025, 7, 1), Utc(2025, 7, 4), kKeda, "UTC"},
      // A step above 1 makes a star field restricted.
      {"CRON_TZ=UTC 0 0 0 13 * */2", Utc(2024, 3, 1), Utc(2024, 3, 2)},
      // One side * or ?: both must match.
      {"CRON_TZ=UTC 0 0 0 13 * ?", Utc(2024, 3, 1), Utc(2024, 3, 13)},
      {"CRON_TZ=UTC 0 0 0 ? * 5", Utc(2024, 3, 1), Utc(2024, 3, 8)},
      {"CRON_TZ=UTC 0 0 0 13 * */1", Utc(2024, 3, 1), Utc(2024, 3, 13)},
      {"CRON_TZ=UTC 0 0 0 13 * 5", Utc(2024, 3, 8), Utc(2024, 3, 13)},
      {"CRON_TZ=UTC 0 0 0 * * sun", Utc(2024, 3, 1), Utc(2024, 3, 3)},
      {"0 0 13 * *", Utc(2025, 7, 1), Utc(2025, 7, 13), kKeda, "UTC"},
      {"0 0 * * FRI", Utc(2025, 7, 1), Utc(2025, 7, 4), kKeda, "UTC"},
      {"0 0 ? * 5", Utc(2025, 7, 5), Utc(2025, 7, 11), kKeda, "UTC"},
  };
  for (const auto& c : cases) ExpectNext(c);
}

TEST(CronScheduleTest, Descriptors) {
  const NextCase cases[] = {
      {"CRON_TZ=UTC @yearly", Utc(2024, 3, 1), Utc(2025, 1, 1)},
      {"CRON_TZ=UTC @annually", Utc(2024, 3, 1), Utc(2025, 1, 1)},
      {"CRON_TZ=UTC @monthly", Utc(2024, 3, 1), Utc(2024, 4, 1)},
      {"CRON_TZ=UTC @weekly", Utc(2024, 3, 1), Utc(2024, 3, 3)},
      {"CRON_TZ=UTC @daily", Utc(2024, 3, 1, 5), Utc(2024, 3, 2)},
      {"CRON_TZ=UTC @midnight", Utc(2024, 3, 1, 5), Utc(2024, 3, 2)},
      // Wall-clock hours, not "an hour from start".
      {"CRON_TZ=UTC @hourly", Utc(2024, 3, 1, 10, 15, 20), Utc(2024, 3, 1, 11)},
  };
  for (const auto& c : cases) ExpectNext(c);
}

TEST(CronScheduleTest, EveryCountsFromTheGivenInstantAtMillisecondResolution) {
  const TimePoint t0 = Utc(2024, 3, 1) + chr::microseconds(250'700);
  const NextCase cases[] = {
      {"@every 2s", t0, Utc(2024, 3, 1, 0, 0, 2) + chr::milliseconds(250)},
      {"@every 1h30m", t0, Utc(2024, 3, 1, 1, 30) + chr::milliseconds(250)},
      {"@every 1.5ms", t0, Utc(2024, 3, 1) + chr::milliseconds(251)},  // sub-ms part dropped
      {"@every 500us", t0, Utc(2024, 3, 1) + chr::milliseconds(251)},  // below 1 ms: 1 ms
      {"TZ=Asia/Tokyo @every 10s", t0, Utc(2024, 3, 1, 0, 0, 10) + chr::milliseconds(250)},
  };
  for (const auto& c : cases) ExpectNext(c);
}

TEST(CronScheduleTest, TimeZones) {
  const NextCase cases[] = {
      {"CRON_TZ=America/New_York 0 30 4 * * *", Utc(2024, 1, 10), Utc(2024, 1, 10, 9, 30)},  // EST
      {"CRON_TZ=America/New_York 0 30 4 * * *", Utc(2024, 7, 10), Utc(2024, 7, 10, 8, 30)},  // EDT
      {"TZ=Asia/Tokyo 0 0 9 * * *", Utc(2024, 3, 1, 0, 0, 1), Utc(2024, 3, 2)},
      {"CRON_TZ=Asia/Kathmandu @daily", Utc(2024, 3, 1), Utc(2024, 3, 1, 18, 15)},  // +05:45
      {"CRON_TZ=Asia/Tokyo 0 0 0 1 * *", Utc(2024, 2, 29, 16), Utc(2024, 3, 31, 15)},
      // A prefix overrides the zone given apart.
      {"CRON_TZ=Asia/Tokyo 0 0 9 * * *", Utc(2024, 3, 1, 0, 0, 1), Utc(2024, 3, 2), kDapr, "Europe/Berlin"},
      {"0 0 9 * * *", Utc(2024, 3, 1, 0, 0, 1), Utc(2024, 3, 1, 8), kDapr, "Europe/Berlin"},
      // Past the last transition in the zone file: the footer's POSIX rule applies.
      {"CRON_TZ=Europe/Berlin 0 0 12 1 7 *", Utc(2040, 1, 1), Utc(2040, 7, 1, 10)},
      {"CRON_TZ=Australia/Sydney 0 0 12 1 1 *", Utc(2045, 6, 1), Utc(2046, 1, 1, 1)},  // AEDT +11
      {"CRON_TZ=Australia/Sydney 0 0 12 1 7 *", Utc(2045, 1, 1), Utc(2045, 7, 1, 2)},  // AEST +10
      // 06:00 in Berlin is 05:00 UTC in winter and 04:00 UTC in summer.
      {"0 6 * * *", Utc(2025, 3, 29, 12), Utc(2025, 3, 30, 4), kKeda, "Europe/Berlin"},
      {"0 6 * * *", Utc(2025, 3, 28, 12), Utc(2025, 3, 29, 5), kKeda, "Europe/Berlin"},
  };
  for (const auto& c : cases) ExpectNext(c);
}

// robfig/cron v3's behaviour in both dialects. (The KEDA implementation this
// replaced fired a skipped time an hour late and a repeated one once.)
TEST(CronScheduleTest, DaylightSavingChanges) {
  const NextCase cases[] = {
      // New York 2024-03-10 02:00 EST -> 03:00 EDT: 02:30 does not exist that day.
      {"CRON_TZ=America/New_York 0 30 2 * * *", Utc(2024, 3, 9, 12), Utc(2024, 3, 11, 6, 30)},
      {"CRON_TZ=America/New_York 0 0 3 * * *", Utc(2024, 3, 9, 12), Utc(2024, 3, 10, 7)},
      // New York 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 happens twice and fires twice.
      {"CRON_TZ=America/New_York 0 30 1 * * *", Utc(2024, 11, 3, 4), Utc(2024, 11, 3, 5, 30)},
      {"CRON_TZ=America/New_York 0 30 1 * * *", Utc(2024, 11, 3, 5, 30), Utc(2024, 11, 3, 6, 30)},
      {"CRON_TZ=America/New_York 0 30 1 * * *", Utc(2024, 11, 3, 6, 30), Utc(2024, 11, 4, 6, 30)},
      {"CRON_TZ=America/New_York @hourly", Utc(2024, 11, 3, 5), Utc(2024, 11, 3, 6)},
      // Sao Paulo 2018-11-04 00:00 -> 01:00: that day has no midnight.
      {"CRON_TZ=America/Sao_Paulo @daily", Utc(2018, 11, 3, 12), Utc(2018, 11, 5, 2)},
      {"CRON_TZ=America/Sao_Paulo 0 0 1 * * *", Utc(2018, 11, 3, 12), Utc(2018, 11, 4, 3)},
      // Berlin 2040-03-25 (from the footer rule): 02:30 skipped.
      {"CRON_TZ=Europe/Berlin 0 30 2 * * *", Utc(2040, 3, 24, 12), Utc(2040, 3, 26, 0, 30)},
      // The same in KEDA's dialect: Berlin 2025-03-30 skips 02:30; 2025-10-26 repeats it.
      {"30 2 * * *", Utc(2025, 3, 30), Utc(2025, 3, 31, 0, 30), kKeda, "Europe/Berlin"},
      {"30 2 * * *", Utc(2025, 10, 25, 12), Utc(2025, 10, 26, 0, 30), kKeda, "Europe/Berlin"},
      {"30 2 * * *", Utc(2025, 10, 26, 0, 30), Utc(2025, 10, 26, 1, 30), kKeda, "Europe/Berlin"},
      {"30 2 * * *", Utc(2025, 10, 26, 1, 30), Utc(2025, 10, 27, 1, 30), kKeda, "Europe/Berlin"},
  };
  for (const auto& c : cases) ExpectNext(c);
}

// Restores $TZ when the test ends.
class ScopedTz {
 public:
  explicit ScopedTz(const char* value) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    value ? setenv("TZ", value, 1) : unsetenv("TZ");
  }
  ~ScopedTz() { old_ ? setenv("TZ", old_->c_str(), 1) : unsetenv("TZ"); }

 private:
  std::optional<std::string> old_;
};

TEST(CronScheduleTest, ZoneName) {
  ScopedTz tz("Asia/Tokyo");
  EXPECT_EQ(CronSchedule::Parse("CRON_TZ=Europe/Berlin * * * * *")->zone().name(), "Europe/Berlin");
  EXPECT_EQ(CronSchedule::Parse("TZ=UTC @daily")->zone().name(), "UTC");
  EXPECT_EQ(CronSchedule::Parse("* * * * *")->zone().name(), "Local");
  EXPECT_EQ(CronSchedule::Parse("* * * * *", kKeda, *TimeZone::Load("Asia/Kolkata"))->zone().name(), "Asia/Kolkata");
}

TEST(CronScheduleTest, WithoutPrefixTheProcessZoneApplies) {
  {
    ScopedTz tz("Asia/Tokyo");
    ExpectNext({"0 0 9 * * *", Utc(2024, 3, 1, 0, 0, 1), Utc(2024, 3, 2)});
  }
  {
    ScopedTz tz(":America/New_York");
    ExpectNext({"0 30 4 * * *", Utc(2024, 1, 10), Utc(2024, 1, 10, 9, 30)});
  }
  {
    ScopedTz tz("");  // empty: UTC, as in Go
    ExpectNext({"0 0 9 * * *", Utc(2024, 3, 1, 0, 0, 1), Utc(2024, 3, 1, 9)});
  }
}

TEST(CronScheduleTest, ParseErrorsNameTheFieldAndToken) {
  const struct {
    const char* spec;
    const char* want;
    CronDialect dialect = kDapr;
  } cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"* * * *", "expected 5 or 6 fields, found 4"},
      {"* * * * * * *", "expected 5 or 6 fields, found 7"},
      {"60 * * * * *", "second field \"60\": 60 is above the maximum 59"},
      {"0 61 * * * *", "minute field \"61\": 61 is above the maximum 59"},
      {"0 0 24 * * *", "hour field \"24\": 24 is above the maximum 23"},
      {"0 0 0 0 * *", "day-of-month field \"0\": 0 is below the minimum 1"},
      {"0 0 0 * 13 *", "month field \"13\": 13 is above the maximum 12"},
      {"0 0 0 * foo *", "month field \"foo\": foo is not a number or a name"},
      {"0 0 0 * * 7", "day-of-week field \"7\": 7 is above the maximum 6"},
      {"0 0 0 * * mon-", "day-of-week field \"mon-\": a number is missing"},
      {"0 0 0 * * *-5", "day-of-week field \"*-5\": * is not a number or a name"},
      {"*/0 * * * * *", "second field \"*/0\": step must be a positive number"},
      {"0 1/x * * * *", "minute field \"1/x\": step must be a positive number"},
      {"0 5-3 * * * *", "minute field \"5-3\": range start 5 is beyond its end 3"},
      {"0 -1 * * * *", "minute field \"-1\": a number is missing"},
      {"0 1,,2 * * * *", "minute field \"1,,2\": empty list item"},
      {"0 x * * *", "hour field \"x\": x is not a number"},
      {"@often", "unknown descriptor @often"},
      {"@every", "@every needs a duration"},
      {"@every soon", "invalid duration \"soon\""},
      {"CRON_TZ=Mars/Olympus * * * * *", "unknown time zone \"Mars/Olympus\""},
      {"TZ=../../etc/passwd * * * * *", "invalid time zone name"},
      {"CRON_TZ=UTC", "time zone prefix is not followed by a schedule"},
      // KEDA's dialect: what robfig's 5-field parser without descriptors rejects.
      {"", "empty", kKeda},
      {"0-60 * * * *", "minute field \"0-60\": 60 is above the maximum 59", kKeda},
      {"* * 0 * *", "day-of-month field \"0\": 0 is below the minimum 1", kKeda},
      {"5-1 * * * *", "minute field \"5-1\": range start 5 is beyond its end 1", kKeda},
      {"*/0 * * * *", "minute field \"*/0\": step must be a positive number", kKeda},
      {"x * * * *", "minute field \"x\": x is not a number", kKeda},
      {"0 0 * * 7", "day-of-week field \"7\": 7 is above the maximum 6", kKeda},
      {"0 9 * *", "expected exactly 5 fields, found 4", kKeda},
      {"0 * * * * *", "expected exactly 5 fields, found 6", kKeda},
      {"@daily", "descriptors are not accepted here", kKeda},
      {"@every 1m", "descriptors are not accepted here", kKeda},
      {"CRON_TZ=UTC 0 9 * * *", "no CRON_TZ=/TZ= prefix here", kKeda},
  };
  for (const auto& c : cases) {
    auto s = CronSchedule::Parse(c.spec, c.dialect);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.spec;
    EXPECT_NE(s.status().message().find("schedule \"" + std::string(c.spec) + "\": "), std::string::npos)
        << s.status().message();
    EXPECT_NE(s.status().message().find(c.want), std::string::npos) << c.spec << " -> " << s.status().message();
  }
}

}  // namespace
}  // namespace ofn

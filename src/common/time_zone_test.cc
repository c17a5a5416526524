#include "common/time_zone.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/cron_schedule.h"

namespace ofn {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

sys_seconds At(year_month_day d, hours h = 0h, minutes m = 0min, seconds s = 0s) {
  return sys_seconds(sys_days(d)) + h + m + s;
}

TimeZone Zone(const char* name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? *z : TimeZone();
}

// Sets $TZ for a scope and restores it afterwards.
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

TEST(TimeZoneTest, OffsetsFollowTheTableAndTheFooterRuleBeyondIt) {
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.name(), "Europe/Berlin");
  EXPECT_EQ(berlin.OffsetAt(At(2024y / January / 15)), 3600);
  // Summer time starts and ends at 01:00 UTC on the last Sundays of March and October.
  EXPECT_EQ(berlin.OffsetAt(At(2024y / March / 31, 1h) - 1s), 3600);
  EXPECT_EQ(berlin.OffsetAt(At(2024y / March / 31, 1h)), 7200);
  EXPECT_EQ(berlin.OffsetAt(At(2024y / October / 27, 1h) - 1s), 7200);
  EXPECT_EQ(berlin.OffsetAt(At(2024y / October / 27, 1h)), 3600);
  EXPECT_EQ(berlin.OffsetAt(At(1800y / January / 1)), 3208);  // local mean time before 1893
  // Past the table (2037), the POSIX TZ footer decides: north and south.
  EXPECT_EQ(berlin.OffsetAt(At(2050y / July / 1)), 7200);
  EXPECT_EQ(berlin.OffsetAt(At(2050y / December / 1)), 3600);
  EXPECT_EQ(berlin.OffsetAt(At(2099y / July / 1)), 7200);
  const TimeZone sydney = Zone("Australia/Sydney");
  EXPECT_EQ(sydney.OffsetAt(At(2050y / January / 1)), 11 * 3600);
  EXPECT_EQ(sydney.OffsetAt(At(2050y / July / 1)), 10 * 3600);
  EXPECT_EQ(Zone("Asia/Kolkata").OffsetAt(At(2025y / June / 1)), 5 * 3600 + 1800);
  EXPECT_EQ(Zone("UTC").OffsetAt(At(2025y / June / 1)), 0);
  EXPECT_EQ(TimeZone().name(), "UTC");
}

TEST(TimeZoneTest, WallTimesInGapsAndOverlaps) {
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.FromLocal(At(2025y / January / 15, 12h)), At(2025y / January / 15, 11h));
  // 02:30 does not exist on 2025-03-30: it reads as 03:30 CEST, Go's choice.
  EXPECT_EQ(berlin.FromLocal(At(2025y / March / 30, 2h, 30min)), At(2025y / March / 30, 1h, 30min));
  // 02:30 happens twice on 2025-10-26: the earlier one (CEST).
  EXPECT_EQ(berlin.FromLocal(At(2025y / October / 26, 2h, 30min)), At(2025y / October / 26, 0h, 30min));
}

TEST(TimeZoneTest, UnknownAndUnsafeNames) {
  auto missing = TimeZone::Load("Mars/Olympus_Mons");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("unknown time zone \"Mars/Olympus_Mons\""), std::string::npos);
  EXPECT_EQ(TimeZone::Load("Europe").status().code(), StatusCode::kNotFound);  // a directory
  EXPECT_EQ(TimeZone::Load("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TimeZone::Load("/etc/localtime").status().code(), StatusCode::kInvalidArgument);
  // A file that exists but is not TZif.
  auto not_tzif = TimeZone::Load("zone.tab");
  EXPECT_EQ(not_tzif.status().code(), StatusCode::kInvalidArgument) << not_tzif.status().ToString();
  EXPECT_NE(not_tzif.status().message().find("zone.tab is not a valid TZif file"), std::string::npos)
      << not_tzif.status().ToString();
}

TEST(TimeZoneTest, LocalFollowsTz) {
  {
    ScopedTz tz(":America/New_York");
    const TimeZone local = TimeZone::Local();
    EXPECT_EQ(local.name(), "Local");
    EXPECT_EQ(local.OffsetAt(At(2024y / January / 10)), -5 * 3600);
    EXPECT_EQ(Zone("Local").OffsetAt(At(2024y / July / 10)), -4 * 3600);
  }
  {
    ScopedTz tz("");  // empty: UTC, as in Go
    EXPECT_EQ(TimeZone::Local().OffsetAt(At(2024y / July / 10)), 0);
  }
}

// A version-2 TZif file with no transitions: its footer rule decides every offset.
std::string TzifWithOnlyARule(std::string_view rule) {
  auto be32 = [](int32_t v) {
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((static_cast<uint32_t>(v) >> (24 - 8 * i)) & 0xff);
    return out;
  };
  std::string header = "TZif2" + std::string(15, '\0');
  for (int32_t count : {0, 0, 0, 0, 1, 4}) header += be32(count);  // isut isstd leap time type chars
  const std::string data = be32(-3 * 3600) + std::string("\0\0", 2) + std::string("-03\0", 4);
  return header + data + header + data + "\n" + std::string(rule) + "\n";
}

// A file in a fresh directory, both removed at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string dir = (std::filesystem::temp_directory_path() / "ofn-tz-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = dir;
    std::ofstream(path(), std::ios::binary) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_ + "/zone"; }

 private:
  std::string dir_;
};

TEST(TimeZoneTest, FooterRulesWithJulianDaysFromAZoneFileNamedByTz) {
  // DST from March 1 (J60 never counts February 29) to zero-based day 300, both at local midnight.
  const TempFile file(TzifWithOnlyARule("<-03>3<-02>,J60/0,300/0"));
  ScopedTz tz(file.path().c_str());
  const TimeZone zone = TimeZone::Local();
  EXPECT_EQ(zone.OffsetAt(At(2025y / March / 1, 2h, 59min, 59s)), -3 * 3600);
  EXPECT_EQ(zone.OffsetAt(At(2025y / March / 1, 3h)), -2 * 3600);
  EXPECT_EQ(zone.OffsetAt(At(2025y / October / 28, 1h, 59min, 59s)), -2 * 3600);  // 2025: day 300 is October 28
  EXPECT_EQ(zone.OffsetAt(At(2025y / October / 28, 2h)), -3 * 3600);
  EXPECT_EQ(zone.OffsetAt(At(2024y / February / 29, 12h)), -3 * 3600);  // leap year: still March 1
  EXPECT_EQ(zone.OffsetAt(At(2024y / March / 1, 3h)), -2 * 3600);
  EXPECT_EQ(zone.OffsetAt(At(2024y / October / 27, 2h)), -3 * 3600);  // 2024: day 300 is October 27
  auto noon = CronSchedule::Parse("0 0 12 * * *");  // no prefix: the process's zone
  ASSERT_TRUE(noon.ok()) << noon.status().ToString();
  EXPECT_EQ(noon->Next(At(2025y / June / 1)), At(2025y / June / 1, 14h));
}

TEST(TimeZoneTest, MalformedFooterRule) {
  const TempFile file(TzifWithOnlyARule("<-03>3<-02>,M13.1.0,M10.5.0"));
  ScopedTz tz(file.path().c_str());
  // Local() falls back to UTC rather than guessing.
  EXPECT_EQ(TimeZone::Local().OffsetAt(At(2025y / June / 1)), 0);
}

}  // namespace
}  // namespace ofn

// CronSchedule: when a cron expression fires next, following robfig/cron v3,
// in one of the two dialects Ofn meets:
//  - CronDialect::kDapr, Dapr's `bindings.cron` (the robfig fork in dapr/kit):
//      [CRON_TZ=Area/City |TZ=Area/City ] fields-or-descriptor
//    with fields `sec min hour dom month dow` (6) or `min hour dom month dow`
//    (5, seconds 0); descriptors @yearly/@annually, @monthly, @weekly,
//    @daily/@midnight, @hourly (fixed wall-clock points) and `@every <Go
//    duration>` (every d from the moment given to Next, truncated to the
//    millisecond; below 1 ms counts as 1 ms).
//  - CronDialect::kKeda, KEDA's cron trigger: exactly the 5 fields `min hour
//    dom month dow`; no descriptors and no prefix (the zone is given apart).
// Each field is a comma list of `*`, `?`, `a`, `a-b`, `*/n`, `a/n` (a to the
// field's maximum) or `a-b/n`; months and weekdays may be named (jan..dec,
// sun..sat, any case); weekdays are 0-6 (Sunday 0). When both day-of-month
// and day-of-week are restricted (neither starts with `*` or `?`, or a step
// above 1 follows it), a day matching either fires; otherwise both must match.
//
// Fields are matched on the wall clock of the schedule's zone. Daylight-saving
// changes behave as in robfig/cron v3: a time that a spring-forward gap skips
// does not fire that day, and one that a fall-back repeats fires twice.
//
// Thread-safety: an immutable value once parsed; any number of threads may
// use it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/time_zone.h"
#include "ofn/status.h"

namespace ofn {

enum class CronDialect { kDapr, kKeda };

class CronSchedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // `zone` is where the fields are evaluated unless a Dapr CRON_TZ=/TZ= prefix
  // names another (robfig's WithLocation); by default the process's zone.
  // InvalidArgument quoting the schedule and naming the field and token at
  // fault, e.g. `schedule "0 61 * * *": minute field "61": 61 is above the maximum 59`.
  static Result<CronSchedule> Parse(std::string_view spec, CronDialect dialect = CronDialect::kDapr,
                                    TimeZone zone = TimeZone::Local());

  // The first firing strictly after `after`; nullopt if none within five
  // years (e.g. "0 0 30 2 *"), like robfig/cron's zero time.
  std::optional<TimePoint> Next(TimePoint after) const;

  const TimeZone& zone() const { return zone_; }

 private:
  struct Fields {
    uint64_t second = 0, minute = 0, hour = 0, dom = 0, month = 0, dow = 0;  // bit i: value i matches
    bool dom_any = false, dow_any = false;  // the field started with * or ? (and had no step > 1)
  };

  CronSchedule() = default;
  std::optional<TimePoint> NextWallClock(TimePoint after) const;
  bool DayMatches(unsigned dom, unsigned dow) const;

  TimeZone zone_;
  std::chrono::milliseconds every_{0};  // > 0: an @every schedule; fields_ unused
  Fields fields_;
};

}  // namespace ofn

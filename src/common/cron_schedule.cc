#include "common/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <tuple>
#include <vector>

#include "common/duration.h"

namespace ofn {

namespace chr = std::chrono;
using chr::sys_seconds;

namespace {

struct FieldSpec {
  const char* name;
  int min, max;
  const char* const* names;  // lower-case names for min, min+1, ...; may be null
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr FieldSpec kSecond{"second", 0, 59, nullptr};
constexpr FieldSpec kMinute{"minute", 0, 59, nullptr};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr};
constexpr FieldSpec kDom{"day-of-month", 1, 31, nullptr};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames};
constexpr FieldSpec kDow{"day-of-week", 0, 6, kDayNames};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ParseUint(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

struct FieldError {
  std::string item, reason;
};

// The reason `token` is not a value of the field, or nullopt with *out set.
std::optional<std::string> ParseValue(std::string_view token, const FieldSpec& f, int* out) {
  if (f.names) {
    const std::string lower = Lower(token);
    for (int i = 0; f.names[i]; ++i) {
      if (lower == f.names[i]) {
        *out = f.min + i;
        return std::nullopt;
      }
    }
  }
  const std::string t(token);
  if (token.empty()) return std::string("a number is missing");
  if (!ParseUint(token, out)) return t + (f.names ? " is not a number or a name" : " is not a number");
  if (*out < f.min) return t + " is below the minimum " + std::to_string(f.min);
  if (*out > f.max) return t + " is above the maximum " + std::to_string(f.max);
  return std::nullopt;
}

// One list item: `*`, `?`, `a`, `a-b`, each optionally followed by `/step`.
// Sets *any for a star without a step above 1 (robfig's starBit).
std::optional<FieldError> ParseItem(std::string_view item, const FieldSpec& f, uint64_t* bits, bool* any) {
  auto fail = [&](std::string reason) { return FieldError{std::string(item), std::move(reason)}; };
  std::string_view range = item;
  int step = 1;
  bool has_step = false;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    if (!ParseUint(item.substr(slash + 1), &step) || step == 0) return fail("step must be a positive number");
    has_step = true;
  }
  int lo = f.min, hi = f.max;
  if (range == "*" || range == "?") {
    *any = *any || step == 1;
  } else {
    const size_t dash = range.find('-');
    if (auto reason = ParseValue(range.substr(0, dash), f, &lo)) return fail(*reason);
    hi = lo;
    if (dash != std::string_view::npos) {
      if (auto reason = ParseValue(range.substr(dash + 1), f, &hi)) return fail(*reason);
      if (lo > hi) return fail("range start " + std::to_string(lo) + " is beyond its end " + std::to_string(hi));
    } else if (has_step) {
      hi = f.max;  // "a/n" runs from a to the field's maximum
    }
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return std::nullopt;
}

Status ParseField(std::string_view spec, std::string_view text, const FieldSpec& f, uint64_t* bits, bool* any) {
  *bits = 0;
  *any = false;
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    const std::string_view item = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    std::optional<FieldError> e = item.empty()
                                      ? std::optional<FieldError>(FieldError{std::string(text), "empty list item"})
                                      : ParseItem(item, f, bits, any);
    if (e) {
      return Status::InvalidArgument("schedule \"" + std::string(spec) + "\": " + f.name + " field \"" + e->item +
                                     "\": " + e->reason);
    }
    if (comma == std::string_view::npos) return Status::Ok();
    pos = comma + 1;
  }
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitSpace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Descriptors as the field text they stand for.
std::optional<std::string_view> DescriptorFields(std::string_view d) {
  if (d == "@yearly" || d == "@annually") return "0 0 0 1 1 *";
  if (d == "@monthly") return "0 0 0 1 * *";
  if (d == "@weekly") return "0 0 0 * * 0";
  if (d == "@daily" || d == "@midnight") return "0 0 0 * * *";
  if (d == "@hourly") return "0 0 * * * *";
  return std::nullopt;
}

struct Civil {
  chr::year_month_day date;
  int hour, minute, second;
  unsigned weekday;  // 0 = Sunday
};

// The wall clock of `zone` at `t`.
Civil CivilAt(const TimeZone& zone, sys_seconds t) {
  const sys_seconds local = t + chr::seconds(zone.OffsetAt(t));
  const chr::sys_days day = chr::floor<chr::days>(local);
  const chr::hh_mm_ss hms(local - day);
  return Civil{chr::year_month_day(day), static_cast<int>(hms.hours().count()),
               static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
               chr::weekday(day).c_encoding()};
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec, CronDialect dialect, TimeZone zone) {
  const std::string quoted = "schedule \"" + std::string(spec) + "\"";
  const bool dapr = dialect == CronDialect::kDapr;
  std::string_view rest = Trim(spec);
  if (rest.empty()) return Status::InvalidArgument(quoted + ": empty");

  CronSchedule s;
  s.zone_ = std::move(zone);
  if (rest.starts_with("TZ=") || rest.starts_with("CRON_TZ=")) {
    if (!dapr) return Status::InvalidArgument(quoted + ": no CRON_TZ=/TZ= prefix here; the zone is given apart");
    const size_t space = std::find_if(rest.begin(), rest.end(), IsSpace) - rest.begin();
    if (space == rest.size()) {
      return Status::InvalidArgument(quoted + ": time zone prefix is not followed by a schedule");
    }
    const size_t eq = rest.find('=');
    auto prefixed = TimeZone::Load(rest.substr(eq + 1, space - eq - 1));
    if (!prefixed.ok()) return Status::InvalidArgument(quoted + ": " + prefixed.status().message());
    s.zone_ = std::move(prefixed).value();
    rest = Trim(rest.substr(space));
  }

  if (rest.starts_with("@")) {
    if (!dapr) return Status::InvalidArgument(quoted + ": descriptors are not accepted here, only 5 fields");
    if (rest == "@every") return Status::InvalidArgument(quoted + ": @every needs a duration such as 2s");
    if (rest.starts_with("@every ")) {
      auto d = ParseGoDuration(Trim(rest.substr(7)));
      if (!d.ok()) return Status::InvalidArgument(quoted + ": " + d.status().message());
      s.every_ = std::max(chr::milliseconds(1), chr::duration_cast<chr::milliseconds>(*d));
      return s;
    }
    auto fields = DescriptorFields(rest);
    if (!fields) return Status::InvalidArgument(quoted + ": unknown descriptor " + std::string(rest));
    rest = *fields;
  }

  std::vector<std::string_view> fields = SplitSpace(rest);
  if (!dapr && fields.size() != 5) {
    return Status::InvalidArgument(quoted + ": expected exactly 5 fields, found " + std::to_string(fields.size()));
  }
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  if (fields.size() != 6) {
    return Status::InvalidArgument(quoted + ": expected 5 or 6 fields, found " + std::to_string(fields.size()));
  }
  Fields& f = s.fields_;
  bool ignored = false;
  for (auto [text, field, bits, any] :
       {std::tuple{fields[0], &kSecond, &f.second, &ignored}, std::tuple{fields[1], &kMinute, &f.minute, &ignored},
        std::tuple{fields[2], &kHour, &f.hour, &ignored}, std::tuple{fields[3], &kDom, &f.dom, &f.dom_any},
        std::tuple{fields[4], &kMonth, &f.month, &ignored}, std::tuple{fields[5], &kDow, &f.dow, &f.dow_any}}) {
    if (Status st = ParseField(spec, text, *field, bits, any); !st.ok()) return st;
  }
  return s;
}

bool CronSchedule::DayMatches(unsigned dom, unsigned dow) const {
  const bool dom_match = (fields_.dom >> dom) & 1;
  const bool dow_match = (fields_.dow >> dow) & 1;
  // Both restricted: either day fires (cron's traditional rule); otherwise both must match.
  if (fields_.dom_any || fields_.dow_any) return dom_match && dow_match;
  return dom_match || dow_match;
}

std::optional<CronSchedule::TimePoint> CronSchedule::Next(TimePoint after) const {
  if (every_.count() > 0) return chr::floor<chr::milliseconds>(after) + every_;
  return NextWallClock(after);
}

std::optional<CronSchedule::TimePoint> CronSchedule::NextWallClock(TimePoint after) const {
  // Candidates only move forward, so the search ends.
  auto advance_to = [](sys_seconds t, sys_seconds candidate) { return std::max(candidate, t + chr::seconds(1)); };

  sys_seconds t = chr::floor<chr::seconds>(after) + chr::seconds(1);
  const chr::year year_limit = CivilAt(zone_, t).date.year() + chr::years(5);
  while (true) {
    const Civil c = CivilAt(zone_, t);
    if (c.date.year() > year_limit) return std::nullopt;
    if (!((fields_.month >> static_cast<unsigned>(c.date.month())) & 1)) {
      const chr::sys_days first_of_next = (c.date.year() / c.date.month() + chr::months(1)) / 1;
      t = advance_to(t, zone_.FromLocal(first_of_next));
      continue;
    }
    if (!DayMatches(static_cast<unsigned>(c.date.day()), c.weekday)) {
      t = advance_to(t, zone_.FromLocal(chr::sys_days(c.date) + chr::days(1)));
      continue;
    }
    // Hours, minutes and seconds step in real time, so a wall-clock hour that
    // a DST change skips never matches and one it repeats matches twice.
    if (!((fields_.hour >> c.hour) & 1)) {
      t = advance_to(t, t - chr::minutes(c.minute) - chr::seconds(c.second) + chr::hours(1));
      continue;
    }
    if (!((fields_.minute >> c.minute) & 1)) {
      t = advance_to(t, t - chr::seconds(c.second) + chr::minutes(1));
      continue;
    }
    if (!((fields_.second >> c.second) & 1)) {
      t += chr::seconds(1);
      continue;
    }
    return TimePoint(t);
  }
}

}  // namespace ofn

#include "common/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

namespace ofn {

namespace chr = std::chrono;
using chr::sys_seconds;

namespace {

constexpr const char* kZoneDir = "/usr/share/zoneinfo/";

// A POSIX TZ rule: "std offset [dst [offset] [,start[/time],end[/time]]]".
struct PosixRule {
  struct When {
    enum Kind { kJulianNoLeap, kJulian, kMonthWeekDay } kind = kMonthWeekDay;
    int day = 0;              // Jn: 1-365; n: 0-365; M: weekday 0-6
    int month = 0, week = 0;  // M only; week 5 is the last
    int32_t time = 2 * 3600;  // local seconds after midnight (may be negative or past 24h)
  };
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  When start, end;

  int32_t OffsetAt(sys_seconds t) const {
    if (!has_dst) return std_offset;
    const int year = static_cast<int>(chr::year_month_day(chr::floor<chr::days>(t + chr::seconds(std_offset))).year());
    // Start is given in standard time, end in daylight time.
    const sys_seconds start_utc = LocalTimeOf(year, start) - chr::seconds(std_offset);
    const sys_seconds end_utc = LocalTimeOf(year, end) - chr::seconds(dst_offset);
    const bool dst = start_utc < end_utc ? (t >= start_utc && t < end_utc)
                                         : (t < end_utc || t >= start_utc);  // southern hemisphere
    return dst ? dst_offset : std_offset;
  }

 private:
  static sys_seconds LocalTimeOf(int year, const When& w) {
    const chr::year y{year};
    const chr::sys_days jan1 = y / chr::January / 1;
    chr::sys_days date;
    switch (w.kind) {
      case When::kJulianNoLeap:  // Jn never counts February 29
        date = jan1 + chr::days(w.day - 1 + (y.is_leap() && w.day >= 60 ? 1 : 0));
        break;
      case When::kJulian:
        date = jan1 + chr::days(w.day);
        break;
      case When::kMonthWeekDay: {
        const auto month = chr::month(static_cast<unsigned>(w.month));
        const auto weekday = chr::weekday(static_cast<unsigned>(w.day));
        date = w.week == 5 ? chr::sys_days(y / month / weekday[chr::last])
                           : chr::sys_days(y / month / weekday[static_cast<unsigned>(w.week)]);
        break;
      }
    }
    return date + chr::seconds(w.time);
  }
};

// Reads the tokens of a POSIX TZ string, advancing through it.
class TzReader {
 public:
  explicit TzReader(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }
  bool Eat(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }
  bool Peek(char c) const { return !s_.empty() && s_.front() == c; }
  // "CET" or "<+0330>".
  bool Name() {
    if (Eat('<')) {
      const size_t end = s_.find('>');
      if (end == std::string_view::npos) return false;
      s_.remove_prefix(end + 1);
      return true;
    }
    size_t n = 0;
    while (n < s_.size() && std::isalpha(static_cast<unsigned char>(s_[n]))) ++n;
    s_.remove_prefix(n);
    return n >= 3;
  }
  bool Number(int max, int* out) {
    size_t n = 0;
    int v = 0;
    while (n < s_.size() && std::isdigit(static_cast<unsigned char>(s_[n])) && n < 4) v = v * 10 + (s_[n++] - '0');
    s_.remove_prefix(n);
    *out = v;
    return n > 0 && v <= max;
  }
  // [+-]hh[:mm[:ss]] in seconds; hours up to 167 (RFC 8536's extension).
  bool Hms(int32_t* out) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int h = 0, m = 0, sec = 0;
    if (!Number(167, &h)) return false;
    if (Eat(':') && (!Number(59, &m) || (Eat(':') && !Number(59, &sec)))) return false;
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool Date(PosixRule::When* w) {
    using When = PosixRule::When;
    if (Eat('J')) {
      w->kind = When::kJulianNoLeap;
      if (!Number(365, &w->day) || w->day < 1) return false;
    } else if (Eat('M')) {
      w->kind = When::kMonthWeekDay;
      if (!Number(12, &w->month) || w->month < 1 || !Eat('.') || !Number(5, &w->week) || w->week < 1 || !Eat('.') ||
          !Number(6, &w->day)) {
        return false;
      }
    } else {
      w->kind = When::kJulian;
      if (!Number(365, &w->day)) return false;
    }
    return !Eat('/') || Hms(&w->time);
  }

 private:
  std::string_view s_;
};

std::optional<PosixRule> ParsePosixRule(std::string_view s) {
  using When = PosixRule::When;
  TzReader r(s);
  PosixRule rule;
  int32_t west = 0;
  if (!r.Name() || !r.Hms(&west)) return std::nullopt;
  rule.std_offset = -west;  // POSIX counts hours west of Greenwich
  if (r.done()) return rule;
  if (!r.Name()) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!r.Peek(',') && !r.done()) {
    if (!r.Hms(&west)) return std::nullopt;
    rule.dst_offset = -west;
  }
  if (r.done()) {
    // No dates given: POSIX leaves them to the implementation; the US rule is the usual choice.
    rule.start = When{When::kMonthWeekDay, 0, 3, 2};
    rule.end = When{When::kMonthWeekDay, 0, 11, 1};
    return rule;
  }
  if (!r.Eat(',') || !r.Date(&rule.start) || !r.Eat(',') || !r.Date(&rule.end) || !r.done()) return std::nullopt;
  return rule;
}

// Big-endian reads over the bytes of a TZif file (RFC 8536); callers check Has() first.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : d_(data) {}
  bool Has(size_t n) const { return d_.size() - pos_ >= n; }
  bool Skip(size_t n) {
    if (!Has(n)) return false;
    pos_ += n;
    return true;
  }
  int64_t Int(size_t width) {  // two's complement, width 1, 4 or 8
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_ + i]);
    pos_ += width;
    if (width < 8 && (v >> (width * 8 - 1)) != 0) v |= ~uint64_t{0} << (width * 8);
    return static_cast<int64_t>(v);
  }
  std::string_view Rest() const { return d_.substr(pos_); }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

struct TzifCounts {
  size_t isut, isstd, leap, time, type, chars;
  size_t DataSize(size_t time_width) const {
    return time * (time_width + 1) + type * 6 + chars + leap * (time_width + 4) + isstd + isut;
  }
};

// The 44-byte header; false unless it is TZif and the data it announces is there.
bool ReadHeader(ByteReader& r, char* version, TzifCounts* c, size_t time_width) {
  if (!r.Has(44) || r.Rest().substr(0, 4) != "TZif") return false;
  *version = r.Rest()[4];
  r.Skip(20);
  size_t* fields[] = {&c->isut, &c->isstd, &c->leap, &c->time, &c->type, &c->chars};
  for (size_t* f : fields) {
    const int64_t v = r.Int(4);
    if (v < 0 || v > (1 << 20)) return false;
    *f = static_cast<size_t>(v);
  }
  return c->type >= 1 && r.Has(c->DataSize(time_width));
}

}  // namespace

struct TimeZone::Data {
  struct Transition {
    sys_seconds at;
    int32_t offset;  // seconds east of UTC from `at` on
  };
  std::string name;
  int32_t initial_offset = 0;            // before the first transition
  std::vector<Transition> transitions;   // ascending
  std::optional<PosixRule> rule;         // after the last transition
};

TimeZone::TimeZone() {
  static const auto utc = std::make_shared<const Data>(Data{"UTC", 0, {}, std::nullopt});
  data_ = utc;
}

const std::string& TimeZone::name() const { return data_->name; }

Result<TimeZone> TimeZone::FromFile(const std::string& path, std::string name) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  // A directory such as "Europe" opens too, but is no zone.
  if (!in || !std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("unknown time zone \"" + name + "\" (no " + path + ")");
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto malformed = [&](std::string_view what) {
    return Status::InvalidArgument("time zone \"" + name + "\": " + path + " " + std::string(what));
  };

  ByteReader r(bytes);
  char version = 0;
  TzifCounts c{};
  if (!ReadHeader(r, &version, &c, 4)) return malformed("is not a valid TZif file");
  size_t width = 4;
  if (version >= '2') {  // skip the 32-bit block: the 64-bit one follows with the same layout
    r.Skip(c.DataSize(4));
    if (!ReadHeader(r, &version, &c, 8)) return malformed("is not a valid TZif file");
    width = 8;
  }
  std::vector<int64_t> times(c.time);
  for (auto& t : times) t = r.Int(width);
  std::vector<size_t> type_of(c.time);
  for (auto& i : type_of) {
    i = static_cast<size_t>(r.Int(1)) & 0xff;
    if (i >= c.type) return malformed("is not a valid TZif file");
  }
  std::vector<int32_t> offsets(c.type);
  for (auto& o : offsets) {
    o = static_cast<int32_t>(r.Int(4));
    r.Skip(2);  // isdst, abbreviation index
  }
  r.Skip(c.chars + c.leap * (width + 4) + c.isstd + c.isut);

  Data data;
  data.name = std::move(name);
  data.initial_offset = offsets[0];
  for (size_t i = 0; i < times.size(); ++i) {
    data.transitions.push_back({sys_seconds(chr::seconds(times[i])), offsets[type_of[i]]});
  }
  if (version >= '2') {  // the footer: "\n<POSIX TZ>\n"
    std::string_view footer = r.Rest();
    if (footer.size() >= 2 && footer.front() == '\n') {
      footer = footer.substr(1, footer.find('\n', 1) - 1);
      if (!footer.empty()) {
        data.rule = ParsePosixRule(footer);
        if (!data.rule) return malformed("has an unsupported POSIX TZ rule \"" + std::string(footer) + "\"");
      }
    }
  }
  return TimeZone(std::make_shared<const Data>(std::move(data)));
}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  if (name.empty() || name == "UTC") return TimeZone();
  if (name == "Local") return Local();
  // Names are paths below the zone directory; never let one climb out of it (Go refuses these too).
  if (name.front() == '/' || name.find("..") != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Status::InvalidArgument("invalid time zone name \"" + std::string(name) + "\"");
  }
  return FromFile(kZoneDir + std::string(name), std::string(name));
}

TimeZone TimeZone::Local() {
  const char* env = std::getenv("TZ");
  std::string tz = env ? env : "";
  if (!tz.empty() && tz.front() == ':') tz.erase(0, 1);
  Result<TimeZone> zone = TimeZone();
  if (!env) {
    zone = FromFile("/etc/localtime", "Local");
  } else if (!tz.empty() && tz.front() == '/') {
    zone = FromFile(tz, "Local");
  } else if (!tz.empty() && tz != "UTC" && tz.find("..") == std::string::npos) {
    zone = FromFile(kZoneDir + tz, "Local");
  }
  Data local = zone.ok() ? *zone->data_ : Data{};
  local.name = "Local";
  return TimeZone(std::make_shared<const Data>(std::move(local)));
}

int32_t TimeZone::OffsetAt(sys_seconds t) const {
  const Data& d = *data_;
  auto after = std::upper_bound(d.transitions.begin(), d.transitions.end(), t,
                                [](sys_seconds x, const Data::Transition& tr) { return x < tr.at; });
  if (after == d.transitions.end() && d.rule) return d.rule->OffsetAt(t);
  if (after == d.transitions.begin()) return d.initial_offset;
  return std::prev(after)->offset;
}

sys_seconds TimeZone::FromLocal(sys_seconds local) const {
  // Offsets change at most once within a day around any instant in tzdata, so
  // the offsets a day before and after are the only candidates.
  const int32_t before = OffsetAt(local - chr::days(1));
  const int32_t after = OffsetAt(local + chr::days(1));
  std::optional<sys_seconds> best;
  for (int32_t offset : {before, after}) {
    const sys_seconds u = local - chr::seconds(offset);
    if (OffsetAt(u) == offset && (!best || u < *best)) best = u;
  }
  return best ? *best : local - chr::seconds(before);
}

}  // namespace ofn

// TimeZone: one zone of the system's zone database, i.e. which UTC offset
// applies when, as Go's time.LoadLocation reads it.
//
// Zones come from the compiled TZif files under /usr/share/zoneinfo (GCC 12's
// <chrono> has no tzdb). Instants past a file's last transition follow the
// POSIX TZ rule in its footer ("CET-1CEST,M3.5.0,M10.5.0/3"; the Jn and n day
// forms too). No global state is touched: nothing calls tzset() or
// localtime(); Local() reads $TZ itself, as Go does.
//
// Thread-safety: a TimeZone is an immutable value sharing its tables between
// copies; copy it freely and use it from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn {

class TimeZone {
 public:
  // UTC.
  TimeZone();

  // "" or "UTC" (no file needed), "Local" (the process's zone, see Local()) or
  // an IANA name such as "Europe/Berlin". NotFound names the zone when there is
  // no such file; InvalidArgument for a name that would leave the database
  // (leading '/', "..") or a file that is not TZif.
  static Result<TimeZone> Load(std::string_view name);
  // The process's zone, named "Local": $TZ (a leading ':' is dropped; a path
  // if it starts with '/'; "" means UTC), else /etc/localtime; UTC if neither
  // can be read.
  static TimeZone Local();

  const std::string& name() const;
  // Seconds east of UTC in effect at `t`.
  int32_t OffsetAt(std::chrono::sys_seconds t) const;
  // The instant a wall-clock time (written as if it were UTC) denotes here, as
  // Go's time.Date maps it: in a repeated hour the earlier instant; in a
  // skipped hour the wall time read with the offset in force before the jump.
  std::chrono::sys_seconds FromLocal(std::chrono::sys_seconds local) const;

 private:
  struct Data;  // the transition table and footer rule (time_zone.cc)
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  static Result<TimeZone> FromFile(const std::string& path, std::string name);

  std::shared_ptr<const Data> data_;
};

}  // namespace ofn

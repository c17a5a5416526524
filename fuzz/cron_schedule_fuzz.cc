// Fuzzes the cron schedule parser (bindings.cron's `schedule`, KEDA cron
// triggers' start/end) in both dialects: parsing never crashes, an error
// always has a message, and a parsed schedule's next firing is in the future.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/cron_schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view spec(reinterpret_cast<const char*>(data), size);
  for (auto dialect : {ofn::CronDialect::kDapr, ofn::CronDialect::kKeda}) {
    auto s = ofn::CronSchedule::Parse(spec, dialect, ofn::TimeZone());
    if (!s.ok()) {
      if (s.status().message().empty()) __builtin_trap();
      continue;
    }
    auto from = ofn::CronSchedule::TimePoint(std::chrono::seconds(1795712000));
    if (auto next = s->Next(from); next && *next <= from) __builtin_trap();
  }
  return 0;
}

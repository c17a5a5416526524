// CronBinding: Dapr's `bindings.cron` input binding.
//
// Metadata: `schedule` (required; Dapr's dialect in common/cron_schedule.h). Read() starts
// one thread that sleeps until the schedule's next firing and then hands the
// handler a Message with empty data and the metadata `timeZone` (the
// schedule's zone: "Local" unless it has a CRON_TZ=/TZ= prefix) and
// `readTimeUTC` (the firing time as Go's time.String() prints it in UTC,
// "2024-03-01 10:00:00.25 +0000 UTC", which is what Dapr sends).
//
// The outcome passed to the Ack is ignored (Dapr never retries a firing),
// and firings do not queue up: while `max_in_flight` firings are still
// un-acked, a due firing is skipped. A firing late by more than a period
// (a busy machine, a suspended laptop) fires once and the schedule resumes
// from the current time, as robfig/cron does. Backlog() is always 0.
//
// Time comes from a CronClock so tests can drive it.
//
// Thread-safety: Read() may be called from any thread; each Subscription runs
// its own thread, stopped and joined by its destructor (promptly: the sleep
// is interrupted). Acks may come from any thread, also after the Subscription
// is gone.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

#include "common/cron_schedule.h"
#include "components/binding.h"
#include "components/component.h"
#include "components/registry.h"

namespace ofn::components {

// The wall clock the cron thread reads and sleeps on.
class CronClock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  virtual ~CronClock() = default;
  virtual TimePoint Now() const = 0;
  // Blocks until Now() >= deadline (returns true) or a stop is requested on
  // `stop` (returns false, promptly).
  virtual bool WaitUntil(TimePoint deadline, std::stop_token stop) const = 0;

  // The real system clock.
  static std::shared_ptr<const CronClock> System();
};

class CronBinding final : public InputBinding {
 public:
  static constexpr std::string_view kType = "bindings.cron";

  // InvalidArgument naming `schedule` when it is missing, malformed or never fires.
  static Result<std::unique_ptr<CronBinding>> Create(const ComponentSpec& spec,
                                                     std::shared_ptr<const CronClock> clock = CronClock::System());

  Result<std::unique_ptr<Subscription>> Read(const ReadRequest& request, MessageHandler handler) override;

 private:
  CronBinding(std::string name, CronSchedule schedule, std::shared_ptr<const CronClock> clock)
      : name_(std::move(name)), schedule_(std::move(schedule)), clock_(std::move(clock)) {}

  const std::string name_;
  const CronSchedule schedule_;
  const std::shared_ptr<const CronClock> clock_;
};

// Registers "bindings.cron".
void RegisterCron(Registry& registry);

// Go's time.Time.String() of an instant in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC"
// (fraction without trailing zeros, none when whole). Exposed for tests.
std::string GoUtcString(std::chrono::system_clock::time_point t);

}  // namespace ofn::components

#include "components/cron_binding.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace ofn::components {

namespace chr = std::chrono;

namespace {

class SystemCronClock final : public CronClock {
 public:
  TimePoint Now() const override { return chr::system_clock::now(); }

  bool WaitUntil(TimePoint deadline, std::stop_token stop) const override {
    std::mutex mu;
    std::condition_variable_any cv;  // wakes on the stop request as well
    std::unique_lock lock(mu);
    // Re-check the clock: a wait may end early (spurious wake-up, clock set back).
    while (!stop.stop_requested() && Now() < deadline) cv.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
  }
};

class CronSubscription final : public Subscription {
 public:
  using TimePoint = CronClock::TimePoint;

  CronSubscription(std::string name, const CronSchedule& schedule, std::shared_ptr<const CronClock> clock,
                   size_t max_in_flight, MessageHandler handler)
      : name_(std::move(name)),
        schedule_(schedule),
        clock_(std::move(clock)),
        max_in_flight_(std::max<size_t>(1, max_in_flight)),
        handler_(std::move(handler)),
        thread_([this](std::stop_token stop) { Run(stop); }) {}

  // std::jthread's destructor requests the stop, which interrupts the wait, and joins.
  ~CronSubscription() override = default;

  Result<int64_t> Backlog() override { return int64_t{0}; }

 private:
  void Run(std::stop_token stop) {
    std::optional<TimePoint> next = schedule_.Next(clock_->Now());
    while (true) {
      // No firing within five years: look again a day later.
      const TimePoint deadline = next.value_or(clock_->Now() + chr::hours(24));
      if (!clock_->WaitUntil(deadline, stop)) return;
      if (next) Fire();
      const TimePoint now = clock_->Now();
      next = schedule_.Next(next.value_or(now));
      // Late by more than a period: the missed firings are not made up for.
      if (next && *next < now) next = schedule_.Next(now);
    }
  }

  void Fire() {
    if (in_flight_->load() >= max_in_flight_) {
      log::Debug("cron firing skipped: the previous one is not acknowledged yet", {{"component", name_}});
      return;
    }
    in_flight_->fetch_add(1);
    Message message;
    message.metadata = {{"timeZone", schedule_.zone().name()}, {"readTimeUTC", GoUtcString(clock_->Now())}};
    // The outcome does not matter: Dapr neither retries nor queues firings.
    handler_(std::move(message), [in_flight = in_flight_](Outcome) { in_flight->fetch_sub(1); });
  }

  const std::string name_;
  const CronSchedule schedule_;
  const std::shared_ptr<const CronClock> clock_;
  const size_t max_in_flight_;
  const MessageHandler handler_;
  // Shared with the acks, which may outlive this subscription.
  const std::shared_ptr<std::atomic<size_t>> in_flight_ = std::make_shared<std::atomic<size_t>>(0);
  std::jthread thread_;  // last: it starts running in the constructor and uses everything above
};

}  // namespace

std::shared_ptr<const CronClock> CronClock::System() {
  static const auto clock = std::make_shared<const SystemCronClock>();
  return clock;
}

Result<std::unique_ptr<CronBinding>> CronBinding::Create(const ComponentSpec& spec,
                                                         std::shared_ptr<const CronClock> clock) {
  std::string text = spec.metadata.GetOr("schedule", "");
  if (text.empty()) return Status::InvalidArgument("metadata schedule is required (for example \"@every 15m\")");
  auto schedule = CronSchedule::Parse(text);
  if (!schedule.ok()) return Status::InvalidArgument("metadata " + schedule.status().message());
  if (!schedule->Next(clock->Now())) {
    return Status::InvalidArgument("metadata schedule \"" + text + "\" never fires (no matching time in five years)");
  }
  return std::unique_ptr<CronBinding>(new CronBinding(spec.name, std::move(schedule).value(), std::move(clock)));
}

Result<std::unique_ptr<Subscription>> CronBinding::Read(const ReadRequest& request, MessageHandler handler) {
  return std::unique_ptr<Subscription>(
      std::make_unique<CronSubscription>(name_, schedule_, clock_, request.max_in_flight, std::move(handler)));
}

void RegisterCron(Registry& registry) {
  registry.Add(std::string(CronBinding::kType), [](const ComponentSpec& spec) -> Result<Component> {
    auto binding = CronBinding::Create(spec);
    if (!binding.ok()) return binding.status();
    Component c;
    c.input = std::move(binding).value();
    return c;
  });
}

std::string GoUtcString(chr::system_clock::time_point t) {
  const auto secs = chr::floor<chr::seconds>(t);
  const auto days = chr::floor<chr::days>(secs);
  const chr::year_month_day date(days);
  const chr::hh_mm_ss time(secs - days);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  std::string out = buf;
  if (auto ns = chr::duration_cast<chr::nanoseconds>(t - secs).count(); ns > 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(ns));
    std::string fraction = buf;
    fraction.erase(fraction.find_last_not_of('0') + 1);
    out += fraction;
  }
  return out + " +0000 UTC";
}

}  // namespace ofn::components

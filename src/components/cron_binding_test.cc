#include "components/cron_binding.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace ofn::components {
namespace {

namespace chr = std::chrono;
using namespace std::chrono_literals;
using TimePoint = CronClock::TimePoint;

TimePoint Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return chr::sys_days(chr::year(y) / mo / d) + chr::hours(h) + chr::minutes(mi) + chr::seconds(s);
}

// A clock that moves only when the test advances it. The cron thread's sleep
// ends as soon as the time reaches its deadline, and the test can wait until
// the thread sleeps again, so every step is deterministic.
class FakeCronClock final : public CronClock {
 public:
  explicit FakeCronClock(TimePoint start) : now_(start) {}

  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  bool WaitUntil(TimePoint deadline, std::stop_token stop) const override {
    std::unique_lock lock(mu_);
    sleeping_until_ = deadline;
    cv_.notify_all();
    bool reached = cv_.wait(lock, stop, [&] { return now_ >= deadline; });
    sleeping_until_.reset();
    return reached;
  }

  void Advance(chr::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
    cv_.notify_all();
  }

  // True once the cron thread sleeps until exactly `deadline` (waits up to 10 s).
  bool WaitForSleeper(TimePoint deadline) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return sleeping_until_ == deadline; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  TimePoint now_;
  mutable std::optional<TimePoint> sleeping_until_;
};

// Records what the binding hands out, with the acks.
class Recorder {
 public:
  MessageHandler Handler() {
    return [this](Message m, Ack ack) {
      std::lock_guard lock(mu_);
      got_.push_back({std::move(m), std::move(ack), chr::steady_clock::now()});
      cv_.notify_all();
    };
  }

  // Waits (up to 10 s) until n firings arrived.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return got_.size() >= n; });
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  Message message(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).message;
  }
  Ack ack(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).ack;
  }
  chr::steady_clock::time_point when(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).when;
  }

 private:
  struct Firing {
    Message message;
    Ack ack;
    chr::steady_clock::time_point when;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Firing> got_;
};

ComponentSpec Spec(std::string schedule) {
  ComponentSpec spec;
  spec.name = "tick";
  spec.type = "bindings.cron";
  spec.metadata.Set("schedule", std::move(schedule));
  return spec;
}

std::unique_ptr<CronBinding> Make(std::string schedule, std::shared_ptr<const CronClock> clock) {
  auto b = CronBinding::Create(Spec(std::move(schedule)), std::move(clock));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : nullptr;
}

std::unique_ptr<Subscription> Start(CronBinding& binding, Recorder& rec, size_t max_in_flight = 1) {
  ReadRequest req;
  req.max_in_flight = max_in_flight;
  auto sub = binding.Read(req, rec.Handler());
  EXPECT_TRUE(sub.ok()) << sub.status().ToString();
  return sub.ok() ? std::move(sub).value() : nullptr;
}

TEST(CronBindingTest, ScheduleIsRequiredAndValidated) {
  ComponentSpec none;
  none.name = "tick";
  auto missing = CronBinding::Create(none);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("metadata schedule is required"), std::string::npos);

  auto bad = CronBinding::Create(Spec("0 61 * * * *"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("metadata schedule \"0 61 * * * *\": minute field \"61\""), std::string::npos)
      << bad.status().message();

  auto never = CronBinding::Create(Spec("0 0 0 30 2 *"));
  EXPECT_EQ(never.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(never.status().message().find("never fires"), std::string::npos) << never.status().message();
}

TEST(CronBindingTest, RegistersAnInputBindingOnly) {
  Registry registry;
  RegisterCron(registry);
  ASSERT_TRUE(registry.Knows("bindings.cron"));
  auto c = registry.Create(Spec("@every 1h"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->input, nullptr);
  EXPECT_EQ(c->output, nullptr);
  EXPECT_EQ(c->pubsub, nullptr);

  ComponentSpec none = Spec("");
  auto err = registry.Create(none);
  EXPECT_EQ(err.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(err.status().message().find("bindings.cron component tick"), std::string::npos);
}

TEST(CronBindingTest, EveryTwoSecondsFiresAtPlusTwoThenPlusFour) {
  const TimePoint t0 = Utc(2024, 3, 1, 10) + 250ms;
  auto clock = std::make_shared<FakeCronClock>(t0);
  auto binding = Make("@every 2s", clock);
  Recorder rec;
  auto sub = Start(*binding, rec);
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 2s));

  clock->Advance(1999ms);  // not due yet: the thread cannot fire before the deadline
  EXPECT_EQ(rec.count(), 0u);

  clock->Advance(1ms);
  ASSERT_TRUE(rec.WaitFor(1));
  Message first = rec.message(0);
  EXPECT_EQ(first.data, "");
  EXPECT_EQ(first.topic, "");
  EXPECT_EQ(first.metadata.at("readTimeUTC"), "2024-03-01 10:00:02.25 +0000 UTC");
  EXPECT_EQ(first.metadata.at("timeZone"), "Local");
  EXPECT_EQ(first.metadata.size(), 2u);
  rec.ack(0)(Outcome::kSuccess);

  ASSERT_TRUE(clock->WaitForSleeper(t0 + 4s));
  clock->Advance(2s);
  ASSERT_TRUE(rec.WaitFor(2));
  EXPECT_EQ(rec.message(1).metadata.at("readTimeUTC"), "2024-03-01 10:00:04.25 +0000 UTC");
  rec.ack(1)(Outcome::kSuccess);
  EXPECT_EQ(sub->Backlog().value(), 0);
}

TEST(CronBindingTest, SkipsFiringsWhileThePreviousIsUnackedAndNeverRetries) {
  const TimePoint t0 = Utc(2024, 3, 1, 10);
  auto clock = std::make_shared<FakeCronClock>(t0);
  auto binding = Make("@every 2s", clock);
  Recorder rec;
  auto sub = Start(*binding, rec);

  ASSERT_TRUE(clock->WaitForSleeper(t0 + 2s));
  clock->Advance(2s);
  ASSERT_TRUE(rec.WaitFor(1));

  // Not acked: the +4s firing is dropped; the thread goes on to +6s.
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 4s));
  clock->Advance(2s);
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 6s));
  EXPECT_EQ(rec.count(), 1u);
  EXPECT_EQ(sub->Backlog().value(), 0);

  // kRetry is not a redelivery request for cron: the next firing is simply the next tick.
  rec.ack(0)(Outcome::kRetry);
  clock->Advance(2s);
  ASSERT_TRUE(rec.WaitFor(2));
  EXPECT_EQ(rec.message(1).metadata.at("readTimeUTC"), "2024-03-01 10:00:06 +0000 UTC");
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 8s));
  EXPECT_EQ(rec.count(), 2u);
}

TEST(CronBindingTest, MaxInFlightBoundsTheUnackedFirings) {
  const TimePoint t0 = Utc(2024, 3, 1, 10);
  auto clock = std::make_shared<FakeCronClock>(t0);
  auto binding = Make("@every 1s", clock);
  Recorder rec;
  auto sub = Start(*binding, rec, /*max_in_flight=*/2);

  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(clock->WaitForSleeper(t0 + chr::seconds(i)));
    clock->Advance(1s);
  }
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 4s));
  EXPECT_EQ(rec.count(), 2u);  // the third was skipped
  rec.ack(1)(Outcome::kSuccess);
  clock->Advance(1s);
  ASSERT_TRUE(rec.WaitFor(3));
  EXPECT_EQ(rec.message(2).metadata.at("readTimeUTC"), "2024-03-01 10:00:04 +0000 UTC");
}

TEST(CronBindingTest, WallClockScheduleInItsZoneAndALateWakeFiresOnce) {
  const TimePoint t0 = Utc(2024, 3, 1, 10);
  auto clock = std::make_shared<FakeCronClock>(t0);
  auto binding = Make("CRON_TZ=Asia/Tokyo */10 * 19 * * *", clock);  // 19:xx Tokyo = 10:xx UTC
  Recorder rec;
  auto sub = Start(*binding, rec);

  ASSERT_TRUE(clock->WaitForSleeper(t0 + 10s));
  clock->Advance(35s);  // overslept past 10:00:10, :20 and :30
  ASSERT_TRUE(rec.WaitFor(1));
  EXPECT_EQ(rec.message(0).metadata.at("readTimeUTC"), "2024-03-01 10:00:35 +0000 UTC");
  EXPECT_EQ(rec.message(0).metadata.at("timeZone"), "Asia/Tokyo");
  rec.ack(0)(Outcome::kSuccess);
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 40s));
  EXPECT_EQ(rec.count(), 1u);
}

TEST(CronBindingTest, AnAckAfterTheSubscriptionIsGoneIsHarmless) {
  const TimePoint t0 = Utc(2024, 3, 1, 10);
  auto clock = std::make_shared<FakeCronClock>(t0);
  auto binding = Make("@every 1s", clock);
  Recorder rec;
  auto sub = Start(*binding, rec);
  ASSERT_TRUE(clock->WaitForSleeper(t0 + 1s));
  clock->Advance(1s);
  ASSERT_TRUE(rec.WaitFor(1));
  sub.reset();
  binding.reset();
  rec.ack(0)(Outcome::kSuccess);
  clock->Advance(10s);
  EXPECT_EQ(rec.count(), 1u);  // the thread is joined: nothing fires any more
}

TEST(CronBindingTest, RealClockEvery50ms) {
  auto binding = Make("@every 50ms", CronClock::System());
  Recorder rec;
  const auto started = chr::steady_clock::now();
  auto sub = Start(*binding, rec);
  ASSERT_TRUE(rec.WaitFor(1));
  rec.ack(0)(Outcome::kSuccess);
  ASSERT_TRUE(rec.WaitFor(2));
  rec.ack(1)(Outcome::kSuccess);
  ASSERT_TRUE(rec.WaitFor(3));
  rec.ack(2)(Outcome::kSuccess);
  // Firings are due at start + 50ms, + 100ms, ... (the start truncated to the millisecond).
  EXPECT_GE(rec.when(0) - started, 48ms);
  EXPECT_GE(rec.when(2) - started, 148ms);
  const std::string read_time = rec.message(0).metadata.at("readTimeUTC");
  EXPECT_TRUE(read_time.ends_with(" +0000 UTC")) << read_time;

  const auto stopping = chr::steady_clock::now();
  sub.reset();
  EXPECT_LT(chr::steady_clock::now() - stopping, 1s);
}

TEST(CronBindingTest, DestructionInterruptsALongSleep) {
  auto binding = Make("@every 1h", CronClock::System());
  Recorder rec;
  auto sub = Start(*binding, rec);
  const auto stopping = chr::steady_clock::now();
  sub.reset();
  EXPECT_LT(chr::steady_clock::now() - stopping, 1s);
  EXPECT_EQ(rec.count(), 0u);
}

TEST(GoUtcStringTest, MatchesGoTimeString) {
  const TimePoint t = Utc(2024, 3, 1, 9, 5, 7);
  EXPECT_EQ(GoUtcString(t), "2024-03-01 09:05:07 +0000 UTC");
  EXPECT_EQ(GoUtcString(t + 500ms), "2024-03-01 09:05:07.5 +0000 UTC");
  EXPECT_EQ(GoUtcString(t + 1ms), "2024-03-01 09:05:07.001 +0000 UTC");
  EXPECT_EQ(GoUtcString(t + chr::nanoseconds(123456789)), "2024-03-01 09:05:07.123456789 +0000 UTC");
}

}  // namespace
}  // namespace ofn::components

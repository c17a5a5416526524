// A parked backlog drains in batches: with a busy window the reader refills
// half of it per XREADGROUP and the acker gathers XACKs, instead of one round
// trip per freed slot. Wall time on a loaded 2-core machine is too noisy to
// tell the two apart (both drained 5000 events in 0.2-0.4 s there), so the
// test counts the server's commands, which bound the rate on a quiet machine
// or a busy subscriber core (bench/async).
#include <gtest/gtest.h>

#include <sched.h>

#include <deque>
#include <set>
#include <thread>

#include "components/redis/redis_test_util.h"

namespace ofn::components::redis {
namespace {

using namespace testing;  // NOLINT: the helpers of redis_test_util.h
using Clock = std::chrono::steady_clock;

class StreamDrainTest : public RedisFixture {
 protected:
  // How often the server ran `command` (INFO commandstats).
  int64_t Calls(const std::string& command) {
    Reply r = Raw({"INFO", "commandstats"});
    const std::string text = ReplyText(r.get());
    const std::string key = "cmdstat_" + command + ":calls=";
    auto at = text.find(key);
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
  }
};

// Acks handed-over messages one by one from its own thread after a little
// work each, as the Deliverer does when a function answers.
class Worker {
 public:
  explicit Worker(std::chrono::microseconds work) : work_(work), thread_([this] { Run(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  MessageHandler Handler() {
    return [this](Message m, components::Ack ack) {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(m.data), std::move(ack)});
      cv_.notify_all();
    };
  }
  bool WaitForAcked(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return acked_.size() >= n; });
  }
  std::vector<std::string> Acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      auto [data, ack] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      for (auto until = Clock::now() + work_; Clock::now() < until;) {
      }
      ack(Outcome::kSuccess);
      lock.lock();
      acked_.push_back(std::move(data));
      cv_.notify_all();
    }
  }

  const std::chrono::microseconds work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, components::Ack>> queue_;
  std::vector<std::string> acked_;
  bool stop_ = false;
  std::thread thread_;
};

TEST_F(StreamDrainTest, ParkedBacklogDrainsInBatches) {
  constexpr int kEvents = 5000;
  auto c = Create(Spec("pubsub.redis", broker_.url));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Raw({"XGROUP", "CREATE", "orders", "app", "0", "MKSTREAM"});
  std::vector<Args> adds;
  for (int i = 0; i < kEvents; ++i) adds.push_back({"XADD", "orders", "*", "data", "m" + std::to_string(i)});
  Connection publisher(RawOptions(broker_.url));
  ASSERT_TRUE(publisher.Run(adds).ok());

  // Subscriber threads and worker share one core, as a function and ofn's
  // component host do in the benchmark (threads inherit the affinity).
  cpu_set_t all, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  Worker worker(std::chrono::microseconds(20));
  const auto start = Clock::now();
  auto sub = c->pubsub->Subscribe({"orders", {}, 64}, worker.Handler());
  sched_setaffinity(0, sizeof(all), &all);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(worker.WaitForAcked(kEvents, 20s)) << worker.Acked().size();
  const auto drained = Clock::now() - start;
  ASSERT_TRUE(Eventually([&] {
    auto n = (*sub)->Backlog();
    return n.ok() && *n == 0;
  }));

  auto acked = worker.Acked();
  EXPECT_EQ(std::set<std::string>(acked.begin(), acked.end()).size(), size_t{kEvents});  // each once
  const int64_t reads = Calls("xreadgroup"), xacks = Calls("xack");
  // A round trip per freed slot measured 530-1700 commands here, batching
  // 290-345 (about 5000/32 of each).
  EXPECT_LT(reads + xacks, 450) << reads << " XREADGROUP, " << xacks << " XACK";
  RecordProperty("drain_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(drained).count()));
  RecordProperty("round_trips", std::to_string(reads + xacks));
}

}  // namespace
}  // namespace ofn::components::redis

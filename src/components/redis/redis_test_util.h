// Test helpers for the Redis backends: a real redis-server per fixture, specs
// pointing at it, a raw connection for looking behind a backend's back, and
// an Inbox that records deliveries (with their Acks) and lets a test wait for
// them with a deadline.
//
// Inbox is thread-safe; the rest is used from the test thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "components/component.h"
#include "components/pubsub.h"
#include "components/redis/connection.h"
#include "components/redis/redis.h"
#include "components/registry.h"
#include "support/brokers.h"
#include "support/process.h"

namespace ofn::components::redis::testing {

using namespace std::chrono_literals;

inline ComponentSpec Spec(const std::string& type, const std::string& host,
                          const std::map<std::string, std::string>& extra = {}, const std::string& app_id = "app") {
  ComponentSpec spec;
  spec.name = "redis";
  spec.ns = "default";
  spec.type = type;
  spec.version = "v1";
  spec.app_id = app_id;
  spec.metadata.Set("redisHost", host);
  for (const auto& [k, v] : extra) spec.metadata.Set(k, v);
  return spec;
}

inline Result<Component> Create(const ComponentSpec& spec) {
  Registry registry;
  Register(registry);
  return registry.Create(spec);
}

inline RedisOptions RawOptions(const std::string& host) {
  Metadata m;
  m.Set("redisHost", host);
  return *RedisOptions::FromMetadata(m);
}

// Waits until pred() holds, polling; false at the deadline.
inline bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

struct Delivery {
  Message message;
  components::Ack ack;
  std::chrono::steady_clock::time_point at;
};

class Inbox {
 public:
  // With an outcome, every message is acked at once from the handler.
  explicit Inbox(std::optional<Outcome> auto_ack = std::nullopt) : auto_ack_(auto_ack) {}

  MessageHandler Handler() {
    return [this](Message m, components::Ack ack) {
      if (auto_ack_) {
        ack(*auto_ack_);
        ack = [](Outcome) {};
      }
      std::lock_guard lock(mu_);
      if (!auto_ack_) ++outstanding_;
      max_outstanding_ = std::max(max_outstanding_, outstanding_);
      got_.push_back({std::move(m), std::move(ack), std::chrono::steady_clock::now()});
      cv_.notify_all();
    };
  }
  // Waits for at least n deliveries in total.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  // Waits until `data` was delivered `times` times.
  bool WaitForData(const std::string& data, size_t times = 1, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return CountLocked(data) >= times; });
  }
  size_t Count(const std::string& data) {
    std::lock_guard lock(mu_);
    return CountLocked(data);
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  Delivery At(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i);
  }
  // The latest delivery of `data`.
  Delivery Last(const std::string& data) {
    std::lock_guard lock(mu_);
    for (auto it = got_.rbegin(); it != got_.rend(); ++it)
      if (it->message.data == data) return *it;
    ADD_FAILURE() << "never delivered: " << data;
    return {};
  }
  void AckAt(size_t i, Outcome outcome) {
    components::Ack ack;
    {
      std::lock_guard lock(mu_);
      ack = got_.at(i).ack;
      --outstanding_;
    }
    ack(outcome);
  }
  void AckData(const std::string& data, Outcome outcome) {
    components::Ack ack;
    {
      std::lock_guard lock(mu_);
      for (auto it = got_.rbegin(); it != got_.rend() && !ack; ++it)
        if (it->message.data == data) ack = it->ack;
      --outstanding_;
    }
    ASSERT_TRUE(ack) << data;
    ack(outcome);
  }
  std::vector<std::string> Data() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& d : got_) out.push_back(d.message.data);
    return out;
  }
  size_t max_outstanding() {
    std::lock_guard lock(mu_);
    return max_outstanding_;
  }

 private:
  size_t CountLocked(const std::string& data) const {
    size_t n = 0;
    for (const auto& d : got_) n += d.message.data == data;
    return n;
  }

  const std::optional<Outcome> auto_ack_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> got_;
  size_t outstanding_ = 0;
  size_t max_outstanding_ = 0;
};

// A redis-server for one test, restartable on the same port and data.
class RedisFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartBroker(); }
  void StartBroker(int port = 0) {
    auto b = ofn::testing::StartRedis(dir_.Sub("redis"), port);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    broker_ = std::move(*b);
  }
  void RestartBroker() {
    broker_.Kill();
    StartBroker(broker_.port);
  }
  Reply Raw(const Args& args) {
    if (!raw_) raw_ = std::make_unique<Connection>(RawOptions(broker_.url));
    auto r = raw_->Command(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : Reply();
  }

  ofn::testing::TempDir dir_{"ofn-redis"};
  ofn::testing::Broker broker_;
  std::unique_ptr<Connection> raw_;
};

}  // namespace ofn::components::redis::testing

// The events of the async-delivery benchmark and what a subscriber records
// of them; shared by the Ofn function (bench_sink.cc) and the bare
// subscribers of eventbench, so both measure the same way.
//
// An event is a CloudEvent in Dapr's JSON format, padded to a fixed size,
// whose `data` names its run, its number, the run's size and the publish
// time (CLOCK_MONOTONIC ns: one clock for every process on the machine):
//   {..., "data":{"run":"lat-ofn","n":7,"of":2000,"t":123456789,"pad":"xx.."}}
// The bare subscriber sees the whole CloudEvent; the Ofn function sees only
// `data` (Dapr's app callback, unwrapped by the framework): ParseEvent reads
// either.
//
// Recorder notes now - t per event; when a run has all its events it writes
// DIR/RUN.txt (written to a temporary name, then renamed, so a reader never
// sees half a file) with the line
//   count p50_ns p99_ns max_ns first_done_ns last_done_ns
// Recorder is thread-safe; the rest are pure functions.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

inline int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A CloudEvent of exactly `size` bytes (larger if the fields alone are).
inline std::string MakeEvent(const std::string& run, int n, int of, const std::string& topic,
                             const std::string& pubsub, size_t size) {
  std::string head = R"({"specversion":"1.0","type":"com.dapr.event.sent","source":"eventbench","id":")" + run +
                     "-" + std::to_string(n) + R"(","datacontenttype":"application/json","topic":")" + topic +
                     R"(","pubsubname":")" + pubsub + R"(","data":{"run":")" + run + R"(","n":)" +
                     std::to_string(n) + R"(,"of":)" + std::to_string(of) + R"(,"t":)" + std::to_string(NowNs()) +
                     R"(,"pad":")";
  const std::string tail = "\"}}";
  size_t pad = size > head.size() + tail.size() ? size - head.size() - tail.size() : 0;
  return head + std::string(pad, 'x') + tail;
}

struct EventInfo {
  std::string run;
  int of = 0;
  int64_t t = 0;
};

inline std::optional<EventInfo> ParseEvent(std::string_view text) {
  auto number = [&](std::string_view key) -> std::optional<int64_t> {
    size_t at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    return std::strtoll(text.data() + at + key.size(), nullptr, 10);
  };
  size_t run = text.find(R"("run":")");
  if (run == std::string_view::npos) return std::nullopt;
  run += 7;
  size_t end = text.find('"', run);
  auto of = number(R"("of":)");
  auto t = number(R"("t":)");
  if (end == std::string_view::npos || !of || !t) return std::nullopt;
  return EventInfo{std::string(text.substr(run, end - run)), static_cast<int>(*of), *t};
}

class Recorder {
 public:
  explicit Recorder(std::string dir) : dir_(std::move(dir)) {}

  // False when `text` is not a benchmark event.
  bool Record(std::string_view text) {
    int64_t now = NowNs();
    auto e = ParseEvent(text);
    if (!e) return false;
    std::lock_guard lock(mu_);
    Run& r = runs_[e->run];
    if (r.latencies.empty()) {
      r.first_done = now;
      r.latencies.reserve(static_cast<size_t>(std::max(e->of, 1)));
    }
    r.latencies.push_back(now - e->t);
    r.last_done = now;
    if (static_cast<int>(r.latencies.size()) >= e->of) {
      Write(e->run, r);
      runs_.erase(e->run);  // the same run id may come again (warm-ups, redeliveries)
    }
    return true;
  }

 private:
  struct Run {
    std::vector<int64_t> latencies;
    int64_t first_done = 0, last_done = 0;
  };

  void Write(const std::string& name, Run& r) {
    std::sort(r.latencies.begin(), r.latencies.end());
    auto at = [&](double q) { return r.latencies[std::min(r.latencies.size() - 1, static_cast<size_t>(q * r.latencies.size()))]; };
    std::string path = dir_ + "/" + name + ".txt";
    std::string tmp = path + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%zu %lld %lld %lld %lld %lld\n", r.latencies.size(), static_cast<long long>(at(0.5)),
                   static_cast<long long>(at(0.99)), static_cast<long long>(r.latencies.back()),
                   static_cast<long long>(r.first_done), static_cast<long long>(r.last_done));
      std::fclose(f);
      std::rename(tmp.c_str(), path.c_str());
    }
  }

  const std::string dir_;
  std::mutex mu_;
  std::map<std::string, Run> runs_;
};

}  // namespace bench

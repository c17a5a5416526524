// The async-delivery benchmark driver: Ofn's event delivery beside a bare
// subscriber written with the same client library, per broker, in one run.
//
//   eventbench sub KIND ADDRESS TOPIC GROUP OUT_DIR
//       a bare subscriber (broker.h); runs until killed
//   eventbench run API_PORT TOKEN OUT_DIR SUB_CPU KIND=ADDRESS...
//       everything below, for each broker (KIND: redis, nats, mqtt)
//
// For each broker, first the bare subscriber (a `sub` process pinned to
// SUB_CPU), then the Ofn function bench-sink (through `ofn server`, whose
// instances run where the server was pinned), measure:
//   latency     LAT_EVENTS events (2000), one every LAT_INTERVAL_US (2000),
//               each published and acknowledged before the next: publish ->
//               handled, p50/p99/max;
//   throughput  TPUT_EVENTS events (20000) published while the subscriber is
//               away (durable group / consumer), then drained: events/s from
//               the first handled to the last (MQTT: published as fast as
//               possible to the connected subscriber, see ParksWhileAway);
// and for redis and nats the scale from zero: COLD_ROUNDS (20) fresh
// Functions at zero instances, for each readiness in COLD_READINESS
// ("socket tcp"), one event each: publish -> handled.
// Events are EVENT_SIZE (1024) bytes of CloudEvent JSON (event.h). Subscribers
// write their figures to OUT_DIR, which must be the sink's BENCH_OUT.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "broker.h"
#include "event.h"
#include "ofn_api.h"

extern char** environ;

namespace bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct Figures {
  long long count = 0, p50 = 0, p99 = 0, max = 0, first_done = 0, last_done = 0;
  double Rate() const { return last_done > first_done ? (count - 1) * 1e9 / double(last_done - first_done) : 0; }
};

// Waits for OUT_DIR/RUN.txt and consumes it.
std::optional<Figures> WaitResult(const std::string& dir, const std::string& run, std::chrono::milliseconds within) {
  std::string path = dir + "/" + run + ".txt";
  for (auto deadline = Clock::now() + within; Clock::now() < deadline; std::this_thread::sleep_for(1ms)) {
    std::ifstream in(path);
    Figures f;
    if (in >> f.count >> f.p50 >> f.p99 >> f.max >> f.first_done >> f.last_done) {
      ::unlink(path.c_str());
      return f;
    }
  }
  return std::nullopt;
}

struct Target {
  std::string kind, address;
  std::unique_ptr<Broker> broker;
  std::optional<Figures> lat_bare, lat_ofn, tput_bare, tput_ofn;
  double tput_calls = 0;  // HTTP calls that carried the Ofn throughput run
  std::map<std::string, std::vector<double>> cold_ms;  // readiness -> rounds
};

class Driver {
 public:
  Driver(OfnApi api, std::string out, std::string sub_cpu) : api_(std::move(api)), out_(std::move(out)), cpu_(std::move(sub_cpu)) {}

  void Run(Target& t) {
    Broker& b = *t.broker;
    const std::string k = t.kind;
    if (api_.Apply(Component(t)) != 200) return Fail("apply of component bench-" + k + " failed");
    const std::string bare = "bare-" + k, ofn = "ofn-" + k, sink = "sink-" + k;
    if (!b.Prepare(bare) || !b.Prepare(ofn)) return;

    const bool park = b.ParksWhileAway();
    pid_t sub = SpawnSubscriber(t, bare);
    if (Warm(t, bare)) t.lat_bare = Latency(t, bare, "lat-bare-" + k);
    if (park) Stop(sub);
    if (Preload(t, bare, "tput-bare-" + k)) {
      if (park) sub = SpawnSubscriber(t, bare);
      t.tput_bare = WaitResult(out_, "tput-bare-" + k, 180s);
    }
    Stop(sub);

    if (api_.Apply(Function(sink, ofn, k, 1, "")) != 200) return Fail("apply of function " + sink + " failed");
    if (Warm(t, ofn)) t.lat_ofn = Latency(t, ofn, "lat-ofn-" + k);
    if (park) DeleteFunction(sink);
    // Events per call shows how much bulk delivery batched (counters restart when park re-applies the function).
    auto calls = [&] { return std::max(0.0, api_.Metric("ofn_event_calls_total", "name=\"" + sink + "\"")); };
    const double calls_before = park ? 0 : calls();
    if (Preload(t, ofn, "tput-ofn-" + k)) {
      if (park) api_.Apply(Function(sink, ofn, k, 1, ""));
      t.tput_ofn = WaitResult(out_, "tput-ofn-" + k, 180s);
      if (t.tput_ofn) t.tput_calls = calls() - calls_before;
    }
    DeleteFunction(sink);
    if (!t.tput_bare || !t.tput_ofn || !t.lat_bare || !t.lat_ofn) Fail(k + ": some runs never completed");

    if (k == "mqtt") return;  // scale from zero is asked of redis and nats
    const int rounds = EnvInt("COLD_ROUNDS", 20);
    const char* modes = std::getenv("COLD_READINESS");
    std::string list = modes && *modes ? modes : "socket tcp";
    for (size_t pos = 0; pos < list.size();) {
      size_t end = list.find(' ', pos);
      std::string mode = list.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? list.size() : end + 1;
      if (mode.empty()) continue;
      for (int i = 0; i < rounds; ++i) {
        auto ms = Cold(t, "cold-" + k + "-" + mode + "-" + std::to_string(i), mode);
        if (ms) t.cold_ms[mode].push_back(*ms);
      }
    }
  }

 private:
  static void Fail(const std::string& what) { std::fprintf(stderr, "eventbench: %s\n", what.c_str()); }

  std::string Component(const Target& t) const {
    return "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: bench-" + t.kind + "\nspec:\n  type: " +
           t.broker->ComponentType() + "\n  version: v1\n  metadata:\n" + t.broker->ComponentMetadata();
  }

  // An async Function serving bench-sink for `topic`; readiness "" = Ofn's default (tcp).
  std::string Function(const std::string& name, const std::string& topic, const std::string& kind, int min_replicas,
                       const std::string& readiness) const {
    std::string annotations = readiness.empty() ? "" : "  annotations:\n    ofn.io/readiness: " + readiness + "\n";
    return "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name + "\n" + annotations +
           "spec:\n  version: v1\n  image: bench/bench-sink:v1\n  serving:\n    scaleOptions:\n      minReplicas: " +
           std::to_string(min_replicas) + "\n      maxReplicas: 1\n    params:\n      BENCH_OUT: " + out_ +
           "\n    triggers:\n      dapr:\n        - name: bench-" + kind + "\n          topic: " + topic +
           "\n    template:\n      containers:\n        - name: function\n";
  }

  std::string Event(const Target& t, const std::string& topic, const std::string& run, int n, int of) const {
    return MakeEvent(run, n, of, topic, "bench-" + t.kind, static_cast<size_t>(EnvInt("EVENT_SIZE", 1024)));
  }

  // Until the subscriber of `topic` handles an event (it may still be connecting).
  bool Warm(Target& t, const std::string& topic) {
    std::string run = "warm-" + topic;
    for (auto deadline = Clock::now() + 30s; Clock::now() < deadline;) {
      if (!t.broker->PublishOne(topic, Event(t, topic, run, 0, 1))) return false;
      if (WaitResult(out_, run, 500ms)) return true;
    }
    Fail("no subscriber of " + topic + " handled an event within 30 s");
    return false;
  }

  std::optional<Figures> Latency(Target& t, const std::string& topic, const std::string& run) {
    const int n = EnvInt("LAT_EVENTS", 2000);
    const auto interval = std::chrono::microseconds(EnvInt("LAT_INTERVAL_US", 2000));
    auto next = Clock::now();
    for (int i = 0; i < n; ++i, next += interval) {
      std::this_thread::sleep_until(next);
      if (!t.broker->PublishOne(topic, Event(t, topic, run, i, n))) return std::nullopt;
    }
    return WaitResult(out_, run, 60s);
  }

  bool Preload(Target& t, const std::string& topic, const std::string& run) {
    const int n = EnvInt("TPUT_EVENTS", 20000);
    return t.broker->PublishMany(topic, n, [&](int i) { return Event(t, topic, run, i, n); });
  }

  std::optional<double> Cold(Target& t, const std::string& name, const std::string& mode) {
    if (!t.broker->Prepare(name)) return std::nullopt;
    if (api_.Apply(Function(name, name, t.kind, 0, mode == "tcp" ? "" : mode)) != 200) {
      Fail("apply of function " + name + " failed");
      return std::nullopt;
    }
    // At zero, the consumer is all there is: wait for it, as a function
    // idle at zero would have it.
    auto deadline = Clock::now() + 10s;
    while (!t.broker->ConsumerExists(name, name) && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
    std::this_thread::sleep_for(50ms);  // let the consumer's first read reach the broker
    std::optional<Figures> f;
    if (t.broker->PublishOne(name, Event(t, name, name, 0, 1))) f = WaitResult(out_, name, 10s);
    DeleteFunction(name, false);
    if (!f) {
      Fail(name + ": the event was not handled within 10 s");
      return std::nullopt;
    }
    return f->p50 / 1e6;
  }

  // Deletes a Function; `settle` waits until its consumer is surely gone.
  void DeleteFunction(const std::string& name, bool settle = true) {
    api_.Delete("function", name);
    for (auto deadline = Clock::now() + 10s; Clock::now() < deadline && api_.Get("function", name) != 404;)
      std::this_thread::sleep_for(5ms);
    // The consumer and the instance stop after the object is gone (a Redis
    // read blocks for up to 150 ms); their last acks must land first.
    if (settle) std::this_thread::sleep_for(1s);
  }

  pid_t SpawnSubscriber(const Target& t, const std::string& topic) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    std::vector<std::string> args = {"taskset", "-c", cpu_, self, "sub", t.kind, t.address, topic, "bare", out_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawnp(&pid, "taskset", nullptr, nullptr, argv.data(), environ) != 0) Fail("cannot start taskset");
    return pid;
  }

  static void Stop(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  OfnApi api_;
  std::string out_, cpu_;
};

std::string Us(long long ns) { return std::to_string((ns + 500) / 1000); }

void Print(const std::vector<Target>& targets) {
  std::printf("| latency, paced    |     n | p50 (us) | p99 (us) | max (us) |\n");
  std::printf("|-------------------|------:|---------:|---------:|---------:|\n");
  for (const auto& t : targets) {
    for (auto [who, f] : {std::pair{"bare", &t.lat_bare}, std::pair{"ofn", &t.lat_ofn}}) {
      if (!*f) continue;
      std::printf("| %-5s %-11s | %5lld | %8s | %8s | %8s |\n", t.kind.c_str(), who, (*f)->count, Us((*f)->p50).c_str(),
                  Us((*f)->p99).c_str(), Us((*f)->max).c_str());
    }
  }
  std::printf("\n| throughput        |     n |   events/s |\n|-------------------|------:|-----------:|\n");
  for (const auto& t : targets) {
    for (auto [who, f] : {std::pair{"bare", &t.tput_bare}, std::pair{"ofn", &t.tput_ofn}}) {
      if (*f) std::printf("| %-5s %-11s | %5lld | %10.0f |\n", t.kind.c_str(), who, (*f)->count, (*f)->Rate());
    }
  }
  std::printf("\n");
  for (const auto& t : targets) {
    if (t.lat_bare && t.lat_ofn) {
      long long p50 = t.lat_ofn->p50 - t.lat_bare->p50, p99 = t.lat_ofn->p99 - t.lat_bare->p99;
      std::printf("%-5s added latency p50 %+lld us (target <= 200: %s), p99 %+lld us (target <= 1000: %s)\n",
                  t.kind.c_str(), (p50 + (p50 < 0 ? -500 : 500)) / 1000, p50 <= 200'000 ? "met" : "NOT met",
                  (p99 + (p99 < 0 ? -500 : 500)) / 1000, p99 <= 1'000'000 ? "met" : "NOT met");
    }
    if (t.tput_bare && t.tput_ofn && t.tput_bare->Rate() > 0) {
      double r = t.tput_ofn->Rate() / t.tput_bare->Rate();
      std::printf("%-5s throughput ofn/bare %.2f (target >= 0.50: %s)", t.kind.c_str(), r, r >= 0.5 ? "met" : "NOT met");
      if (t.tput_calls > 0) std::printf(", %.1f events per call", double(t.tput_ofn->count) / t.tput_calls);
      std::printf("\n");
    }
  }
  bool any = false;
  for (const auto& t : targets) {
    for (auto [mode, ms] : t.cold_ms) {
      if (ms.empty()) continue;
      if (!any) {
        std::printf("\n| scale from zero (ms)  |     n |    p50 |    max |\n|-----------------------|------:|-------:|-------:|\n");
        any = true;
      }
      std::sort(ms.begin(), ms.end());
      std::printf("| %-5s readiness %-6s | %5zu | %6.2f | %6.2f |\n", t.kind.c_str(), mode.c_str(), ms.size(),
                  ms[ms.size() / 2], ms.back());
    }
  }
  if (any) std::printf("(target: first event handled <= 20 ms after it is published)\n");
}

int Sub(char** argv) {
  std::unique_ptr<Broker> b = Connect(argv[0], argv[1]);
  if (!b) return 1;
  Recorder recorder(argv[4]);
  b->Subscribe(argv[2], argv[3], recorder);
  return 1;  // Subscribe returns only on errors
}

int RunAll(int argc, char** argv) {
  Driver driver(OfnApi(std::atoi(argv[0]), argv[1]), argv[2], argv[3]);
  std::vector<Target> targets;
  for (int i = 4; i < argc; ++i) {
    std::string spec = argv[i];
    size_t eq = spec.find('=');
    Target t;
    t.kind = spec.substr(0, eq);
    t.address = eq == std::string::npos ? "" : spec.substr(eq + 1);
    t.broker = Connect(t.kind, t.address);
    if (!t.broker) return 1;
    targets.push_back(std::move(t));
  }
  for (auto& t : targets) driver.Run(t);
  Print(targets);
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "sub" && argc == 7) return bench::Sub(argv + 2);
  if (mode == "run" && argc >= 7) return bench::RunAll(argc - 2, argv + 2);
  std::fprintf(stderr,
               "usage: %s sub KIND ADDRESS TOPIC GROUP OUT_DIR\n"
               "       %s run API_PORT TOKEN OUT_DIR SUB_CPU KIND=ADDRESS...\n",
               argv[0], argv[0]);
  return 2;
}

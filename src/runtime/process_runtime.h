// ProcessRuntime: runs instances of functions as child processes on this
// machine, restarts them when they crash, and reports their state.
//
// Start() spawns the instance's program (spawn.h: clone/vfork + exec, its own
// process group, nothing but stdin/stdout/stderr and the listening socket
// inherited). With Readiness::kInheritedSocket the runtime binds the
// listening socket itself, hands it over as fd 3 and closes its own copy, so
// the instance is Ready (routable) as soon as Start() returns; with kTcp /
// kHttp the program binds $PORT and the runtime probes it (every 200 µs at
// first, backing off to 10 ms) until it answers or Readiness::timeout passes.
// An instance whose process ends without Stop() is restarted with backoff
// (restart_policy.h) and becomes Failed on a crash loop. Its stdout+stderr go
// through a pipe into a size-capped log (capped_log.h), readable and
// followable with ReadLog(). Memory and CPU limits go through cgroup v2 where
// possible, else RLIMIT_AS (cgroup.h); InstanceState::limits tells which.
//
// One thread per runtime does everything that happens to instances: it waits
// in epoll on a pidfd per process (exit detection without polling or
// SIGCHLD), the output pipes, probe sockets and a timer queue (restart
// backoff, stop grace, probe retries). It is also the thread that spawns,
// because a child is SIGKILLed when the thread that spawned it dies
// (PR_SET_PDEATHSIG): a `kill -9` of the server takes its instances along.
//
// Thread-safety: every method may be called from any thread, including from
// an OnChange callback. Start/Stop/Remove run on the runtime's thread and
// wait for it (Start for the spawn itself, ~0.1-0.2 ms). OnChange callbacks
// run on the runtime's thread, one at a time, in the order of the changes; a
// callback may come for an instance before Start() has returned its id to
// the caller, and State() may show a change a moment before its callback runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ofn/status.h"
#include "runtime/cgroup.h"
#include "runtime/clock.h"
#include "runtime/instance_spec.h"
#include "runtime/instance_state.h"

namespace ofn::runtime {

struct LogChunk {
  std::string data;
  uint64_t offset = 0;       // where `data` begins (later than asked if older bytes were dropped by the cap)
  uint64_t next_offset = 0;  // ask for this next
  bool ended = false;        // the instance is terminal and everything it wrote has been read
};

class ProcessRuntime {
 public:
  struct Options {
    bool use_cgroups = true;  // false: rlimits only, no cgroup directories at all
    CgroupSetupOptions cgroups;
  };
  using ChangeFn = std::function<void(InstanceId, const InstanceState&)>;

  static Result<std::unique_ptr<ProcessRuntime>> Create(Options options);
  static Result<std::unique_ptr<ProcessRuntime>> Create() { return Create(Options{}); }
  // SIGKILLs whatever instance still runs (use Stop() first for a graceful
  // end) and removes the runtime's cgroups.
  ~ProcessRuntime();
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  // Starts an instance. Errors: INVALID_ARGUMENT (empty argv), NOT_FOUND /
  // PERMISSION_DENIED (the program, or the working dir), UNAVAILABLE (the
  // port is taken), INTERNAL (log file, pipes).
  Result<InstanceId> Start(const InstanceSpec& spec);
  // SIGTERM to the instance's process group, SIGKILL after spec.stop_grace;
  // no more restarts. With `wait`, returns once the process has been reaped
  // (not from an OnChange callback: FAILED_PRECONDITION).
  Status Stop(InstanceId id, bool wait);
  // Forgets a terminal instance (FAILED_PRECONDITION while it is not).
  Status Remove(InstanceId id);

  Result<InstanceState> State(InstanceId id) const;
  // "127.0.0.1:port".
  Result<std::string> Endpoint(InstanceId id) const;
  std::vector<InstanceId> Instances() const;
  // Called on every change of state (see the threading note above). Set it
  // before starting instances; replaces any earlier callback.
  void OnChange(ChangeFn fn);
  // Waits until `pred` holds for the instance's state; DEADLINE_EXCEEDED
  // (with the last state in the message) at the deadline.
  Result<InstanceState> Await(InstanceId id, const std::function<bool(const InstanceState&)>& pred,
                              TimePoint deadline) const;

  // The instance's output from `offset` on. With `wait_until` in the future
  // and nothing new yet, waits for output, the instance ending, or that time:
  // `ofn logs -f` is a loop of ReadLog(id, next_offset, ..., now + 1s).
  // NOT_FOUND for an unknown instance or one started without a log_path.
  Result<LogChunk> ReadLog(InstanceId id, uint64_t offset, std::size_t max_bytes = 64 << 10,
                           TimePoint wait_until = {}) const;

  // What SetUpCgroups found (empty base: no cgroups), for describe output.
  const CgroupSupport& cgroups() const;

 private:
  struct Impl;
  explicit ProcessRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ofn::runtime

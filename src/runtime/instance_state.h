// InstanceState: what the process runtime reports about one instance.
//
// Phases: kStarting (spawned, readiness not yet seen), kReady (routable),
// kExited (its process ended: asked to stop, or waiting `restart_in` to be
// restarted when `restart_pending`), kFailed (given up: crash loop, or it
// could not be restarted; `reason` says why). `terminal()` is true once
// nothing more will happen to the instance.
//
// Plain value types, copied out of the runtime; not synchronized.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace ofn::runtime {

using InstanceId = uint64_t;

enum class Phase { kStarting, kReady, kExited, kFailed };
const char* PhaseName(Phase phase);  // "Starting", "Ready", "Exited", "Failed"

// How a process ended.
struct ExitInfo {
  bool exited = false;  // normal exit: `code` is valid
  int code = 0;
  int signal = 0;       // killed by this signal when !exited
  // "exit code 3", "signal 9 (Killed)"
  std::string ToString() const;
};

// Which mechanism enforces a resource limit.
enum class LimitMechanism {
  kNone,         // no limit asked for
  kCgroupV2,     // memory.max / cpu.max of the instance's own cgroup
  kRlimit,       // RLIMIT_AS (address space, not RSS: see cgroup.h)
  kNotEnforced,  // asked for, but nothing here can enforce it (CPU without cgroups)
};
const char* LimitMechanismName(LimitMechanism m);  // "none", "cgroup2", "rlimit", "not-enforced"

struct LimitsInfo {
  LimitMechanism memory = LimitMechanism::kNone;
  LimitMechanism cpu = LimitMechanism::kNone;
  std::string cgroup;  // the instance's cgroup directory, when it has one
};

struct InstanceState {
  Phase phase = Phase::kStarting;
  pid_t pid = 0;       // the running process; 0 when there is none
  int port = 0;        // 127.0.0.1:port (may change across restarts if the port was taken)
  std::string reason;  // kExited: how it ended; kFailed: why it was given up
  std::optional<ExitInfo> last_exit;
  bool restart_pending = false;         // kExited, and a restart is scheduled
  std::chrono::milliseconds restart_in{0};
  int restarts = 0;                     // processes started after the first
  std::chrono::steady_clock::time_point since{};  // when this state was entered
  LimitsInfo limits;

  bool terminal() const { return phase == Phase::kFailed || (phase == Phase::kExited && !restart_pending); }
  // "Ready pid=123 port=4567", "Exited (exit code 0: stopped)", ... for logs and messages.
  std::string ToString() const;
};

}  // namespace ofn::runtime

// Cgroups and limits: which mechanism enforces an instance's memory and CPU
// limits, and the cgroup v2 files that do it.
//
// When a writable cgroup2 hierarchy is mounted (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on hybrid hosts), each process of an instance runs
// in a cgroup of its own, <mount><own cgroup>/ofn/<server pid>/<id>-<name>.<run>
// (a fresh one per restart: see process_runtime.cc). The child starts inside
// it, so a whole instance (grandchildren included) is killed with
// cgroup.kill, and memory.max / cpu.max ("<quota> 100000") limit it when the
// memory and cpu controllers can be delegated down to it. They cannot when
// the server's own cgroup also holds processes (cgroup v2's "no internal
// processes" rule) unless it is the root, and the runtime never changes the
// root's own settings: run the server in a delegated cgroup of its own
// (systemd Delegate=yes, a container) to get them.
//
// Without cgroups, memory falls back to RLIMIT_AS. That limits address space,
// not resident memory: programs that reserve much more than they use (many
// threads with glibc malloc arenas, Go, the JVM) need a limit well above
// their RSS, or MALLOC_ARENA_MAX in their env. CPU has no fallback
// (RLIMIT_CPU is a total, not a rate): it is reported as not enforced.
//
// Everything here is a free function; SetUpCgroups touches the filesystem and
// is called once per runtime. PlanLimits and CpuMax are pure. All are
// thread-safe as far as the filesystem is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"
#include "runtime/instance_spec.h"
#include "runtime/instance_state.h"

namespace ofn::runtime {

struct CgroupSupport {
  std::string base;     // where instance cgroups are created; empty: no cgroups
  bool memory = false;  // the memory controller is enabled for instance cgroups
  bool cpu = false;     // the cpu controller is enabled for instance cgroups
  std::string note;     // what is missing and why, for logs and describe
};

struct CgroupSetupOptions {
  // Candidate cgroup2 mounts, first usable wins.
  std::vector<std::string> mounts = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
  std::string proc_self_cgroup = "/proc/self/cgroup";
};

// Finds a writable cgroup2 mount, creates <mount><own>/ofn/<pid>, delegates
// the memory and cpu controllers down to it where possible, and kills and
// removes what runtimes of processes that no longer exist left under
// <mount><own>/ofn (instances orphaned by a `kill -9` of the server).
CgroupSupport SetUpCgroups(const CgroupSetupOptions& options = {});
// Removes `support.base` (its instance cgroups must be gone).
void TearDownCgroups(const CgroupSupport& support);

// The cgroup v2 path in /proc/self/cgroup's text ("0::/a/b" -> "/a/b").
std::optional<std::string> OwnCgroupV2Path(std::string_view proc_self_cgroup);

struct LimitPlan {
  bool cgroup = false;  // the instance gets a cgroup of its own
  LimitMechanism memory = LimitMechanism::kNone;
  LimitMechanism cpu = LimitMechanism::kNone;
};
LimitPlan PlanLimits(const CgroupSupport& support, const Resources& resources);

// cpu.max for a limit in millicores: "<quota µs> 100000" (quota at least 1000).
std::string CpuMax(int64_t cpu_millis);

// Creates `dir` and writes the limits that `plan` puts on cgroups
// (memory.max, memory.swap.max 0, memory.oom.group 1, cpu.max).
Status CreateInstanceCgroup(const std::string& dir, const Resources& resources, const LimitPlan& plan);
// SIGKILLs every process in the cgroup (cgroup.kill, Linux 5.14+).
Status KillCgroup(const std::string& dir);
// Removes the cgroup, waiting briefly for killed processes to be gone.
Status RemoveCgroup(const std::string& dir);
// True if the kernel OOM-killed a process of the cgroup (memory.events).
bool CgroupOomKilled(const std::string& dir);

}  // namespace ofn::runtime

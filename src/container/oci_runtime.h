// OciRuntime: which OCI runtime runs containers (crun or runc) and how to
// spawn one: `<runtime> run --bundle B [--preserve-fds 1] ID` in the
// foreground, as an ordinary child supervised by runtime::ProcessRuntime
// (restarts, logs, readiness and stop signals shared with plain processes).
//
// Detection (once per preference, cached): crun where it is installed and
// answers `--version`, else runc. On hosts with hybrid cgroups (v1
// controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) crun refuses
// to run ("cgroups in hybrid mode not supported"); it is then started in a
// private mount namespace without that mount (SpawnRequest::private_unmounts:
// no shell), where it uses cgroup v1 and applies limits.
//
// Lifetime: `crun run` / `runc run` stay the container's parent and forward
// SIGTERM/SIGINT to it, so Stop() through the process runtime ends the
// container. A SIGKILLed runtime process does NOT take its container along
// (the container's init is reparented and keeps running — measured, see
// oci_runtime_test): call Delete(id) after the runtime process ended, which
// kills whatever is left (`delete -f`, SIGKILL to the pid namespace's init,
// so all of its processes die) and removes the runtime's state. Delete of a
// container that is already gone is Ok.
//
// Thread-safety: Detect may be called from any thread (the cache is
// synchronised); the rest are free functions on values.
#pragma once

#include <string>
#include <vector>

#include "ofn/status.h"
#include "runtime/spawn.h"

namespace ofn::container {

struct OciRuntime {
  std::string name;  // "crun" or "runc"
  std::string path;  // the executable
  std::vector<std::string> private_unmounts;  // see above; empty for runc
};

// `preferred`: "crun", "runc", or "" (crun where it runs, else runc). The
// server's flag passes it through. NotFound when no runtime is installed.
Result<OciRuntime> DetectOciRuntime(const std::string& preferred = "");

// True on hosts with v1 controllers and a cgroup2 mount at /sys/fs/cgroup/unified.
bool HybridCgroups();

struct RunOptions {
  std::string id;      // unique among running containers: [A-Za-z0-9_.-]+
  std::string bundle;  // directory with config.json (oci_spec.h)
  int output_fd = -1;  // stdout and stderr of the runtime and the container; -1: /dev/null
  int listen_fd = -1;  // passed to the container as fd 3 (write the bundle with ContainerSpec::listen_fd)
};

// The request to spawn `<runtime> run` for this bundle (runtime::Spawn or
// ProcessRuntime). InvalidArgument for a bad id.
Result<runtime::SpawnRequest> RunRequest(const OciRuntime& rt, const RunOptions& options);

// The argv of `<runtime> run ...` alone (what RunRequest spawns).
std::vector<std::string> RunArgv(const OciRuntime& rt, const RunOptions& options);

// Kills and removes the container `id` (`delete -f`); Ok if it is not there.
Status Delete(const OciRuntime& rt, const std::string& id);

// The ids of the containers the runtime knows (`list --format json`).
Result<std::vector<std::string>> ListContainers(const OciRuntime& rt);

// The pid (in the host's pid namespace) of the container's init, from
// `<runtime> state`; NotFound when the container does not exist.
Result<int> InitPid(const OciRuntime& rt, const std::string& id);

}  // namespace ofn::container

// InstanceSpec: everything the process runtime needs to run one instance of a
// function as a child process.
//
// The program is either the function's built executable or the command of the
// Function's `serving.template.containers[name=function]` (command + args,
// env, workingDir), so any program that serves HTTP on $PORT can be an
// instance. The controller computes OpenFunction's environment (FUNC_CONTEXT,
// FUNCTION_TARGET, POD_NAME, params ...) and passes it in `env`; the runtime
// only adds PORT (and LISTEN_FDS/LISTEN_PID with an inherited socket).
//
// A plain value type: copy it freely; not synchronized.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/restart_policy.h"

namespace ofn::runtime {

// How the runtime learns that an instance can take requests.
struct Readiness {
  enum class Kind {
    // The runtime creates the listening socket (127.0.0.1) and passes it as
    // fd 3 with LISTEN_FDS=1 / LISTEN_PID (systemd socket activation) and PORT.
    // The instance is ready the moment it is spawned: connections wait in the
    // kernel's backlog until the function accepts them. Only for programs
    // that honour LISTEN_FDS (every libofn function does).
    kInheritedSocket,
    // The program binds $PORT itself; ready once a TCP connect succeeds.
    kTcp,
    // The program binds $PORT itself; ready once GET http_path answers 2xx.
    kHttp,
  };
  Kind kind = Kind::kInheritedSocket;
  std::string http_path = "/";
  // Not ready by then (kTcp/kHttp): the process is killed and that counts as
  // a crash (restarted with backoff).
  std::chrono::milliseconds timeout{30000};
};

// From the container's `resources.limits`.
struct Resources {
  int64_t memory_bytes = 0;  // 0 = no limit
  int64_t cpu_millis = 0;    // 1000 = one CPU; 0 = no limit
};

struct InstanceSpec {
  std::string name;                 // for logs and the cgroup's name, e.g. "default/hello"
  std::vector<std::string> argv;    // argv[0]: a path, or a name looked up in the child's PATH
  // Later entries win over earlier ones; PORT and LISTEN_* are the runtime's
  // and replaced (OpenFunction manifests often set PORT=8080).
  std::vector<std::pair<std::string, std::string>> env;
  // Also pass the server's whole environment (else only PATH, HOME, LANG,
  // LC_ALL, TZ, TMPDIR, USER and LOGNAME pass, unless `env` sets them).
  bool inherit_env = false;
  std::string working_dir;          // empty: the server's; a relative argv[0] is resolved against it
  int port = 0;                     // 0: any free port on 127.0.0.1
  std::string log_path;             // stdout+stderr; empty: discarded
  std::size_t log_cap_bytes = 8u << 20;  // 0: unbounded (see capped_log.h for how the cap is kept)
  Readiness readiness;
  Resources resources;
  // After SIGTERM to the instance's process group, SIGKILL after this long.
  std::chrono::milliseconds stop_grace{10000};
  // Restart the process whenever it ends without Stop() (any exit code).
  bool restart = true;
  RestartOptions restart_options;
  // Mounts the process must not see (spawn.h): an OCI runtime on hybrid cgroups.
  std::vector<std::string> private_unmounts;
  // Runs on the runtime's thread after each end of the process, before any
  // restart: what the process leaves behind when killed (a container).
  std::function<void()> after_exit;
};

}  // namespace ofn::runtime

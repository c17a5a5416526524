// Spawn: starts one child process the fast way, with exactly the file
// descriptors, environment, process group, cgroup and rlimit an instance
// needs.
//
// The child is created with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) (clone3
// with CLONE_INTO_CGROUP when it goes into a cgroup, where available): it
// borrows the parent's memory until execve, so starting costs the same
// however big the server is (fork() copies page tables: slower as the server
// grows; spawn_test measures both). The price is that the child may only make
// system calls before exec: everything (argv, envp, resolved path) is
// prepared in the parent, and errors before exec are handed back through
// memory shared with the parent. The child:
//   - has its own process group (pgid = pid), default signal dispositions and
//     an empty signal mask;
//   - gets /dev/null as stdin, `output_fd` as stdout and stderr, `listen_fd`
//     (if any) as fd 3 with LISTEN_PID=<its pid> in its environment, and no
//     other descriptor (close_range), whatever other threads opened meanwhile;
//   - with `private_unmounts`, runs in its own mount namespace without
//     those mounts (unshare + umount2 in the child: system calls only);
//   - starts in the cgroup `cgroup_fd` (CLONE_INTO_CGROUP; else it writes its
//     cgroup.procs before exec, a migration that briefly blocks every fork
//     and thread exit of the server);
//   - is SIGKILLed when the thread that spawned it dies (PR_SET_PDEATHSIG), so
//     a `kill -9` of the server leaves no instance behind: spawn from a
//     thread that lives as long as the children should.
// Reap the child only through its pidfd (WaitPidfd): the server must neither
// ignore SIGCHLD nor reap with waitpid(-1), or exit statuses are lost.
//
// Thread-safety: Spawn may be called from several threads at once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ofn/status.h"
#include "runtime/instance_state.h"

namespace ofn::runtime {

struct SpawnRequest {
  std::string path;               // the executable (see ResolveExecutable)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "NAME=value"; with listen_fd, LISTEN_PID is added
  std::string working_dir;        // empty: the parent's
  int output_fd = -1;             // stdout and stderr; -1: /dev/null
  int listen_fd = -1;             // becomes fd 3; -1: none
  int cgroup_fd = -1;             // an open cgroup directory to start in; -1: stay
  int64_t rlimit_as = 0;          // RLIMIT_AS in bytes; 0: inherited
  bool kill_with_parent = true;   // PR_SET_PDEATHSIG(SIGKILL)
  bool use_clone3 = true;         // false: join cgroup_fd the slow way (to compare in tests)
  // Mounts the child must not see: it enters a new mount namespace, makes
  // every mount there private (nothing propagates back to the host) and
  // detaches these before exec. For crun on hybrid cgroup hosts, which
  // refuses to run while /sys/fs/cgroup/unified is mounted.
  std::vector<std::string> private_unmounts;
};

struct SpawnedChild {
  pid_t pid = 0;
  int pidfd = -1;  // O_CLOEXEC; the caller closes it after reaping
};

// Errors name the step that failed in the child ("chdir /x: No such file or
// directory", "exec /bin/nope: ..."); the failed child is reaped.
Result<SpawnedChild> Spawn(const SpawnRequest& request);

// Finds what execve should run for `command`: a name without '/' is searched
// in `path_env` (a PATH value); a relative path is taken from `working_dir`
// when given. NOT_FOUND or PERMISSION_DENIED (not executable) otherwise.
Result<std::string> ResolveExecutable(const std::string& command, const std::string& path_env,
                                      const std::string& working_dir);

// Reaps the child (blocking until it has ended) and tells how it ended.
Result<ExitInfo> WaitPidfd(int pidfd);
// Reaps the child if it has ended; nullopt while it still runs.
Result<std::optional<ExitInfo>> TryWaitPidfd(int pidfd);

}  // namespace ofn::runtime

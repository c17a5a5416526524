// OciSpec: the OCI runtime-spec `config.json` of one container instance,
// for crun or runc to run from a bundle directory.
//
// What every instance gets (a locked-down default, not configurable beyond
// ContainerSpec):
//   - root: the image's shared rootfs (rootfs_store.h), read-only; /tmp is a
//     tmpfs, so that is the only writable place;
//   - mounts: /proc, /dev (tmpfs) with /dev/pts, /dev/shm, /dev/mqueue,
//     /sys (read-only), /tmp;
//   - namespaces: pid, ipc, uts (hostname), mount, network (a prepared netns
//     by path — netns.h — or a fresh one);
//   - noNewPrivileges; no capabilities at all for a non-root user, else
//     kRootCapabilities; runc's default masked and read-only /proc paths;
//     RLIMIT_NOFILE; memory limit and CPU quota (period 100 ms);
//   - seccomp: allow by default, EPERM for the calls a function never needs
//     and that widen what a container can reach (kSeccompDenied), and for
//     clone/unshare with any CLONE_NEW* flag; clone3 gets ENOSYS so libc
//     falls back to clone, whose flags the filter can see.
//
// Thread-safety: free functions on values; WriteBundle writes one file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ofn/status.h"

namespace ofn::container {

// Denied with EPERM (names unknown to an architecture are skipped by the runtime).
inline const std::vector<std::string> kSeccompDenied = {
    "acct", "add_key", "adjtimex", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
    "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "init_module", "ioperm", "iopl",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key", "setns",
    "settimeofday", "swapoff", "swapon", "syslog", "umount2", "unshare", "uselib", "userfaultfd", "vhangup"};

// The capabilities of a container running as root (uid 0).
inline const std::vector<std::string> kRootCapabilities = {
    "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL",        "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID"};

struct ContainerSpec {
  std::string rootfs;              // absolute path of the (shared) rootfs
  std::vector<std::string> args;   // the process; empty: image entrypoint + cmd (see ImageArgs)
  std::vector<std::string> env;    // "KEY=VALUE"
  // fd 3 is an inherited listening socket (oci_runtime.h --preserve-fds):
  // adds LISTEN_FDS=1 and LISTEN_PID=1 (the process is pid 1 of its pid
  // namespace) to env, replacing any there.
  bool listen_fd = false;
  std::string cwd = "/";
  std::string user;                // "uid[:gid]" or "name[:group]" (resolved in the rootfs); empty: 0:0
  std::string hostname = "ofn";
  std::string netns_path;          // empty: a new network namespace
  std::string cgroups_path;        // e.g. "/ofn/<id>"; empty: the runtime's default
  int64_t memory_bytes = 0;        // 0: no limit
  int64_t cpu_millis = 0;          // 0: no limit
  uint64_t nofile = 0;             // RLIMIT_NOFILE soft = hard; 0: 65536, capped at this process's hard limit
  int64_t tmp_size_bytes = 64 << 20;
};

// The process args for an image, as Kubernetes runs a container: `command`
// replaces the entrypoint (and then the image's cmd is not used), `args`
// replaces cmd; neither: entrypoint + cmd.
std::vector<std::string> ImageArgs(const std::vector<std::string>& entrypoint, const std::vector<std::string>& cmd,
                                   const std::vector<std::string>& command = {},
                                   const std::vector<std::string>& args = {});

struct UserIds {
  uint32_t uid = 0;
  uint32_t gid = 0;
};
// Resolves "uid", "uid:gid", "name", "name:group" (and mixes) against the
// rootfs's /etc/passwd and /etc/group (opened without following symlinks out
// of the rootfs). A name that is not there: NotFound naming it.
Result<UserIds> ResolveUser(const std::string& rootfs, const std::string& user);

Result<nlohmann::json> OciSpecJson(const ContainerSpec& spec);
// Writes `dir/config.json` (creating dir); returns its path.
Result<std::string> WriteBundle(const std::string& dir, const ContainerSpec& spec);

}  // namespace ofn::container

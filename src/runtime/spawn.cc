#include "runtime/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// clone3() for a child on its own stack: glibc has no wrapper, and the child
// cannot return through a C function (it starts on an empty stack), so the
// child branch calls fn(arg) and exits right here. Only the kernel ABI is
// used: syscall preserves every register but rax/rcx/r11 (x86-64), svc every
// register but x0 (arm64), and the child starts with the parent's registers.
#if defined(__x86_64__)
#define OFN_HAVE_CLONE3 1
asm(R"(
  .text
  .globl ofn_runtime_clone3
  .hidden ofn_runtime_clone3
  .type ofn_runtime_clone3, @function
ofn_runtime_clone3:
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jnz 1f
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
1:
  ret
  .size ofn_runtime_clone3, .-ofn_runtime_clone3
)");
#elif defined(__aarch64__)
#define OFN_HAVE_CLONE3 1
asm(R"(
  .text
  .globl ofn_runtime_clone3
  .hidden ofn_runtime_clone3
  .type ofn_runtime_clone3, %function
ofn_runtime_clone3:
  mov x9, x2
  mov x10, x3
  mov x8, #435
  svc #0
  cbnz x0, 1f
  mov x29, xzr
  mov x0, x10
  blr x9
  mov x8, #93
  svc #0
1:
  ret
  .size ofn_runtime_clone3, .-ofn_runtime_clone3
)");
#endif

#ifdef OFN_HAVE_CLONE3
// Returns the child's pid in the parent, or -errno; never returns in the child.
extern "C" long ofn_runtime_clone3(void* args, unsigned long size, int (*fn)(void*), void* arg);
#endif

namespace ofn::runtime {
namespace {

#ifdef OFN_HAVE_CLONE3
// struct clone_args of <linux/sched.h> (version 2, with `cgroup`), spelled
// out: that header's CLONE_* macros clash with glibc's.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
// Cleared once the kernel (or a seccomp filter) refuses clone3 / CLONE_INTO_CGROUP.
std::atomic<bool> g_clone3_works{true};
#endif

constexpr size_t kChildStack = 64 * 1024;
constexpr int kFirstFreeFd = 10;  // sources of the child's fds 0-3 live above this

// What the child did last before failing; shown in the error.
enum Step : int {
  kStepNone = 0, kStepPgid, kStepParent, kStepCgroup, kStepRlimit, kStepMountNs, kStepUnmount, kStepChdir, kStepFds,
  kStepExec
};

struct ChildArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // null: stay
  int stdin_fd;
  int output_fd;
  int listen_fd;
  int cgroup_fd;    // the cgroup's directory
  bool join_cgroup;  // write cgroup.procs (when clone3 did not put us there)
  int64_t rlimit_as;
  bool pdeathsig;
  pid_t parent;
  char* listen_pid_digits;  // room for 10 digits and a NUL, inside an envp string
  char* const* unmounts;    // null-terminated; null: stay in the parent's mount namespace
  // Written by the child, read by the parent once clone() returns (the
  // parent is suspended until the child execs or exits: CLONE_VFORK).
  volatile int err;
  volatile int step;
  volatile int failed_unmount;  // index into unmounts of the one that failed
};

// Signal masks through the raw system call: glibc's wrappers refuse to block
// its own internal signals, and none may run a handler in the child while it
// shares the parent's memory.
void SetMask(const sigset_t* set, sigset_t* old) {
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, set, old, _NSIG / 8);
}

[[noreturn]] void ChildFail(ChildArgs* a, int step) {
  a->err = errno;
  a->step = step;
  ::_exit(127);
}

// Runs in the child between clone and exec: system calls only.
int ChildMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // Handlers are reset by exec anyway; ignored signals are not, and a server
  // that ignores SIGPIPE must not hand that to its functions.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < _NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  }
  if (::setpgid(0, 0) != 0) ChildFail(a, kStepPgid);
  if (a->pdeathsig) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != a->parent) {  // the parent already died
      errno = ESRCH;
      ChildFail(a, kStepParent);
    }
  }
  if (a->join_cgroup) {
    int procs = ::openat(a->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (procs < 0 || ::write(procs, "0", 1) != 1) ChildFail(a, kStepCgroup);
    ::close(procs);
  }
  if (a->rlimit_as > 0) {
    struct rlimit rl {};
    rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(a->rlimit_as);
    if (::setrlimit(RLIMIT_AS, &rl) != 0) ChildFail(a, kStepRlimit);
  }
  if (a->unmounts != nullptr) {
    // A new mount namespace (the child does not share the parent's fs_struct:
    // no CLONE_FS), private so the unmounts stay in it.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ChildFail(a, kStepMountNs);
    }
    for (int i = 0; a->unmounts[i] != nullptr; ++i) {
      if (::umount2(a->unmounts[i], MNT_DETACH) != 0) {
        a->failed_unmount = i;
        ChildFail(a, kStepUnmount);
      }
    }
  }
  if (a->cwd != nullptr && ::chdir(a->cwd) != 0) ChildFail(a, kStepChdir);
  // Sources are all >= kFirstFreeFd, so no dup2 overwrites another's source.
  if (::dup2(a->stdin_fd, 0) < 0 || ::dup2(a->output_fd, 1) < 0 || ::dup2(a->output_fd, 2) < 0) ChildFail(a, kStepFds);
  unsigned first_closed = 3;
  if (a->listen_fd >= 0) {
    if (::dup2(a->listen_fd, 3) < 0) ChildFail(a, kStepFds);
    first_closed = 4;
  }
  if (::close_range(first_closed, ~0U, 0) != 0) ChildFail(a, kStepFds);
  if (a->listen_pid_digits != nullptr) {
    // getpid() in the child: the pid is only known after clone.
    char tmp[16];
    int n = 0;
    for (pid_t p = ::getpid(); p > 0 && n < 10; p /= 10) tmp[n++] = static_cast<char>('0' + p % 10);
    for (int i = 0; i < n; ++i) a->listen_pid_digits[i] = tmp[n - 1 - i];
    a->listen_pid_digits[n] = '\0';
  }
  sigset_t none;
  std::memset(&none, 0, sizeof none);
  SetMask(&none, nullptr);
  ::execve(a->path, a->argv, a->envp);
  ChildFail(a, kStepExec);
}

const char* StepName(int step) {
  switch (step) {
    case kStepPgid: return "setpgid";
    case kStepParent: return "parent died";
    case kStepCgroup: return "join cgroup";
    case kStepRlimit: return "setrlimit";
    case kStepMountNs: return "private mount namespace";
    case kStepUnmount: return "unmount";
    case kStepChdir: return "chdir";
    case kStepFds: return "set up file descriptors";
    case kStepExec: return "exec";
    default: return "start";
  }
}

// A descriptor numbered >= kFirstFreeFd referring to the same file (the
// original is closed if a copy was made). -1 on failure.
int Lift(int fd) {
  if (fd < 0 || fd >= kFirstFreeFd) return fd;
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, kFirstFreeFd);
  return copy;
}

class FdCopy {
 public:
  explicit FdCopy(int fd) : orig_(fd), fd_(Lift(fd)) {}
  ~FdCopy() {
    if (fd_ >= 0 && fd_ != orig_) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return orig_ < 0 || fd_ >= 0; }

 private:
  int orig_;
  int fd_;
};

ExitInfo FromSiginfo(const siginfo_t& si) {
  ExitInfo e;
  if (si.si_code == CLD_EXITED) {
    e.exited = true;
    e.code = si.si_status;
  } else {
    e.signal = si.si_status;
  }
  return e;
}

}  // namespace

Result<SpawnedChild> Spawn(const SpawnRequest& req) {
  if (req.argv.empty()) return Status::InvalidArgument("spawn: empty argv");

  // Everything the child touches is prepared here.
  std::vector<std::string> env = req.env;
  size_t listen_pid_index = 0;
  if (req.listen_fd >= 0) {
    listen_pid_index = env.size();
    env.emplace_back("LISTEN_PID=" + std::string(11, '\0'));
  }
  std::vector<char*> argv, envp;
  std::vector<std::string> argv_copy = req.argv;
  for (auto& s : argv_copy) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> unmount_copy = req.private_unmounts;
  std::vector<char*> unmounts;
  for (auto& s : unmount_copy) unmounts.push_back(s.data());
  unmounts.push_back(nullptr);

  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return Status::Internal(std::string("open /dev/null: ") + std::strerror(errno));
  FdCopy in(devnull), out(req.output_fd >= 0 ? req.output_fd : devnull), listen(req.listen_fd),
      cgroup(req.cgroup_fd);
  if (!in.ok() || !out.ok() || !listen.ok() || !cgroup.ok()) {
    int err = errno;
    ::close(devnull);
    return Status::Internal(std::string("spawn: duplicate descriptors: ") + std::strerror(err));
  }

  ChildArgs a{};
  a.path = req.path.c_str();
  a.argv = argv.data();
  a.envp = envp.data();
  a.cwd = req.working_dir.empty() ? nullptr : req.working_dir.c_str();
  a.stdin_fd = in.get();
  a.output_fd = out.get();
  a.listen_fd = listen.get();
  a.cgroup_fd = cgroup.get();
  a.rlimit_as = req.rlimit_as;
  a.pdeathsig = req.kill_with_parent;
  a.parent = ::getpid();
  a.unmounts = req.private_unmounts.empty() ? nullptr : unmounts.data();
  a.listen_pid_digits = req.listen_fd >= 0 ? env[listen_pid_index].data() + std::strlen("LISTEN_PID=") : nullptr;

  void* stack = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int err = errno;
    ::close(devnull);
    return Status::ResourceExhausted(std::string("spawn: stack: ") + std::strerror(err));
  }

  sigset_t all, old;
  std::memset(&all, 0xff, sizeof all);
  SetMask(&all, &old);
  int pidfd = -1;
  pid_t pid = -1;
  int clone_err = 0;
#ifdef OFN_HAVE_CLONE3
  // Born inside the cgroup: no moment outside it, and no migration, which
  // takes the kernel's cgroup_threadgroup_rwsem for writing and so stalls
  // every fork and thread exit of this (busy, threaded) server meanwhile.
  if (a.cgroup_fd >= 0 && req.use_clone3 && g_clone3_works.load(std::memory_order_relaxed)) {
    CloneArgs cl{};
    cl.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | kCloneIntoCgroup;
    cl.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    cl.exit_signal = SIGCHLD;
    cl.stack = reinterpret_cast<uint64_t>(stack);
    cl.stack_size = kChildStack;
    cl.cgroup = static_cast<uint64_t>(a.cgroup_fd);
    long r = ofn_runtime_clone3(&cl, sizeof cl, ChildMain, &a);
    if (r > 0) {
      pid = static_cast<pid_t>(r);
    } else if (r == -ENOSYS || r == -E2BIG || r == -EINVAL) {
      g_clone3_works.store(false, std::memory_order_relaxed);  // old kernel or seccomp: the fallback from now on
    }
  }
#endif
  if (pid < 0) {
    a.join_cgroup = a.cgroup_fd >= 0;
    pid = ::clone(ChildMain, static_cast<char*>(stack) + kChildStack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &a,
                  &pidfd);
    clone_err = errno;
  }
  SetMask(&old, nullptr);
  ::munmap(stack, kChildStack);
  ::close(devnull);

  if (pid < 0) return Status::Unavailable(std::string("spawn: clone: ") + std::strerror(clone_err));
  if (a.step != kStepNone) {
    int err = a.err;
    int step = a.step;
    WaitPidfd(pidfd);
    ::close(pidfd);
    std::string what = StepName(step);
    if (step == kStepExec) what += " " + req.path;
    if (step == kStepChdir) what += " " + req.working_dir;
    if (step == kStepUnmount) what += " " + req.private_unmounts[static_cast<size_t>(a.failed_unmount)];
    StatusCode code = err == ENOENT ? StatusCode::kNotFound
                      : err == EACCES || err == EPERM ? StatusCode::kPermissionDenied
                                                      : StatusCode::kUnavailable;
    return Status(code, what + ": " + std::strerror(err));
  }
  return SpawnedChild{pid, pidfd};
}

Result<std::string> ResolveExecutable(const std::string& command, const std::string& path_env,
                                      const std::string& working_dir) {
  if (command.empty()) return Status::InvalidArgument("empty command");
  auto check = [](const std::string& p) -> Status {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return Status::NotFound(p + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return Status::PermissionDenied(p + ": not a regular file");
    if (::access(p.c_str(), X_OK) != 0) return Status::PermissionDenied(p + ": not executable");
    return Status::Ok();
  };
  if (command.find('/') != std::string::npos) {
    std::string p = command;
    if (p[0] != '/' && !working_dir.empty()) p = working_dir + "/" + p;
    Status s = check(p);
    if (!s.ok()) return s;
    return p;
  }
  std::string search = path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env;
  Status last = Status::NotFound(command + ": not found in PATH " + search);
  size_t pos = 0;
  while (pos <= search.size()) {
    size_t colon = search.find(':', pos);
    std::string dir = search.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (dir.empty()) dir = working_dir.empty() ? "." : working_dir;
    else if (dir[0] != '/' && !working_dir.empty()) dir = working_dir + "/" + dir;
    std::string p = dir + "/" + command;
    Status s = check(p);
    if (s.ok()) return p;
    if (s.code() == StatusCode::kPermissionDenied) last = s;
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return last;
}

Result<ExitInfo> WaitPidfd(int pidfd) {
  siginfo_t si{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | __WALL) != 0) {
    if (errno != EINTR) return Status::Internal(std::string("waitid: ") + std::strerror(errno));
  }
  return FromSiginfo(si);
}

Result<std::optional<ExitInfo>> TryWaitPidfd(int pidfd) {
  siginfo_t si{};
  si.si_pid = 0;
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG | __WALL) != 0) {
    if (errno != EINTR) return Status::Internal(std::string("waitid: ") + std::strerror(errno));
  }
  if (si.si_pid == 0) return std::optional<ExitInfo>();
  return std::optional<ExitInfo>(FromSiginfo(si));
}

}  // namespace ofn::runtime

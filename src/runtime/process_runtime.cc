#include "runtime/process_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>

#include "common/log.h"
#include "runtime/capped_log.h"
#include "runtime/readiness_probe.h"
#include "runtime/restart_policy.h"
#include "runtime/spawn.h"

extern char** environ;

namespace ofn::runtime {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr microseconds kFirstProbe{200};
constexpr microseconds kMaxProbeBackoff{10000};
constexpr milliseconds kProbeAttemptTimeout{1000};
constexpr size_t kTailLines = 10;
constexpr size_t kTailBytes = 2048;

// What an epoll event is about: the instance id shifted left, a tag below.
enum Tag : uint64_t { kTagWake = 0, kTagPidfd = 1, kTagOutput = 2, kTagProbe = 3 };
constexpr uint64_t Key(InstanceId id, Tag tag) { return (id << 2) | tag; }

enum TimerKind { kTimerRestart, kTimerKill, kTimerProbe, kTimerReadyDeadline, kTimerKinds };

struct Timer {
  TimePoint at;
  InstanceId id;
  TimerKind kind;
  uint64_t token;
  bool operator>(const Timer& o) const { return at > o.at; }
};

// Variables a child gets from the server's environment unless told otherwise.
constexpr const char* kPassedEnv[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"};

// Set by the runtime; never taken from the server or the spec.
bool RuntimeOwned(std::string_view name) {
  return name == "PORT" || name == "LISTEN_FDS" || name == "LISTEN_PID" || name == "LISTEN_FDNAMES";
}

std::string Millis(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

// A cgroup directory name from an instance name: [A-Za-z0-9._-] only.
std::string CgroupName(InstanceId id, const std::string& name) {
  std::string out = std::to_string(id);
  if (!name.empty()) out += "-";
  for (char c : name.substr(0, 64)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_';
    out += ok ? c : '_';
  }
  return out;
}

// A listening socket on 127.0.0.1:port (0: any), blocking as systemd hands
// them over; the function sets what mode it likes.
Result<int> Listen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  // A restarted instance gets its port back despite connections of the
  // previous process in TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4096) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Unavailable("listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err));
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

// A port that was free a moment ago, for programs that bind $PORT themselves.
Result<int> FreePort() {
  auto fd = Listen(0);
  if (!fd.ok()) return fd.status();
  int port = BoundPort(*fd);
  ::close(*fd);
  return port;
}

void WarnCpuNotEnforcedOnce(const std::string& note) {
  static std::once_flag once;
  std::call_once(once, [&] {
    log::Warn("CPU limits are not enforced: no cgroup v2 cpu controller (RLIMIT_CPU is not a rate limit)",
              {{"cgroups", note}});
  });
}

struct Instance {
  Instance(InstanceId i, InstanceSpec s) : id(i), spec(std::move(s)), policy(spec.restart_options) {}

  const InstanceId id;
  const InstanceSpec spec;
  std::string exe;               // resolved argv[0]
  std::vector<std::string> env;  // without PORT / LISTEN_*
  LimitPlan plan;
  std::string cgroup_dir;        // empty: none
  std::shared_ptr<CappedLog> log;
  RestartPolicy policy;

  pid_t pid = 0;
  int pidfd = -1;
  int out_fd = -1;               // read end of the output pipe
  bool stop_requested = false;
  bool ready_timed_out = false;
  std::unique_ptr<ProbeAttempt> probe;
  microseconds probe_backoff{0};
  uint64_t tokens[kTimerKinds] = {};  // the live timer of each kind; others are stale

  InstanceState state;
};

}  // namespace

struct ProcessRuntime::Impl {
  Options options;
  CgroupSupport cgroups;
  int epfd = -1;
  int wakefd = -1;
  std::thread loop;
  std::thread::id loop_id;

  // Everything below is guarded by mu. The loop thread holds mu while it
  // handles events and posted work; only it changes instances.
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // any change of state, output, or posted work done
  bool quit = false;
  std::map<InstanceId, std::unique_ptr<Instance>> instances;
  InstanceId next_id = 1;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  uint64_t next_token = 1;
  struct Work {
    std::function<void()> fn;
    bool done = false;
  };
  std::deque<std::shared_ptr<Work>> posted;
  std::vector<std::pair<InstanceId, InstanceState>> changes;  // to deliver
  ChangeFn on_change;

  ~Impl();
  void Loop();
  // Runs fn on the loop thread with mu held and waits for it.
  void Call(std::function<void()> fn);
  void Wake() const {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakefd, &one, sizeof one);
  }
  void Deliver();

  // All of the following run on the loop thread with mu held.
  Status SpawnProcess(Instance& inst);
  void SetState(Instance& inst, InstanceState s);
  void Schedule(Instance& inst, TimerKind kind, TimePoint at);
  void Cancel(Instance& inst, TimerKind kind) { inst.tokens[kind] = 0; }
  void OnTimer(const Timer& t);
  void OnExit(Instance& inst);
  void OnOutput(Instance& inst, bool to_eof);
  void CloseOutput(Instance& inst);
  void OnProbeEvent(Instance& inst);
  void ProbeNow(Instance& inst);
  void ProbeFailed(Instance& inst);
  void Ready(Instance& inst);
  void KillGroup(Instance& inst, int sig);
  void DoStop(Instance& inst);
  void RemoveCgroupOf(Instance& inst);
  Instance* Find(InstanceId id) const {
    auto it = instances.find(id);
    return it == instances.end() ? nullptr : it->second.get();
  }
};

ProcessRuntime::Impl::~Impl() {
  if (loop.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu);
      quit = true;
    }
    Wake();
    loop.join();
  }
  // No graceful stop here: whoever wanted one called Stop().
  for (auto& [id, inst] : instances) {
    if (inst->pid != 0) {
      KillGroup(*inst, SIGKILL);
      WaitPidfd(inst->pidfd);
      ::close(inst->pidfd);
      inst->pid = 0;
    }
    if (inst->out_fd >= 0) ::close(inst->out_fd);
    RemoveCgroupOf(*inst);
  }
  if (options.use_cgroups) TearDownCgroups(cgroups);
  if (epfd >= 0) ::close(epfd);
  if (wakefd >= 0) ::close(wakefd);
}

void ProcessRuntime::Impl::Call(std::function<void()> fn) {
  if (std::this_thread::get_id() == loop_id) {
    // From an OnChange callback: the loop is ours, mu is not held.
    std::lock_guard<std::mutex> lock(mu);
    fn();
    return;
  }
  auto work = std::make_shared<Work>();
  work->fn = std::move(fn);
  std::unique_lock<std::mutex> lock(mu);
  posted.push_back(work);
  Wake();
  cv.wait(lock, [&] { return work->done; });
}

void ProcessRuntime::Impl::Deliver() {
  for (;;) {
    std::vector<std::pair<InstanceId, InstanceState>> batch;
    ChangeFn fn;
    {
      std::lock_guard<std::mutex> lock(mu);
      batch.swap(changes);
      fn = on_change;
    }
    if (batch.empty()) return;
    if (!fn) continue;
    for (const auto& [id, state] : batch) fn(id, state);
  }
}

void ProcessRuntime::Impl::Loop() {
  epoll_event events[64];
  for (;;) {
    // How long until the next live timer.
    timespec ts{};
    const timespec* timeout = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (quit) return;
      while (!timers.empty()) {
        const Timer& t = timers.top();
        Instance* inst = Find(t.id);
        if (inst != nullptr && inst->tokens[t.kind] == t.token) break;
        timers.pop();  // stale
      }
      if (!timers.empty()) {
        auto left = std::max(timers.top().at - SteadyNow(), TimePoint::duration::zero());
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        ts.tv_sec = static_cast<time_t>(ns / 1000000000);
        ts.tv_nsec = static_cast<long>(ns % 1000000000);
        timeout = &ts;
      }
    }
    // epoll_pwait2 takes a timespec: probe intervals are sub-millisecond.
    int n = static_cast<int>(::syscall(SYS_epoll_pwait2, epfd, events, 64, timeout, nullptr, 0));
    if (n < 0 && errno == ENOSYS) {
      int ms = -1;
      if (timeout != nullptr) ms = static_cast<int>(ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000);
      n = ::epoll_wait(epfd, events, 64, ms);
    }
    if (n < 0 && errno != EINTR) {
      log::Error("process runtime: epoll failed; instances are no longer watched", {{"error", std::strerror(errno)}});
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (quit) return;
      for (int i = 0; i < n; ++i) {
        uint64_t key = events[i].data.u64;
        auto tag = static_cast<Tag>(key & 3);
        if (tag == kTagWake) {
          uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(wakefd, &v, sizeof v);
          continue;
        }
        Instance* inst = Find(key >> 2);
        if (inst == nullptr) continue;
        switch (tag) {
          case kTagPidfd: if (inst->pidfd >= 0) OnExit(*inst); break;
          case kTagOutput:
            if (inst->out_fd >= 0) OnOutput(*inst, (events[i].events & (EPOLLHUP | EPOLLERR)) != 0);
            break;
          case kTagProbe: if (inst->probe) OnProbeEvent(*inst); break;
          default: break;
        }
      }
      TimePoint now = SteadyNow();
      while (!timers.empty() && timers.top().at <= now) {
        Timer t = timers.top();
        timers.pop();
        Instance* inst = Find(t.id);
        if (inst != nullptr && inst->tokens[t.kind] == t.token) {
          inst->tokens[t.kind] = 0;
          OnTimer(t);
        }
      }
      while (!posted.empty()) {
        auto work = posted.front();
        posted.pop_front();
        work->fn();
        work->done = true;
      }
    }
    cv.notify_all();
    Deliver();
  }
}

void ProcessRuntime::Impl::SetState(Instance& inst, InstanceState s) {
  s.limits.memory = inst.plan.memory;
  s.limits.cpu = inst.plan.cpu;
  s.limits.cgroup = inst.cgroup_dir;
  s.since = SteadyNow();
  inst.state = std::move(s);
  changes.emplace_back(inst.id, inst.state);
}

void ProcessRuntime::Impl::Schedule(Instance& inst, TimerKind kind, TimePoint at) {
  inst.tokens[kind] = next_token++;
  timers.push(Timer{at, inst.id, kind, inst.tokens[kind]});
}

void ProcessRuntime::Impl::KillGroup(Instance& inst, int sig) {
  if (inst.pid != 0) ::kill(-inst.pid, sig);
  if (sig == SIGKILL && !inst.cgroup_dir.empty()) KillCgroup(inst.cgroup_dir);
}

void ProcessRuntime::Impl::RemoveCgroupOf(Instance& inst) {
  if (inst.cgroup_dir.empty()) return;
  KillCgroup(inst.cgroup_dir);
  Status s = RemoveCgroup(inst.cgroup_dir);
  if (!s.ok()) log::Warn("process runtime: cgroup left behind", {{"error", s.message()}});
  inst.cgroup_dir.clear();
}

Status ProcessRuntime::Impl::SpawnProcess(Instance& inst) {
  const bool inherited = inst.spec.readiness.kind == Readiness::Kind::kInheritedSocket;
  int port = inst.state.port != 0 ? inst.state.port : inst.spec.port;
  int listen_fd = -1;
  if (inherited) {
    auto fd = Listen(port);
    if (!fd.ok() && port != 0 && inst.spec.port == 0) fd = Listen(0);  // our old port was taken meanwhile
    if (!fd.ok()) return fd.status();
    listen_fd = *fd;
    port = BoundPort(listen_fd);
  } else if (port == 0) {
    auto p = FreePort();
    if (!p.ok()) return p.status();
    port = *p;
  }

  if (inst.plan.cgroup) {
    // A fresh cgroup for every process: a cgroup that has seen cgroup.kill
    // SIGKILLs children cloned into it on some kernels (6.18 does).
    inst.cgroup_dir = cgroups.base + "/" + CgroupName(inst.id, inst.spec.name) + "." + std::to_string(inst.state.restarts);
    Status s = CreateInstanceCgroup(inst.cgroup_dir, inst.spec.resources, inst.plan);
    if (!s.ok()) {
      // Run it anyway, limited the way a host without cgroups would.
      log::Warn("process runtime: no cgroup for instance", {{"instance", inst.spec.name}, {"error", s.message()}});
      ::rmdir(inst.cgroup_dir.c_str());
      inst.cgroup_dir.clear();
      inst.plan = PlanLimits(CgroupSupport{}, inst.spec.resources);
    }
  }

  SpawnRequest req;
  req.path = inst.exe;
  req.argv = inst.spec.argv;
  req.env = inst.env;
  req.env.push_back("PORT=" + std::to_string(port));
  if (inherited) req.env.emplace_back("LISTEN_FDS=1");
  req.working_dir = inst.spec.working_dir;
  req.listen_fd = listen_fd;
  req.private_unmounts = inst.spec.private_unmounts;
  if (inst.plan.memory == LimitMechanism::kRlimit) req.rlimit_as = inst.spec.resources.memory_bytes;

  int pipefd[2] = {-1, -1};
  auto close_all = [&] {
    if (listen_fd >= 0) ::close(listen_fd);
    if (pipefd[0] >= 0) ::close(pipefd[0]);
    if (pipefd[1] >= 0) ::close(pipefd[1]);
    if (req.cgroup_fd >= 0) ::close(req.cgroup_fd);
  };
  auto fail = [&](Status st) {
    close_all();
    RemoveCgroupOf(inst);
    return st;
  };
  if (inst.log) {
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail(Status::Internal(std::string("pipe: ") + std::strerror(errno)));
    // Only our end is non-blocking: the child blocks when we fall behind.
    ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    req.output_fd = pipefd[1];
  }
  if (!inst.cgroup_dir.empty()) {
    req.cgroup_fd = ::open(inst.cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (req.cgroup_fd < 0) return fail(Status::Internal("open " + inst.cgroup_dir + ": " + std::strerror(errno)));
  }

  auto child = Spawn(req);
  // The listener must live only in the child: when the instance dies its
  // port refuses connections at once instead of queueing them for nobody.
  int out = pipefd[0];
  pipefd[0] = -1;
  close_all();
  if (!child.ok()) {
    if (out >= 0) ::close(out);
    RemoveCgroupOf(inst);
    return child.status();
  }

  inst.pid = child->pid;
  inst.pidfd = child->pidfd;
  inst.out_fd = out;
  inst.ready_timed_out = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Key(inst.id, kTagPidfd);
  ::epoll_ctl(epfd, EPOLL_CTL_ADD, inst.pidfd, &ev);
  if (out >= 0) {
    ev.data.u64 = Key(inst.id, kTagOutput);
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, out, &ev);
  }
  inst.policy.Started();

  InstanceState s = inst.state;
  s.phase = inherited ? Phase::kReady : Phase::kStarting;
  s.pid = inst.pid;
  s.port = port;
  s.restart_pending = false;
  s.restart_in = milliseconds(0);
  s.reason.clear();
  SetState(inst, std::move(s));
  if (!inherited) {
    TimePoint now = SteadyNow();
    inst.probe_backoff = kFirstProbe;
    Schedule(inst, kTimerProbe, now + kFirstProbe);
    Schedule(inst, kTimerReadyDeadline, now + inst.spec.readiness.timeout);
  }
  return Status::Ok();
}

void ProcessRuntime::Impl::OnTimer(const Timer& t) {
  Instance& inst = *Find(t.id);
  switch (t.kind) {
    case kTimerRestart: {
      if (inst.stop_requested || inst.pid != 0) return;
      InstanceState s = inst.state;
      s.restarts++;
      inst.state.restarts = s.restarts;
      Status st = SpawnProcess(inst);
      if (!st.ok()) {
        s.phase = Phase::kFailed;
        s.restart_pending = false;
        s.reason = "restart failed: " + st.message();
        SetState(inst, std::move(s));
      }
      return;
    }
    case kTimerKill:
      KillGroup(inst, SIGKILL);
      return;
    case kTimerProbe:
      if (inst.pid == 0 || inst.state.phase != Phase::kStarting) return;
      if (inst.probe) {  // the attempt took too long
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, inst.probe->fd(), nullptr);
        inst.probe.reset();
      }
      ProbeNow(inst);
      return;
    case kTimerReadyDeadline:
      if (inst.pid == 0 || inst.state.phase != Phase::kStarting) return;
      inst.ready_timed_out = true;
      KillGroup(inst, SIGKILL);
      return;
    default: return;
  }
}

void ProcessRuntime::Impl::ProbeNow(Instance& inst) {
  const Readiness& r = inst.spec.readiness;
  std::string path = r.kind != Readiness::Kind::kHttp ? "" : r.http_path.empty() ? "/" : r.http_path;
  inst.probe = std::make_unique<ProbeAttempt>(inst.state.port, path);
  switch (inst.probe->Begin()) {
    case ProbeAttempt::Outcome::kSuccess: Ready(inst); return;
    case ProbeAttempt::Outcome::kFailure: ProbeFailed(inst); return;
    case ProbeAttempt::Outcome::kPending: {
      epoll_event ev{};
      ev.events = inst.probe->events();
      ev.data.u64 = Key(inst.id, kTagProbe);
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, inst.probe->fd(), &ev);
      Schedule(inst, kTimerProbe, SteadyNow() + kProbeAttemptTimeout);
      return;
    }
  }
}

void ProcessRuntime::Impl::OnProbeEvent(Instance& inst) {
  int fd = inst.probe->fd();
  uint32_t before = inst.probe->events();
  switch (inst.probe->OnEvent()) {
    case ProbeAttempt::Outcome::kSuccess:
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
      Ready(inst);
      return;
    case ProbeAttempt::Outcome::kFailure:
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
      ProbeFailed(inst);
      return;
    case ProbeAttempt::Outcome::kPending:
      if (inst.probe->events() != before) {
        epoll_event ev{};
        ev.events = inst.probe->events();
        ev.data.u64 = Key(inst.id, kTagProbe);
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
      }
      return;
  }
}

void ProcessRuntime::Impl::ProbeFailed(Instance& inst) {
  inst.probe.reset();
  Schedule(inst, kTimerProbe, SteadyNow() + inst.probe_backoff);
  inst.probe_backoff = std::min(inst.probe_backoff * 2, kMaxProbeBackoff);
}

void ProcessRuntime::Impl::Ready(Instance& inst) {
  inst.probe.reset();
  Cancel(inst, kTimerProbe);
  Cancel(inst, kTimerReadyDeadline);
  InstanceState s = inst.state;
  s.phase = Phase::kReady;
  SetState(inst, std::move(s));
}

void ProcessRuntime::Impl::OnOutput(Instance& inst, bool to_eof) {
  char buf[64 * 1024];
  // A chatty instance must not starve the others: at most 1 MiB per turn
  // unless it is over (then everything left is read).
  for (int i = 0; to_eof || i < 16; ++i) {
    ssize_t n = ::read(inst.out_fd, buf, sizeof buf);
    if (n > 0) {
      Status s = inst.log->Append(std::string_view(buf, static_cast<size_t>(n)));
      if (!s.ok()) log::Warn("process runtime: log write failed", {{"error", s.message()}});
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (n < 0 && errno != EAGAIN)) CloseOutput(inst);  // every writer is gone
    return;
  }
}

void ProcessRuntime::Impl::CloseOutput(Instance& inst) {
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, inst.out_fd, nullptr);
  ::close(inst.out_fd);
  inst.out_fd = -1;
}

void ProcessRuntime::Impl::OnExit(Instance& inst) {
  auto reaped = TryWaitPidfd(inst.pidfd);
  if (reaped.ok() && !reaped->has_value()) return;  // not yet
  // Only if someone else reaped it (waitpid(-1), SIGCHLD ignored): see spawn.h.
  ExitInfo exit = reaped.ok() ? **reaped : ExitInfo{false, 0, 0};
  // What the rest of the group still runs goes with it. The leader is reaped
  // only now, so until here its pid could not have been reused.
  KillGroup(inst, SIGKILL);
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, inst.pidfd, nullptr);
  ::close(inst.pidfd);
  inst.pidfd = -1;
  inst.pid = 0;
  // Whatever it wrote before it ended is in the pipe by now.
  if (inst.out_fd >= 0) {
    OnOutput(inst, false);
    if (inst.out_fd >= 0) CloseOutput(inst);
  }
  if (inst.probe) {
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, inst.probe->fd(), nullptr);
    inst.probe.reset();
  }
  Cancel(inst, kTimerProbe);
  Cancel(inst, kTimerReadyDeadline);
  Cancel(inst, kTimerKill);

  InstanceState s = inst.state;
  s.pid = 0;
  s.last_exit = exit;
  std::string how = reaped.ok() ? exit.ToString() : "exit status lost (" + reaped.status().message() + ")";
  if (inst.ready_timed_out) how = "not ready within " + Millis(inst.spec.readiness.timeout) + ", killed";
  else if (!inst.cgroup_dir.empty() && CgroupOomKilled(inst.cgroup_dir)) how += ", out of memory";
  s.limits.cgroup.clear();
  RemoveCgroupOf(inst);
  if (inst.spec.after_exit) inst.spec.after_exit();

  if (inst.stop_requested || !inst.spec.restart) {
    s.phase = Phase::kExited;
    s.restart_pending = false;
    s.reason = (inst.stop_requested ? "stopped: " : "exited: ") + how;
    SetState(inst, std::move(s));
    return;
  }
  RestartDecision d = inst.policy.Crashed();
  if (d.crash_loop) {
    s.phase = Phase::kFailed;
    s.restart_pending = false;
    s.reason = CrashLoopReason(d, inst.spec.restart_options, how,
                               inst.log ? inst.log->Tail(kTailLines, kTailBytes) : std::string());
    SetState(inst, std::move(s));
    return;
  }
  s.phase = Phase::kExited;
  s.restart_pending = true;
  s.restart_in = d.delay;
  s.reason = "crashed: " + how + "; restarting in " + Millis(d.delay);
  SetState(inst, std::move(s));
  Schedule(inst, kTimerRestart, SteadyNow() + d.delay);
}

void ProcessRuntime::Impl::DoStop(Instance& inst) {
  inst.stop_requested = true;
  if (inst.pid != 0) {
    if (inst.spec.stop_grace.count() <= 0) {
      KillGroup(inst, SIGKILL);
    } else {
      KillGroup(inst, SIGTERM);
      Schedule(inst, kTimerKill, SteadyNow() + inst.spec.stop_grace);
    }
    return;
  }
  if (inst.state.terminal()) return;
  // Waiting for a restart: nothing runs.
  Cancel(inst, kTimerRestart);
  InstanceState s = inst.state;
  s.phase = Phase::kExited;
  s.restart_pending = false;
  s.reason = "stopped while waiting to restart";
  SetState(inst, std::move(s));
}

ProcessRuntime::ProcessRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessRuntime::~ProcessRuntime() = default;

Result<std::unique_ptr<ProcessRuntime>> ProcessRuntime::Create(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->epfd < 0 || impl->wakefd < 0) return Status::Internal(std::string("epoll/eventfd: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Key(0, kTagWake);
  ::epoll_ctl(impl->epfd, EPOLL_CTL_ADD, impl->wakefd, &ev);
  if (impl->options.use_cgroups) {
    impl->cgroups = SetUpCgroups(impl->options.cgroups);
    if (!impl->cgroups.note.empty()) {
      log::Debug("process runtime: cgroups", {{"base", impl->cgroups.base}, {"note", impl->cgroups.note}});
    }
  }
  Impl* raw = impl.get();
  impl->loop = std::thread([raw] { raw->Loop(); });
  impl->loop_id = impl->loop.get_id();
  return std::unique_ptr<ProcessRuntime>(new ProcessRuntime(std::move(impl)));
}

Result<InstanceId> ProcessRuntime::Start(const InstanceSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Status::InvalidArgument("instance has no command");
  auto inst = std::make_unique<Instance>(0, spec);

  // The environment: a few of the server's variables (or all), the spec's,
  // then the runtime's own (added at spawn).
  std::vector<std::pair<std::string, std::string>> env;
  auto set = [&env](std::string k, std::string v) {
    if (RuntimeOwned(k)) return;
    std::erase_if(env, [&](const auto& kv) { return kv.first == k; });
    env.emplace_back(std::move(k), std::move(v));
  };
  if (spec.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      size_t eq = entry.find('=');
      if (eq != std::string_view::npos) set(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
  } else {
    for (const char* name : kPassedEnv) {
      if (const char* v = std::getenv(name)) set(name, v);
    }
  }
  for (const auto& [k, v] : spec.env) set(k, v);
  std::string path_env;
  for (const auto& [k, v] : env) {
    if (k == "PATH") path_env = v;
    inst->env.push_back(k + "=" + v);
  }

  auto exe = ResolveExecutable(spec.argv[0], path_env, spec.working_dir);
  if (!exe.ok()) return exe.status();
  inst->exe = *exe;
  if (!spec.working_dir.empty() && ::access(spec.working_dir.c_str(), X_OK) != 0) {
    return Status(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kPermissionDenied,
                  "working dir " + spec.working_dir + ": " + std::strerror(errno));
  }
  if (!spec.log_path.empty()) {
    auto log = CappedLog::Open(spec.log_path, spec.log_cap_bytes);
    if (!log.ok()) return log.status();
    inst->log = std::move(*log);
  }
  inst->plan = PlanLimits(impl_->cgroups, spec.resources);
  if (inst->plan.cpu == LimitMechanism::kNotEnforced) WarnCpuNotEnforcedOnce(impl_->cgroups.note);

  Result<InstanceId> result = Status::Internal("not started");
  Impl* d = impl_.get();
  d->Call([&] {
    InstanceId id = d->next_id++;
    auto owned = std::make_unique<Instance>(id, spec);
    owned->exe = std::move(inst->exe);
    owned->env = std::move(inst->env);
    owned->plan = inst->plan;
    owned->log = std::move(inst->log);
    Instance& ref = *owned;
    d->instances.emplace(id, std::move(owned));
    Status s = d->SpawnProcess(ref);
    if (!s.ok()) {
      d->changes.erase(std::remove_if(d->changes.begin(), d->changes.end(), [&](const auto& c) { return c.first == id; }),
                       d->changes.end());
      d->RemoveCgroupOf(ref);
      d->instances.erase(id);
      result = s;
      return;
    }
    result = id;
  });
  return result;
}

Status ProcessRuntime::Stop(InstanceId id, bool wait) {
  if (wait && std::this_thread::get_id() == impl_->loop_id) {
    return Status::FailedPrecondition("Stop(wait) from an OnChange callback would wait for itself");
  }
  Status status;
  milliseconds grace{0};
  impl_->Call([&] {
    Instance* inst = impl_->Find(id);
    if (inst == nullptr) {
      status = Status::NotFound("no instance " + std::to_string(id));
      return;
    }
    grace = inst->spec.stop_grace;
    impl_->DoStop(*inst);
  });
  if (!status.ok() || !wait) return status;
  // SIGKILL comes at the grace period; reaping follows within milliseconds.
  auto r = Await(id, [](const InstanceState& s) { return s.terminal(); }, SteadyNow() + grace + std::chrono::seconds(10));
  return r.status();
}

Status ProcessRuntime::Remove(InstanceId id) {
  Status status;
  impl_->Call([&] {
    Instance* inst = impl_->Find(id);
    if (inst == nullptr) {
      status = Status::NotFound("no instance " + std::to_string(id));
      return;
    }
    if (!inst->state.terminal()) {
      status = Status::FailedPrecondition("instance " + std::to_string(id) + " is " + PhaseName(inst->state.phase) +
                                          ": stop it first");
      return;
    }
    impl_->instances.erase(id);
  });
  return status;
}

Result<InstanceState> ProcessRuntime::State(InstanceId id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Instance* inst = impl_->Find(id);
  if (inst == nullptr) return Status::NotFound("no instance " + std::to_string(id));
  return inst->state;
}

Result<std::string> ProcessRuntime::Endpoint(InstanceId id) const {
  auto s = State(id);
  if (!s.ok()) return s.status();
  return "127.0.0.1:" + std::to_string(s->port);
}

std::vector<InstanceId> ProcessRuntime::Instances() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<InstanceId> ids;
  for (const auto& [id, inst] : impl_->instances) ids.push_back(id);
  return ids;
}

void ProcessRuntime::OnChange(ChangeFn fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_change = std::move(fn);
}

Result<InstanceState> ProcessRuntime::Await(InstanceId id, const std::function<bool(const InstanceState&)>& pred,
                                            TimePoint deadline) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  for (;;) {
    Instance* inst = impl_->Find(id);
    if (inst == nullptr) return Status::NotFound("no instance " + std::to_string(id));
    if (pred(inst->state)) return inst->state;
    if (impl_->cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      inst = impl_->Find(id);
      if (inst != nullptr && pred(inst->state)) return inst->state;
      return Status::DeadlineExceeded("instance " + std::to_string(id) + " is " +
                                      (inst ? inst->state.ToString() : std::string("gone")));
    }
  }
}

Result<LogChunk> ProcessRuntime::ReadLog(InstanceId id, uint64_t offset, std::size_t max_bytes,
                                         TimePoint wait_until) const {
  std::shared_ptr<CappedLog> log;
  bool terminal = false;
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    auto look = [&]() -> Status {
      Instance* inst = impl_->Find(id);
      if (inst == nullptr) return Status::NotFound("no instance " + std::to_string(id));
      if (!inst->log) return Status::NotFound("instance " + std::to_string(id) + " has no log");
      log = inst->log;
      // Terminal, and its output pipe drained: nothing more will come.
      terminal = inst->state.terminal() && inst->out_fd < 0;
      return Status::Ok();
    };
    Status s = look();
    if (!s.ok()) return s;
    while (!terminal && log->end_offset() <= offset && SteadyNow() < wait_until) {
      impl_->cv.wait_until(lock, wait_until);
      s = look();
      if (!s.ok()) return s;
    }
  }
  auto chunk = log->Read(offset, max_bytes);
  if (!chunk.ok()) return chunk.status();
  LogChunk out;
  out.offset = chunk->offset;
  out.next_offset = chunk->next_offset;
  out.data = std::move(chunk->data);
  out.ended = terminal && out.next_offset >= log->end_offset();
  return out;
}

const CgroupSupport& ProcessRuntime::cgroups() const { return impl_->cgroups; }

}  // namespace ofn::runtime

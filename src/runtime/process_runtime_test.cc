#include "runtime/process_runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "runtime/test_binaries.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::runtime {
namespace {

using namespace std::chrono_literals;
using ofn::testing::After;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;

constexpr auto kWait = 10s;

bool IsReady(const InstanceState& s) { return s.phase == Phase::kReady; }
bool IsTerminal(const InstanceState& s) { return s.terminal(); }

std::unique_ptr<ProcessRuntime> NewRuntime() {
  auto rt = ProcessRuntime::Create();
  EXPECT_TRUE(rt.ok()) << rt.status().ToString();
  return rt.ok() ? std::move(*rt) : nullptr;
}

InstanceSpec Hello(const std::string& binary, Readiness::Kind kind = Readiness::Kind::kInheritedSocket) {
  InstanceSpec spec;
  spec.name = "default/hello";
  spec.argv = {binary, "--threads", "1"};
  spec.readiness.kind = kind;
  spec.stop_grace = 5s;
  return spec;
}

InstanceSpec Shell(const std::string& script) {
  InstanceSpec spec;
  spec.name = "shell";
  spec.argv = {"/bin/sh", "-c", script};
  spec.stop_grace = 2s;
  return spec;
}

Result<ofn::testing::RawResponse> Get(int port, const std::string& path = "/") {
  return ofn::testing::RoundTrip(port, ofn::testing::Get(path), After(5s));
}

// Every state change delivered through OnChange.
class Recorder {
 public:
  explicit Recorder(ProcessRuntime& rt) {
    rt.OnChange([this](InstanceId id, const InstanceState& s) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back({id, s});
    });
  }
  struct Event {
    InstanceId id;
    InstanceState state;
  };
  std::vector<Event> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  // Callbacks run on the runtime's thread, shortly after State() shows the change.
  std::vector<Event> WaitFor(Phase phase) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
      auto e = events();
      bool seen = std::any_of(e.begin(), e.end(), [&](const Event& ev) { return ev.state.phase == phase; });
      if (seen || std::chrono::steady_clock::now() > deadline) return e;
      std::this_thread::sleep_for(1ms);
    }
  }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
};

std::string ReadWholeLog(ProcessRuntime& rt, InstanceId id) {
  std::string out;
  uint64_t off = 0;
  for (;;) {
    auto c = rt.ReadLog(id, off);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok() || c->data.empty()) return out;
    out += c->data;
    off = c->next_offset;
  }
}

// Waits until the instance's log contains `text`.
bool LogContains(ProcessRuntime& rt, InstanceId id, const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  std::string seen;
  uint64_t off = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = rt.ReadLog(id, off, 64 << 10, std::chrono::steady_clock::now() + 100ms);
    if (!c.ok()) return false;
    seen += c->data;
    off = c->next_offset;
    if (seen.find(text) != std::string::npos) return true;
    if (c->ended) return false;
  }
  return false;
}

// Waits until `pid` runs `comm` and sleeps: past exec and the dynamic
// loader, whose short-lived descriptors would otherwise show.
bool WaitAsleep(pid_t pid, const std::string& comm) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (stat.find("(" + comm + ") S") != std::string::npos) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

std::set<int> OpenFds(pid_t pid) {
  std::set<int> fds;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return fds;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') fds.insert(std::stoi(e->d_name));
  }
  ::closedir(d);
  return fds;
}

TEST(ProcessRuntimeTest, HelloWithInheritedSocketIsReadyAtOnceAndServes) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  auto id = rt->Start(Hello(hello));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto state = rt->State(*id);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->phase, Phase::kReady) << "routable the moment it is spawned";
  EXPECT_GT(state->pid, 0);
  EXPECT_EQ(rt->Endpoint(*id).value(), "127.0.0.1:" + std::to_string(state->port));

  auto resp = Get(state->port);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "Hello, World!\n");
  EXPECT_EQ(OpenFds(state->pid).count(3), 1u);

  ASSERT_TRUE(rt->Stop(*id, true).ok());
  auto stopped = rt->State(*id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->phase, Phase::kExited);
  EXPECT_TRUE(stopped->terminal());
  ASSERT_TRUE(stopped->last_exit.has_value());
  EXPECT_TRUE(stopped->last_exit->exited) << "hello drains and exits on SIGTERM";
  EXPECT_EQ(stopped->last_exit->code, 0);
  EXPECT_EQ(stopped->reason, "stopped: exit code 0");
  EXPECT_EQ(stopped->pid, 0);
  EXPECT_FALSE(Get(state->port).ok()) << "the runtime kept no copy of the listener";
  EXPECT_TRUE(rt->Remove(*id).ok());
  EXPECT_EQ(rt->State(*id).status().code(), StatusCode::kNotFound);
}

TEST(ProcessRuntimeTest, HelloWithTcpReadinessBindsPortItself) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  Recorder rec(*rt);
  auto id = rt->Start(Hello(hello, Readiness::Kind::kTcp));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto ready = rt->Await(*id, IsReady, After(kWait));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  auto resp = Get(ready->port);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "Hello, World!\n");
  ASSERT_TRUE(rt->Stop(*id, true).ok());
  auto events = rec.WaitFor(Phase::kExited);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].state.phase, Phase::kStarting);
  EXPECT_EQ(events[1].state.phase, Phase::kReady);
  EXPECT_EQ(events.back().state.phase, Phase::kExited);
}

TEST(ProcessRuntimeTest, HelloWithHttpReadiness) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Hello(hello, Readiness::Kind::kHttp);
  spec.readiness.http_path = "/healthz";
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto ready = rt->Await(*id, IsReady, After(kWait));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(Get(ready->port)->status, 200);
}

TEST(ProcessRuntimeTest, HttpReadinessWaitsFor2xx) {
  // conformance-sleep answers only after a second: not ready before that.
  OFN_REQUIRE_EXAMPLE(sleeper, "conformance/conformance-sleep");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Hello(sleeper, Readiness::Kind::kHttp);
  auto t0 = std::chrono::steady_clock::now();
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto ready = rt->Await(*id, IsReady, After(kWait));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
}

TEST(ProcessRuntimeTest, CommandWithArgsEnvAndWorkingDir) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  TempDir dir;
  ::setenv("OFN_RUNTIME_TEST_SECRET", "from-the-server", 1);
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  // A command that serves HTTP on $PORT, as a Function's container command would.
  InstanceSpec spec = Shell("echo \"greeting=$GREETING port=$PORT secret=$OFN_RUNTIME_TEST_SECRET\"; pwd; "
                            "exec \"$HELLO\" --threads 1");
  spec.env = {{"GREETING", "first"}, {"HELLO", hello}, {"GREETING", "hi"}, {"PORT", "1"}};
  spec.working_dir = dir.path();
  spec.log_path = dir.Sub("instance.log");
  spec.readiness.kind = Readiness::Kind::kTcp;
  auto id = rt->Start(spec);
  ::unsetenv("OFN_RUNTIME_TEST_SECRET");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto ready = rt->Await(*id, IsReady, After(kWait));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(Get(ready->port)->body, "Hello, World!\n");
  char real[PATH_MAX];
  ASSERT_NE(::realpath(dir.path().c_str(), real), nullptr);
  std::string expect = "greeting=hi port=" + std::to_string(ready->port) + " secret=\n" + real + "\n";
  ASSERT_TRUE(LogContains(*rt, *id, expect)) << ReadWholeLog(*rt, *id);
}

TEST(ProcessRuntimeTest, InheritEnvPassesTheServersEnvironment) {
  ::setenv("OFN_RUNTIME_TEST_VAR", "inherited", 1);
  TempDir dir;
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("echo \"var=$OFN_RUNTIME_TEST_VAR\"");
  spec.inherit_env = true;
  spec.restart = false;
  spec.log_path = dir.Sub("log");
  auto id = rt->Start(spec);
  ::unsetenv("OFN_RUNTIME_TEST_VAR");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(rt->Await(*id, IsTerminal, After(kWait)).ok());
  EXPECT_EQ(ReadWholeLog(*rt, *id), "var=inherited\n");
}

TEST(ProcessRuntimeTest, StartErrorsAreValues) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec none;
  EXPECT_EQ(rt->Start(none).status().code(), StatusCode::kInvalidArgument);
  InstanceSpec missing = Shell("true");
  missing.argv = {"/nonexistent/function"};
  EXPECT_EQ(rt->Start(missing).status().code(), StatusCode::kNotFound);
  InstanceSpec no_dir = Shell("true");
  no_dir.working_dir = "/nonexistent-dir";
  auto s = rt->Start(no_dir);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
  EXPECT_TRUE(rt->Instances().empty());
  EXPECT_EQ(rt->Stop(42, false).code(), StatusCode::kNotFound);
}

TEST(ProcessRuntimeTest, OnlyTheExpectedDescriptorsReachTheChild) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  TempDir dir;
  InstanceSpec inherited = Shell("exec sleep 1000");
  inherited.log_path = dir.Sub("a.log");
  auto a = rt->Start(inherited);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  InstanceSpec tcp = Shell("exec sleep 1000");
  tcp.readiness.kind = Readiness::Kind::kTcp;
  auto b = rt->Start(tcp);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  pid_t pa = rt->State(*a)->pid, pb = rt->State(*b)->pid;
  ASSERT_TRUE(WaitAsleep(pa, "sleep"));
  ASSERT_TRUE(WaitAsleep(pb, "sleep"));
  EXPECT_EQ(OpenFds(pa), (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(OpenFds(pb), (std::set<int>{0, 1, 2}));
}

TEST(ProcessRuntimeTest, CrashRestartsWithBackoffThenFailsAsACrashLoop) {
  TempDir dir;
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  Recorder rec(*rt);
  InstanceSpec spec = Shell("echo \"starting attempt\"; echo \"cannot open config.yaml\" >&2; exit 3");
  spec.log_path = dir.Sub("crash.log");
  spec.restart_options.initial_backoff = 20ms;
  spec.restart_options.crash_loop_crashes = 4;
  auto t0 = std::chrono::steady_clock::now();
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto failed = rt->Await(*id, IsTerminal, After(kWait));
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->phase, Phase::kFailed);
  EXPECT_EQ(failed->restarts, 3);
  EXPECT_NE(failed->reason.find("crash loop: 4 crashes within 60s"), std::string::npos) << failed->reason;
  EXPECT_NE(failed->reason.find("exit code 3"), std::string::npos) << failed->reason;
  EXPECT_NE(failed->reason.find("| cannot open config.yaml"), std::string::npos) << failed->reason;
  // 20 + 40 + 80 ms of backoff at least.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 140ms);

  // Between each crash and the next start: the announced, doubling delay.
  std::vector<std::chrono::milliseconds> announced;
  std::vector<std::chrono::steady_clock::duration> waited;
  auto events = rec.WaitFor(Phase::kFailed);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    if (events[i].state.restart_pending) {
      announced.push_back(events[i].state.restart_in);
      waited.push_back(events[i + 1].state.since - events[i].state.since);
      EXPECT_EQ(events[i + 1].state.restarts, static_cast<int>(announced.size()));
    }
  }
  ASSERT_EQ(announced, (std::vector<std::chrono::milliseconds>{20ms, 40ms, 80ms}));
  for (size_t i = 0; i < waited.size(); ++i) EXPECT_GE(waited[i], announced[i]);
  std::string log = ReadWholeLog(*rt, *id);
  size_t attempts = 0;
  for (size_t p = log.find("starting attempt"); p != std::string::npos; p = log.find("starting attempt", p + 1)) {
    ++attempts;
  }
  EXPECT_EQ(attempts, 4u) << "one log across restarts";
}

TEST(ProcessRuntimeTest, AfterExitRunsAfterEveryEndBeforeTheRestart) {
  // What a container's runtime process leaves behind is cleaned up before the same id runs again.
  TempDir dir;
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("echo run >> " + dir.Sub("runs") + "; exit 1");
  spec.restart_options.initial_backoff = 5ms;
  spec.restart_options.crash_loop_crashes = 3;
  auto cleanups = std::make_shared<std::atomic<int>>(0);
  const std::string runs = dir.Sub("runs");
  auto seen_runs = std::make_shared<std::vector<size_t>>();
  spec.after_exit = [cleanups, runs, seen_runs] {
    ++*cleanups;
    std::string text = ReadFile(runs).value_or("");
    seen_runs->push_back(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
  };
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto failed = rt->Await(*id, IsTerminal, After(kWait));
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->phase, Phase::kFailed);
  EXPECT_EQ(cleanups->load(), 3) << "once per end, the last one too";
  // Each cleanup ran after its run and before the next one started.
  EXPECT_EQ(*seen_runs, (std::vector<size_t>{1, 2, 3}));
}

TEST(ProcessRuntimeTest, KilledInstanceComesBackOnTheSamePort) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Hello(hello);
  spec.restart_options.initial_backoff = 10ms;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto first = *rt->State(*id);
  ASSERT_EQ(Get(first.port)->status, 200);
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  auto again = rt->Await(
      *id, [&](const InstanceState& s) { return s.phase == Phase::kReady && s.pid != first.pid; }, After(kWait));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->restarts, 1);
  EXPECT_EQ(again->port, first.port);
  ASSERT_TRUE(again->last_exit.has_value());
  EXPECT_EQ(again->last_exit->signal, SIGKILL);
  auto resp = Get(again->port);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
}

TEST(ProcessRuntimeTest, ADeadInstancesPortRefusesAtOnce) {
  // Nothing holds the listener but the instance: once it is gone, a client
  // (the gateway) is refused at once and can retry another instance.
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Hello(hello);
  spec.restart_options.initial_backoff = 10s;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto first = *rt->State(*id);
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  ASSERT_TRUE(rt->Await(*id, [](const InstanceState& s) { return s.restart_pending; }, After(kWait)).ok());
  auto t0 = std::chrono::steady_clock::now();
  auto conn = ofn::testing::RawConnection::Connect(first.port, After(5s));
  EXPECT_FALSE(conn.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(ProcessRuntimeTest, KillingTheServerTakesItsInstancesAlong) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    // A stand-in for `ofn server`: starts an instance, then waits to be killed.
    auto rt = ProcessRuntime::Create();
    if (!rt.ok()) ::_exit(1);
    auto id = (*rt)->Start(Shell("exec sleep 1000"));
    if (!id.ok()) ::_exit(2);
    pid_t pid = (*rt)->State(*id)->pid;
    if (::write(p[1], &pid, sizeof pid) != sizeof pid) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(p[1]);
  pid_t instance = 0;
  ASSERT_EQ(::read(p[0], &instance, sizeof instance), static_cast<ssize_t>(sizeof instance));
  ::close(p[0]);
  ASSERT_EQ(::kill(instance, 0), 0);
  ::kill(server, SIGKILL);
  int status = 0;
  ::waitpid(server, &status, 0);
  auto deadline = std::chrono::steady_clock::now() + kWait;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(instance) + "/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    gone = !stat || all.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(gone) << "the instance outlived its server";

  // The next runtime clears what the killed one left in the cgroup tree.
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  if (!rt->cgroups().base.empty()) {
    std::string base = rt->cgroups().base;
    std::string stale = base.substr(0, base.rfind('/')) + "/" + std::to_string(server);
    struct stat st {};
    EXPECT_NE(::stat(stale.c_str(), &st), 0) << stale;
  }
}

TEST(ProcessRuntimeTest, StopAfterGraceKillsAProcessIgnoringSigterm) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("trap '' TERM; echo trapped; exec sleep 1000");
  spec.stop_grace = 300ms;
  TempDir dir;
  spec.log_path = dir.Sub("log");
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(LogContains(*rt, *id, "trapped"));  // the trap is set
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(rt->Stop(*id, true).ok());
  auto took = std::chrono::steady_clock::now() - t0;
  auto s = *rt->State(*id);
  EXPECT_EQ(s.phase, Phase::kExited);
  ASSERT_TRUE(s.last_exit.has_value());
  EXPECT_EQ(s.last_exit->signal, SIGKILL);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
}

TEST(ProcessRuntimeTest, StopTakesTheWholeProcessGroup) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  TempDir dir;
  InstanceSpec spec = Shell("sleep 1000 & echo \"child $!\"; wait");
  spec.log_path = dir.Sub("log");
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(LogContains(*rt, *id, "child "));
  std::string log = ReadWholeLog(*rt, *id);
  pid_t grandchild = static_cast<pid_t>(std::stol(log.substr(log.find("child ") + 6)));
  ASSERT_EQ(::kill(grandchild, 0), 0);
  ASSERT_TRUE(rt->Stop(*id, true).ok());
  // The grandchild is not our child: it is reaped by init, so wait for it to vanish.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    gone = !stat || all.find(") Z") != std::string::npos;  // gone, or a zombie waiting for init
    if (!gone) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(gone);
}

TEST(ProcessRuntimeTest, StopDuringRestartBackoff) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("exit 1");
  spec.restart_options.initial_backoff = 10s;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto waiting = rt->Await(*id, [](const InstanceState& s) { return s.restart_pending; }, After(kWait));
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  EXPECT_EQ(waiting->restart_in, 10s);
  ASSERT_TRUE(rt->Stop(*id, true).ok());
  auto s = *rt->State(*id);
  EXPECT_EQ(s.phase, Phase::kExited);
  EXPECT_FALSE(s.restart_pending);
  EXPECT_EQ(s.restarts, 0);
}

TEST(ProcessRuntimeTest, NotReadyInTimeIsKilledAndReported) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("exec sleep 1000");  // never listens
  spec.readiness.kind = Readiness::Kind::kTcp;
  spec.readiness.timeout = 300ms;
  spec.restart = false;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto s = rt->Await(*id, IsTerminal, After(kWait));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->phase, Phase::kExited);
  EXPECT_EQ(s->reason, "exited: not ready within 300ms, killed");
}

TEST(ProcessRuntimeTest, LogCapIsHonouredAndFollowable) {
  TempDir dir;
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec =
      Shell("i=0; while [ $i -lt 3000 ]; do echo \"line $i of the instance log\"; i=$((i+1)); done; echo last line");
  spec.log_path = dir.Sub("big.log");
  spec.log_cap_bytes = 8192;
  spec.restart = false;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(rt->Await(*id, IsTerminal, After(kWait)).ok());
  struct stat a {}, b {};
  ASSERT_EQ(::stat(spec.log_path.c_str(), &a), 0);
  ASSERT_EQ(::stat((spec.log_path + ".1").c_str(), &b), 0);
  EXPECT_LE(a.st_size + b.st_size, 8192);
  auto first = rt->ReadLog(*id, 0);
  ASSERT_TRUE(first.ok());
  EXPECT_GT(first->offset, 0u) << "the oldest output was dropped";
  std::string kept = ReadWholeLog(*rt, *id);
  EXPECT_GE(kept.size(), 4096u);
  EXPECT_NE(kept.find("line 2999 of the instance log\nlast line\n"), std::string::npos);
  auto end = rt->ReadLog(*id, first->offset + kept.size(), 100, std::chrono::steady_clock::now() + 5s);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->ended) << "a terminal instance's log ends: followers stop without waiting";
  EXPECT_EQ(end->data, "");
}

TEST(ProcessRuntimeTest, ReadLogFollowsNewOutput) {
  TempDir dir;
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("echo first; while [ ! -e go ]; do sleep 0.01; done; echo second; exec sleep 1000");
  spec.working_dir = dir.path();
  spec.log_path = dir.Sub("follow.log");
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto c1 = rt->ReadLog(*id, 0, 1024, std::chrono::steady_clock::now() + kWait);
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->data, "first\n");
  std::thread writer([&] { ofn::testing::WriteFile(dir.Sub("go"), ""); });
  auto c2 = rt->ReadLog(*id, c1->next_offset, 1024, std::chrono::steady_clock::now() + kWait);
  writer.join();
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->data, "second\n");
  EXPECT_FALSE(c2->ended);
  // Nothing new: returns empty at the deadline.
  auto c3 = rt->ReadLog(*id, c2->next_offset, 1024, std::chrono::steady_clock::now() + 50ms);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->data, "");
  EXPECT_EQ(rt->ReadLog(12345, 0).status().code(), StatusCode::kNotFound);
}

TEST(ProcessRuntimeTest, MemoryLimitIsEnforced) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  TempDir dir;
  // Builds a 50 MB string under a 24 MiB limit.
  InstanceSpec spec = Shell("x=$(head -c 50000000 /dev/zero | tr '\\0' a); echo \"survived ${#x}\"");
  spec.resources.memory_bytes = 24 << 20;
  spec.restart = false;
  spec.log_path = dir.Sub("mem.log");
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto s = rt->Await(*id, IsTerminal, After(kWait));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::cout << "[          ] memory limit via " << LimitMechanismName(s->limits.memory) << ": " << s->reason << "\n";
  EXPECT_NE(s->limits.memory, LimitMechanism::kNone);
  ASSERT_TRUE(s->last_exit.has_value());
  EXPECT_FALSE(s->last_exit->exited && s->last_exit->code == 0) << s->reason;
  EXPECT_EQ(ReadWholeLog(*rt, *id).find("survived"), std::string::npos);

  // The same without a limit survives: the limit made the difference.
  spec.resources.memory_bytes = 0;
  auto free_id = rt->Start(spec);
  ASSERT_TRUE(free_id.ok());
  auto free_state = rt->Await(*free_id, IsTerminal, After(kWait));
  ASSERT_TRUE(free_state.ok());
  EXPECT_EQ(free_state->reason, "exited: exit code 0");
  EXPECT_NE(ReadWholeLog(*rt, *free_id).find("survived 50000000"), std::string::npos);
}

TEST(ProcessRuntimeTest, LimitsReportTheirMechanism) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  InstanceSpec spec = Shell("exec sleep 1000");
  spec.resources.memory_bytes = 256 << 20;
  spec.resources.cpu_millis = 500;
  auto id = rt->Start(spec);
  ASSERT_TRUE(id.ok());
  auto s = *rt->State(*id);
  const CgroupSupport& cg = rt->cgroups();
  EXPECT_EQ(s.limits.memory, cg.memory ? LimitMechanism::kCgroupV2 : LimitMechanism::kRlimit);
  EXPECT_EQ(s.limits.cpu, cg.cpu ? LimitMechanism::kCgroupV2 : LimitMechanism::kNotEnforced);
  std::ifstream limits("/proc/" + std::to_string(s.pid) + "/limits");
  std::string text((std::istreambuf_iterator<char>(limits)), std::istreambuf_iterator<char>());
  bool rlimited = text.find(std::to_string(256 << 20)) != std::string::npos;
  EXPECT_EQ(rlimited, s.limits.memory == LimitMechanism::kRlimit) << text;
  if (!cg.base.empty()) {
    // In its own cgroup, which goes away with the instance.
    EXPECT_NE(s.limits.cgroup.find(cg.base + "/"), std::string::npos);
    std::ifstream procs(s.limits.cgroup + "/cgroup.procs");
    pid_t member = 0;
    procs >> member;
    EXPECT_EQ(member, s.pid);
    if (s.limits.memory == LimitMechanism::kCgroupV2) {
      EXPECT_EQ(ReadFile(s.limits.cgroup + "/memory.max").value_or(""), std::to_string(256 << 20) + "\n");
    }
    ASSERT_TRUE(rt->Stop(*id, true).ok());
    struct stat st {};
    EXPECT_NE(::stat(s.limits.cgroup.c_str(), &st), 0) << "removed after the instance ended";
  } else {
    std::cout << "[          ] no cgroups here: " << cg.note << "\n";
  }
}

TEST(ProcessRuntimeTest, DestroyingTheRuntimeKillsItsInstances) {
  pid_t pid = 0;
  {
    auto rt = NewRuntime();
    ASSERT_TRUE(rt);
    auto id = rt->Start(Shell("trap '' TERM; exec sleep 1000"));
    ASSERT_TRUE(id.ok());
    pid = rt->State(*id)->pid;
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped";
}

TEST(ProcessRuntimeTest, CallbacksMayCallBackIntoTheRuntime) {
  auto rt = NewRuntime();
  ASSERT_TRUE(rt);
  std::atomic<bool> stopped_from_callback{false};
  rt->OnChange([&](InstanceId id, const InstanceState& s) {
    if (s.phase == Phase::kReady && !stopped_from_callback.exchange(true)) {
      EXPECT_EQ(rt->Stop(id, true).code(), StatusCode::kFailedPrecondition) << "waiting here would deadlock";
      EXPECT_TRUE(rt->Stop(id, false).ok());
    }
  });
  auto id = rt->Start(Shell("exec sleep 1000"));
  ASSERT_TRUE(id.ok());
  auto s = rt->Await(*id, IsTerminal, After(kWait));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->phase, Phase::kExited);
}

// Start() to the first 200 from hello with an inherited socket, with and
// without a cgroup per instance. Printed, not asserted: the platform's target
// is p50 <= 5 ms end to end.
void MeasureStarts(const std::string& hello, bool cgroups) {
  ProcessRuntime::Options opts;
  opts.use_cgroups = cgroups;
  auto created = ProcessRuntime::Create(opts);
  ASSERT_TRUE(created.ok());
  auto& rt = *created;
  constexpr int kStarts = 100;
  std::vector<double> start_us, first_us;
  for (int i = 0; i < kStarts; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto id = rt->Start(Hello(hello));
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    auto resp = Get(rt->State(*id)->port);
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ASSERT_EQ(resp->status, 200);
    start_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    first_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    ASSERT_TRUE(rt->Stop(*id, true).ok());
    ASSERT_TRUE(rt->Remove(*id).ok());
  }
  auto pct = [](std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
  };
  std::cout << "[          ] hello, inherited socket, " << kStarts << " starts, "
            << (rt->cgroups().base.empty() ? "no cgroups" : "a cgroup each") << ": Start() returned p50 "
            << pct(start_us, 0.5) << " us p99 " << pct(start_us, 0.99) << " us; first 200 p50 "
            << pct(first_us, 0.5) / 1000 << " ms p99 " << pct(first_us, 0.99) / 1000 << " ms\n";
}

TEST(ProcessRuntimeTest, MeasureStartToFirstResponse) {
  OFN_REQUIRE_EXAMPLE(hello, "hello/hello");
  MeasureStarts(hello, false);
  MeasureStarts(hello, true);
}

}  // namespace
}  // namespace ofn::runtime

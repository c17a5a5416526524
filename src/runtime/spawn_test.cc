#include "runtime/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "runtime/cgroup.h"
#include "support/process.h"

namespace ofn::runtime {
namespace {

using ofn::testing::ReadFile;
using ofn::testing::TempDir;

// Runs `script` under /bin/sh with output to a file; returns (exit, output).
struct Ran {
  ExitInfo exit;
  std::string output;
};

Ran RunShell(const std::string& script, SpawnRequest req = {}) {
  TempDir dir;
  std::string out_path = dir.Sub("out");
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(out, 0);
  req.path = "/bin/sh";
  req.argv = {"sh", "-c", script};
  if (req.env.empty()) req.env = {"PATH=/usr/bin:/bin"};
  req.output_fd = out;
  auto child = Spawn(req);
  ::close(out);
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return {};
  auto exit = WaitPidfd(child->pidfd);
  ::close(child->pidfd);
  EXPECT_TRUE(exit.ok());
  return {exit.ok() ? *exit : ExitInfo{}, ReadFile(out_path).value_or("")};
}

TEST(SpawnTest, RunsWithTheGivenEnvironmentAndWorkingDir) {
  TempDir dir;
  SpawnRequest req;
  req.env = {"PATH=/usr/bin:/bin", "GREETING=hi there"};
  req.working_dir = dir.path();
  Ran r = RunShell("echo \"$GREETING\"; pwd; echo \"home=$HOME\"", req);
  EXPECT_TRUE(r.exit.exited);
  EXPECT_EQ(r.exit.code, 0);
  char real[PATH_MAX];
  ASSERT_NE(::realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(r.output, "hi there\n" + std::string(real) + "\nhome=\n") << "exactly the given environment";
}

TEST(SpawnTest, ReportsHowTheChildEnded) {
  Ran code = RunShell("exit 7");
  EXPECT_TRUE(code.exit.exited);
  EXPECT_EQ(code.exit.code, 7);
  EXPECT_EQ(code.exit.ToString(), "exit code 7");
  Ran killed = RunShell("kill -9 $$");
  EXPECT_FALSE(killed.exit.exited);
  EXPECT_EQ(killed.exit.signal, SIGKILL);
  EXPECT_EQ(killed.exit.ToString().rfind("signal 9", 0), 0u) << killed.exit.ToString();
}

TEST(SpawnTest, ChildHasItsOwnProcessGroup) {
  // Field 5 of /proc/PID/stat is the process group.
  Ran r = RunShell("set -- $(cat /proc/$$/stat); [ \"$5\" = \"$$\" ] && echo own-group || echo \"pgrp $5 pid $$\"");
  EXPECT_EQ(r.output, "own-group\n");
}

TEST(SpawnTest, NoOtherDescriptorLeaksIntoTheChild) {
  // A descriptor without O_CLOEXEC, as careless code elsewhere in the server would leave.
  int leaky = ::dup2(::open("/dev/null", O_RDONLY | O_CLOEXEC), 57);
  ASSERT_EQ(leaky, 57);
  ASSERT_EQ(::fcntl(57, F_SETFD, 0), 0);
  Ran r = RunShell("for fd in 3 4 5 57; do [ -e /proc/self/fd/$fd ] && echo \"fd $fd leaked\"; done; echo done");
  ::close(57);
  EXPECT_EQ(r.output, "done\n");
}

TEST(SpawnTest, PassesTheListeningSocketAsFd3WithListenPid) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  SpawnRequest req;
  req.env = {"PATH=/usr/bin:/bin", "LISTEN_FDS=1"};
  req.listen_fd = fd;
  Ran r = RunShell(
      "[ \"$LISTEN_PID\" = \"$$\" ] && echo pid-ok || echo \"LISTEN_PID=$LISTEN_PID pid=$$\"; "
      "echo fds=$LISTEN_FDS; readlink /proc/$$/fd/3 | cut -c1-7; [ -e /proc/$$/fd/4 ] && echo fd4",
      req);
  ::close(fd);
  EXPECT_EQ(r.output, "pid-ok\nfds=1\nsocket:\n");
}

TEST(SpawnTest, SignalsStartAtTheirDefaults) {
  // The test process ignores SIGUSR1 (as a server ignores SIGPIPE); the child must not.
  auto old = ::signal(SIGUSR1, SIG_IGN);
  Ran r = RunShell("grep SigIgn /proc/$$/status");
  ::signal(SIGUSR1, old);
  ASSERT_EQ(r.output.rfind("SigIgn:", 0), 0u) << r.output;
  unsigned long long ignored = std::stoull(r.output.substr(r.output.find_first_not_of(" \t", 7)), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGUSR1 - 1)), 0u) << r.output;
}

TEST(SpawnTest, AppliesTheAddressSpaceLimit) {
  SpawnRequest req;
  req.rlimit_as = 64ll << 20;
  Ran r = RunShell("ulimit -v", req);
  EXPECT_EQ(r.output, "65536\n");
}

TEST(SpawnTest, ErrorsNameTheFailedStep) {
  SpawnRequest req;
  req.path = "/nonexistent/program";
  req.argv = {"program"};
  auto missing = Spawn(req);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("exec /nonexistent/program"), std::string::npos)
      << missing.status().ToString();

  req.path = "/bin/true";
  req.working_dir = "/nonexistent-dir";
  auto cd = Spawn(req);
  ASSERT_FALSE(cd.ok());
  EXPECT_NE(cd.status().message().find("chdir /nonexistent-dir"), std::string::npos) << cd.status().ToString();
}

TEST(ResolveExecutableTest, FindsCommands) {
  auto sh = ResolveExecutable("sh", "/nonexistent:/bin", "");
  ASSERT_TRUE(sh.ok()) << sh.status().ToString();
  EXPECT_EQ(*sh, "/bin/sh");
  EXPECT_EQ(ResolveExecutable("/bin/sh", "", "").value(), "/bin/sh");
  auto none = ResolveExecutable("no-such-program-ofn", "/bin:/usr/bin", "");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);

  TempDir dir;
  ASSERT_TRUE(ofn::testing::WriteFile(dir.Sub("run.sh"), "#!/bin/sh\n").ok());
  auto not_exec = ResolveExecutable("./run.sh", "", dir.path());
  EXPECT_EQ(not_exec.status().code(), StatusCode::kPermissionDenied) << not_exec.status().ToString();
  ::chmod(dir.Sub("run.sh").c_str(), 0755);
  auto rel = ResolveExecutable("./run.sh", "", dir.path());
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(*rel, dir.path() + "/./run.sh") << "relative to the working dir";
  EXPECT_EQ(ResolveExecutable("/bin", "", "").status().code(), StatusCode::kPermissionDenied);
}

// Starting inside a cgroup: CLONE_INTO_CGROUP and the cgroup.procs fallback
// both put the child there before it runs a single instruction of its own.
TEST(SpawnTest, StartsInsideTheCgroup) {
  CgroupSupport cg = SetUpCgroups();
  if (cg.base.empty()) GTEST_SKIP() << "no writable cgroup2 hierarchy: " << cg.note;
  const std::string dir = cg.base + "/spawn-test";
  ASSERT_TRUE(CreateInstanceCgroup(dir, Resources{}, LimitPlan{true}).ok());
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string rel = dir.substr(dir.find("/ofn/"));  // as /proc/PID/cgroup shows it
  for (bool clone3 : {true, false}) {
    SpawnRequest req;
    req.cgroup_fd = fd;
    req.use_clone3 = clone3;
    Ran r = RunShell("grep '^0::' /proc/$$/cgroup", req);
    EXPECT_NE(r.output.find(rel), std::string::npos) << (clone3 ? "clone3: " : "cgroup.procs: ") << r.output;
    // What joining costs the spawner, with a fresh cgroup each time as the
    // runtime does (printed, not asserted).
    std::vector<double> us;
    for (int i = 0; i < 30; ++i) {
      std::string fresh = cg.base + "/spawn-test-" + std::to_string(i);
      ASSERT_TRUE(CreateInstanceCgroup(fresh, Resources{}, LimitPlan{true}).ok());
      SpawnRequest t;
      t.path = "/bin/true";
      t.argv = {"true"};
      t.use_clone3 = clone3;
      t.cgroup_fd = ::open(fresh.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      auto t0 = std::chrono::steady_clock::now();
      auto child = Spawn(t);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      ::close(t.cgroup_fd);
      ASSERT_TRUE(child.ok()) << child.status().ToString();
      WaitPidfd(child->pidfd);
      ::close(child->pidfd);
      EXPECT_TRUE(RemoveCgroup(fresh).ok());
    }
    std::sort(us.begin(), us.end());
    std::cout << "[          ] Spawn into a cgroup by " << (clone3 ? "CLONE_INTO_CGROUP" : "cgroup.procs write")
              << ": p50 " << us[us.size() / 2] << " us\n";
  }
  ::close(fd);
  EXPECT_TRUE(RemoveCgroup(dir).ok());
  TearDownCgroups(cg);
}

// Why not fork(): its cost grows with the parent's memory; clone(CLONE_VM |
// CLONE_VFORK) does not. Printed, not asserted (figures vary by machine).
TEST(SpawnTest, MeasureSpawnAgainstFork) {
  constexpr size_t kBalloon = 512u << 20;  // a server's worth of touched memory
  std::vector<char> balloon(kBalloon);
  for (size_t i = 0; i < kBalloon; i += 4096) balloon[i] = 1;

  auto median_us = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  constexpr int kRuns = 50;
  std::vector<double> spawn_us, fork_us;
  for (int i = 0; i < kRuns; ++i) {
    SpawnRequest req;
    req.path = "/bin/true";
    req.argv = {"true"};
    auto t0 = std::chrono::steady_clock::now();
    auto child = Spawn(req);
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(child.ok());
    WaitPidfd(child->pidfd);
    ::close(child->pidfd);
    spawn_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());

    t0 = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      char* argv[] = {const_cast<char*>("true"), nullptr};
      ::execv("/bin/true", argv);
      ::_exit(127);
    }
    t1 = std::chrono::steady_clock::now();
    int status = 0;
    ::waitpid(pid, &status, 0);
    fork_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::cout << "[          ] with " << (kBalloon >> 20) << " MiB touched: Spawn (clone+exec returned) p50 "
            << median_us(spawn_us) << " us; fork() returned p50 " << median_us(fork_us) << " us\n";
}

// crun on hybrid-cgroup hosts needs /sys/fs/cgroup/unified gone: the child
// detaches mounts in its own namespace; the host keeps them.
TEST(SpawnTest, PrivateUnmountsHideMountsFromTheChildOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  std::string mnt = dir.Sub("m");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  ASSERT_TRUE(ofn::testing::WriteFile(mnt + "/marker", "x").ok());
  SpawnRequest req;
  req.private_unmounts = {mnt};
  Ran r = RunShell("test -e '" + mnt + "/marker' && echo present || echo absent", req);
  EXPECT_EQ(r.output, "absent\n");
  EXPECT_TRUE(ReadFile(mnt + "/marker").has_value()) << "the host lost the mount";

  SpawnRequest bad;
  bad.path = "/bin/true";
  bad.argv = {"true"};
  bad.private_unmounts = {dir.Sub("not-a-mount")};
  auto child = Spawn(bad);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("unmount " + dir.Sub("not-a-mount")), std::string::npos)
      << child.status().ToString();
  ::umount2(mnt.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace ofn::runtime

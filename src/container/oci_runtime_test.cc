// Real containers: the hello example and a shell, in images made by the
// image builder, unpacked by RootfsStore, run by crun and by runc.
#include "container/oci_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "build/executable_image.h"
#include "container/netns.h"
#include "container/oci_spec.h"
#include "container/rootfs_store.h"
#include "runtime/spawn.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::container {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ofn::testing::After;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;

std::string NewId() {
  static std::atomic<int> n{0};
  return "ofn-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// A 127.0.0.1 listening socket in this (the host's) network namespace.
int HostListener(int* port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 128) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return -1;
  }
  *port = ntohs(a.sin_port);
  return s;
}

// GET / over an already connected socket; the whole response (Connection: close).
std::string GetOver(int fd) {
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "";
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool ProcessGone(int pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
}

class ContainerRunTest : public ::testing::TestWithParam<std::string> {
 protected:
  struct Running {
    std::string id;
    runtime::SpawnedChild child;
    std::string log;
    Clock::time_point spawned;
  };

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "containers need root here";
    auto rt = DetectOciRuntime(GetParam());
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    rt_ = *rt;
    auto l = build::OciLayout::Open(dir_.Sub("oci"));
    ASSERT_TRUE(l.ok());
    layout_.emplace(std::move(*l));
  }

  void TearDown() override {
    for (auto& r : running_) {
      if (r.child.pidfd >= 0) {
        ::kill(r.child.pid, SIGKILL);
        runtime::WaitPidfd(r.child.pidfd);
        ::close(r.child.pidfd);
      }
      EXPECT_TRUE(Delete(rt_, r.id).ok());
    }
  }

  Rootfs Unpacked(const build::ExecutableImageSpec& spec, const std::string& tag) {
    auto desc = build::WriteExecutableImage(*layout_, spec, tag);
    EXPECT_TRUE(desc.ok()) << desc.status().ToString();
    auto r = store_.Unpack(*layout_, *desc);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Rootfs{};
  }
  Rootfs Hello() {
    build::ExecutableImageSpec spec;
    spec.executable = OFN_HELLO_BINARY;
    spec.image_path = "/app/hello";
    return Unpacked(spec, "hello");
  }
  Rootfs Shell() {
    build::ExecutableImageSpec spec;
    spec.executable = "/usr/bin/dash";
    spec.image_path = "/bin/sh";
    return Unpacked(spec, "shell");
  }
  // The spec the image asks for.
  static ContainerSpec FromImage(const Rootfs& r) {
    ContainerSpec s;
    s.rootfs = r.path;
    s.args = ImageArgs(r.config.entrypoint, r.config.cmd);
    s.env = r.config.env;
    s.cwd = r.config.working_dir.empty() ? "/" : r.config.working_dir;
    s.user = r.config.user;
    return s;
  }

  Running* Start(const ContainerSpec& spec, int listen_fd = -1) {
    Running r;
    r.id = NewId();
    std::string bundle = dir_.Sub("bundle-" + r.id);
    auto written = WriteBundle(bundle, spec);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    if (!written.ok()) return nullptr;
    r.log = bundle + "/log";
    int out = ::open(r.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto req = RunRequest(rt_, RunOptions{r.id, bundle, out, listen_fd});
    EXPECT_TRUE(req.ok()) << req.status().ToString();
    r.spawned = Clock::now();
    auto child = runtime::Spawn(*req);
    ::close(out);
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    if (!child.ok()) return nullptr;
    r.child = *child;
    running_.push_back(r);
    return &running_.back();
  }

  // Waits for the runtime process to end; nullopt at the deadline.
  std::optional<runtime::ExitInfo> Wait(Running* r, std::chrono::milliseconds timeout) {
    pollfd p{r->child.pidfd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    auto e = runtime::WaitPidfd(r->child.pidfd);
    ::close(r->child.pidfd);
    r->child.pidfd = -1;
    return e.ok() ? std::optional<runtime::ExitInfo>(*e) : std::nullopt;
  }
  std::string Log(const Running* r) { return ReadFile(r->log).value_or(""); }

  // SIGTERM to the runtime (which forwards it to the container); true once it ended.
  bool Stop(Running* r) {
    ::kill(r->child.pid, SIGTERM);
    return Wait(r, 10s).has_value();
  }

  // Starts hello with a socket of this namespace as fd 3.
  Running* StartHelloOnSocket(const Rootfs& rootfs, int* port, ContainerSpec* custom = nullptr) {
    int fd = HostListener(port);
    EXPECT_GE(fd, 0);
    ContainerSpec spec = custom != nullptr ? *custom : FromImage(rootfs);
    spec.env.push_back("PORT=" + std::to_string(*port));
    spec.listen_fd = true;
    Running* r = Start(spec, fd);
    ::close(fd);
    return r;
  }

  TempDir dir_{"ofn-container"};
  std::optional<build::OciLayout> layout_;
  RootfsStore store_{dir_.Sub("store")};
  OciRuntime rt_;
  std::deque<Running> running_;
};

TEST_P(ContainerRunTest, ServesOnAnInheritedSocket) {
  Rootfs rootfs = Hello();
  int port = 0;
  Running* r = StartHelloOnSocket(rootfs, &port);
  ASSERT_NE(r, nullptr);
  auto resp = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), After(20s));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString() << "\n" << Log(r);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "Hello, World!\n");
  EXPECT_TRUE(Stop(r)) << "SIGTERM to " << rt_.name << " did not end the container\n" << Log(r);
}

TEST_P(ContainerRunTest, ServesInItsOwnNetworkNamespaceOnly) {
  auto ns = NetNs::Create(dir_.Sub("netns"));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  Rootfs rootfs = Hello();
  int port = ofn::testing::FreePort();
  ContainerSpec spec = FromImage(rootfs);
  spec.netns_path = ns->path();
  spec.env.push_back("PORT=" + std::to_string(port));
  Running* r = Start(spec);
  ASSERT_NE(r, nullptr);
  // Ready once a connect inside the namespace succeeds.
  Result<int> conn = Status::Unavailable("not tried");
  for (auto deadline = After(20s); Clock::now() < deadline;) {
    conn = ns->ConnectIn(port);
    if (conn.ok()) break;
    ASSERT_FALSE(Wait(r, 5ms).has_value()) << "the container ended:\n" << Log(r);
  }
  ASSERT_TRUE(conn.ok()) << conn.status().ToString() << "\n" << Log(r);
  std::string resp = GetOver(*conn);
  ::close(*conn);
  EXPECT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  EXPECT_NE(resp.find("Hello, World!"), std::string::npos) << resp;
  // The host's loopback does not reach it.
  EXPECT_FALSE(ofn::testing::WaitForPort(port, After(0ms)));
  EXPECT_TRUE(Stop(r));
}

TEST_P(ContainerRunTest, RunsAsTheImageUserReadOnlyWithSeccompAndNoNewPrivs) {
  Rootfs rootfs = Shell();
  ContainerSpec spec = FromImage(rootfs);
  spec.args = {"/bin/sh", "-c",
               "while read -r l; do case \"$l\" in Uid:*|NoNewPrivs:*|Seccomp:*|CapEff:*) echo \"$l\";; esac; "
               "done < /proc/self/status; "
               "(: > /written) 2>/dev/null && echo root=writable || echo root=readonly; "
               "(: > /tmp/written) 2>/dev/null && echo tmp=writable || echo tmp=readonly"};
  Running* r = Start(spec);
  ASSERT_NE(r, nullptr);
  auto exit = Wait(r, 20s);
  ASSERT_TRUE(exit.has_value()) << Log(r);
  std::string out = Log(r);
  EXPECT_TRUE(exit->exited && exit->code == 0) << out;
  EXPECT_NE(out.find("Uid:\t65532\t65532\t65532\t65532"), std::string::npos) << out;
  EXPECT_NE(out.find("NoNewPrivs:\t1"), std::string::npos) << out;
  EXPECT_NE(out.find("Seccomp:\t2"), std::string::npos) << out;
  EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("root=readonly"), std::string::npos) << out;
  EXPECT_NE(out.find("tmp=writable"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(rootfs.path + "/written"));
}

TEST_P(ContainerRunTest, AppliesTheMemoryLimit) {
  Rootfs rootfs = Hello();
  ContainerSpec spec = FromImage(rootfs);
  spec.memory_bytes = 96 << 20;
  spec.cpu_millis = 500;
  int port = 0;
  std::string id_hint = NewId();
  spec.cgroups_path = "/ofn-test/" + id_hint;
  Running* r = StartHelloOnSocket(rootfs, &port, &spec);
  ASSERT_NE(r, nullptr);
  auto resp = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), After(20s));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString() << "\n" << Log(r);
  std::string v1 = "/sys/fs/cgroup/memory/ofn-test/" + id_hint + "/memory.limit_in_bytes";
  std::string v2 = "/sys/fs/cgroup/ofn-test/" + id_hint + "/memory.max";
  auto limit = ReadFile(v1);
  if (!limit) limit = ReadFile(v2);
  ASSERT_TRUE(limit.has_value()) << "neither " << v1 << " nor " << v2;
  EXPECT_EQ(std::stoll(*limit), 96 << 20);
  auto quota = ReadFile("/sys/fs/cgroup/cpu,cpuacct/ofn-test/" + id_hint + "/cpu.cfs_quota_us");
  if (quota) {
    EXPECT_EQ(std::stoll(*quota), 50000);
  }
  EXPECT_TRUE(Stop(r));
  // The runtime removes the container's cgroups; the parent is the test's.
  for (const auto& c : std::filesystem::directory_iterator("/sys/fs/cgroup")) {
    ::rmdir((c.path().string() + "/ofn-test").c_str());
  }
}

// What happens to a container when its runtime process is SIGKILLed (a
// crash of the server takes the runtime process along: PDEATHSIG).
TEST_P(ContainerRunTest, DeleteEndsAContainerWhoseRuntimeWasKilled) {
  Rootfs rootfs = Hello();
  int port = 0;
  Running* r = StartHelloOnSocket(rootfs, &port);
  ASSERT_NE(r, nullptr);
  auto resp = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), After(20s));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  auto pid = InitPid(rt_, r->id);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  // Is the container in the runtime's process group (then the process
  // runtime's SIGKILL to the group at the end of a stop grace reaches it)?
  auto stat = ReadFile("/proc/" + std::to_string(*pid) + "/stat").value_or("");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state;
  long ppid = 0, pgrp = 0;
  fields >> state >> ppid >> pgrp;
  std::cout << "[          ] " << rt_.name << ": container init pgrp " << pgrp << ", runtime pid " << r->child.pid
            << (pgrp == r->child.pid ? " (same group)" : " (own group)") << "\n";
  ::kill(r->child.pid, SIGKILL);
  ASSERT_TRUE(Wait(r, 5s).has_value());
  // Give a dying container the chance to show it: wait up to 1 s for it to go.
  bool survived = true;
  for (auto deadline = After(1s); Clock::now() < deadline && survived;) {
    survived = !ProcessGone(*pid);
    if (survived) std::this_thread::sleep_for(10ms);
  }
  std::cout << "[          ] " << rt_.name << ": after SIGKILL of the runtime process the container "
            << (survived ? "keeps running" : "died") << "\n";
  ASSERT_TRUE(Delete(rt_, r->id).ok());
  bool gone = false;
  for (auto deadline = After(10s); Clock::now() < deadline && !gone;) {
    gone = ProcessGone(*pid);
    if (!gone) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(gone) << "the container's init " << *pid << " survived Delete";
  EXPECT_FALSE(InitPid(rt_, r->id).ok());
  EXPECT_TRUE(Delete(rt_, r->id).ok()) << "Delete of a deleted container is Ok";
}

double P50(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST_P(ContainerRunTest, MeasureStartToFirstResponseAndToExit) {
  Rootfs hello = Hello();
  Rootfs shell = Shell();
  std::vector<double> to_200, to_exit;
  for (int i = 0; i < 20; ++i) {
    int port = 0;
    Running* r = StartHelloOnSocket(hello, &port);
    ASSERT_NE(r, nullptr);
    auto resp = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), After(20s));
    ASSERT_TRUE(resp.ok() && resp->status == 200) << Log(r);
    to_200.push_back(std::chrono::duration<double, std::milli>(Clock::now() - r->spawned).count());
    ASSERT_TRUE(Stop(r));
  }
  for (int i = 0; i < 20; ++i) {
    ContainerSpec spec = FromImage(shell);
    spec.args = {"/bin/sh", "-c", "exit 0"};
    Running* r = Start(spec);
    ASSERT_NE(r, nullptr);
    auto exit = Wait(r, 20s);
    ASSERT_TRUE(exit.has_value() && exit->exited && exit->code == 0) << Log(r);
    to_exit.push_back(std::chrono::duration<double, std::milli>(Clock::now() - r->spawned).count());
  }
  std::cout << "[          ] " << rt_.name << ": spawn -> first HTTP 200 (hello) p50 " << P50(to_200)
            << " ms; spawn -> exit (sh -c 'exit 0') p50 " << P50(to_exit) << " ms\n";
}

INSTANTIATE_TEST_SUITE_P(Runtimes, ContainerRunTest, ::testing::Values("crun", "runc"),
                         [](const auto& info) { return info.param; });

TEST(OciRuntimeTest, DetectsAndBuildsTheRunCommand) {
  auto any = DetectOciRuntime();
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->name, "crun") << "crun is preferred where installed";
  EXPECT_EQ(any->private_unmounts.empty(), !HybridCgroups());
  auto runc = DetectOciRuntime("runc");
  ASSERT_TRUE(runc.ok());
  EXPECT_TRUE(runc->private_unmounts.empty());
  EXPECT_EQ(DetectOciRuntime("docker").status().code(), StatusCode::kInvalidArgument);
  auto req = RunRequest(*any, RunOptions{"abc", "/b", 5, 7});
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->argv, (std::vector<std::string>{"crun", "run", "--bundle", "/b", "--preserve-fds", "1", "abc"}));
  EXPECT_EQ(req->listen_fd, 7);
  EXPECT_EQ(RunRequest(*any, RunOptions{"../x", "/b"}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ofn::container

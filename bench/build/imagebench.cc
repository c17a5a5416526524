// The helper of bench/build/run.sh (issue 5): what a shell loop cannot time
// well, each through the same code Ofn runs.
//
//   imagebench push LAYOUT TAG REF
//     Pushes the image tagged TAG in the OCI layout LAYOUT to REF
//     (HOST:PORT/REPO:TAG, plain HTTP) with Ofn's registry client; prints
//     "<manifest digest> <blobs uploaded> <bytes uploaded> <ms in Push>".
//
//   imagebench cold API_PORT TOKEN GATEWAY_PORT LAYOUT IMAGE N WORK_DIR [FLOOR_CPU]
//     Cold starts from zero instances. A Function starts with one instance
//     when applied (Knative's initial-scale 1, which cannot be 0 by
//     default), so all of them are applied first and measured only once the
//     server reports them at zero (ofn_replicas and ofn_ready_replicas 0,
//     after the scale-to-zero grace period); afterwards each one's
//     ofn_cold_starts_total must be 1, i.e. the request found no instance.
//     N rounds (plus one uncounted warm-up), interleaved so that a busy
//     machine weighs on all four alike:
//       1. container: a Function with spec.image = IMAGE, no command,
//          readiness "socket" (an isolated netns): one GET through the
//          gateway, timed to its 200;
//       2. process: the same with command: the image's entrypoint binary
//          (from a rootfs of the image unpacked under WORK_DIR);
//       3. floor, serving: `crun run` of that rootfs, spawned as Ofn spawns
//          it (oci_runtime.h, oci_spec.h: same bundle format, a fresh netns,
//          a listening socket passed as fd 3, the private mount namespace on
//          hybrid cgroup hosts) but without Ofn, timed from the spawn to the
//          200 of one GET on that socket; then stopped (untimed);
//       4. floor, to exit: `crun run` of the same rootfs with the
//          entrypoint's args replaced by `--help`, which prints and exits.
//     The floors' containers run on FLOOR_CPU when given (the server's core,
//     where Ofn's containers run), while this program stays on its own.
//     Prints a markdown table of p50/p99/max in ms; deletes its Functions.
//
// Single-threaded; run it on the client core (taskset).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "loopback_http.h"

#include "build/oci_layout.h"
#include "build/registry_client.h"
#include "container/oci_runtime.h"
#include "container/oci_spec.h"
#include "container/rootfs_store.h"
#include "runtime/spawn.h"

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

int Fail(const std::string& what) {
  std::fprintf(stderr, "imagebench: %s\n", what.c_str());
  return 1;
}

using ofn::bench::ApiRequest;
using ofn::bench::Exchange;
using ofn::bench::Gauges;
using ofn::bench::ReadMetrics;
using ofn::bench::WaitUntilAllAtZero;

void Row(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("| %-48s | %5zu | %8.2f | %8.2f | %8.2f |\n", what, ms.size(), at(0.5), at(0.99), ms.back());
}

int PushMain(int argc, char** argv) {
  if (argc != 5) return Fail("usage: imagebench push LAYOUT TAG REF");
  auto layout = ofn::build::OciLayout::Open(argv[2]);
  if (!layout.ok()) return Fail(layout.status().ToString());
  auto ref = ofn::build::ParseReference(argv[4]);
  if (!ref.ok()) return Fail(ref.status().ToString());
  auto t0 = Clock::now();
  auto pushed = ofn::build::Push(*layout, argv[3], *ref, {});
  double ms = MsSince(t0);
  if (!pushed.ok()) return Fail(pushed.status().ToString());
  std::printf("%s %d %lld %.1f\n", pushed->manifest_digest.str().c_str(), pushed->blobs_uploaded,
              static_cast<long long>(pushed->bytes_uploaded), ms);
  return 0;
}

// One GET of /default/NAME/ through the gateway, timed to its answer; -1
// unless 200.
double ColdRequest(int gateway, const std::string& name) {
  auto t0 = Clock::now();
  int status = Exchange(gateway, "GET /default/" + name + "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  double ms = MsSince(t0);
  if (status != 200) {
    std::fprintf(stderr, "imagebench: cold request to %s answered %d\n", name.c_str(), status);
    return -1;
  }
  return ms;
}

std::string FunctionManifest(const std::string& name, const std::string& image, const std::string& command) {
  std::string m = "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
                  "\n  annotations:\n    ofn.io/readiness: socket\nspec:\n  version: v1\n  image: " + image +
                  "\n  serving:\n    triggers:\n      http:\n        port: 8080\n";
  if (!command.empty()) {
    m += "    template:\n      containers:\n        - name: function\n          command: [\"" + command + "\"]\n";
  }
  return m;
}

// Spawns `req` with its child pinned to `cpu` (-1: this thread's CPUs); the
// child inherits the affinity the calling thread has at the fork, which is
// put back at once.
ofn::Result<ofn::runtime::SpawnedChild> SpawnOn(const ofn::runtime::SpawnRequest& req, int cpu) {
  if (cpu < 0) return ofn::runtime::Spawn(req);
  cpu_set_t mine, want;
  CPU_ZERO(&want);
  CPU_SET(cpu, &want);
  if (sched_getaffinity(0, sizeof mine, &mine) != 0 || sched_setaffinity(0, sizeof want, &want) != 0) {
    return ofn::Status::Internal("sched_setaffinity: cannot pin to CPU " + std::to_string(cpu));
  }
  auto child = ofn::runtime::Spawn(req);
  sched_setaffinity(0, sizeof mine, &mine);
  return child;
}

int ColdMain(int argc, char** argv) {
  if (argc != 9 && argc != 10) {
    return Fail("usage: imagebench cold API_PORT TOKEN GATEWAY_PORT LAYOUT IMAGE N WORK_DIR [FLOOR_CPU]");
  }
  const int floor_cpu = argc == 10 ? std::atoi(argv[9]) : -1;
  const int api = std::atoi(argv[2]);
  const std::string token = argv[3];
  const int gateway = std::atoi(argv[4]);
  const std::string image = argv[6];
  const int n = std::atoi(argv[7]);
  const std::string work = argv[8];

  // The image's rootfs, unpacked as the server unpacks it, for the process
  // binary and the crun floor.
  auto layout = ofn::build::OciLayout::Open(argv[5]);
  if (!layout.ok()) return Fail(layout.status().ToString());
  auto manifest = layout->Resolve(image);
  if (!manifest.ok()) return Fail(manifest.status().ToString());
  auto rootfs = ofn::container::RootfsStore(work + "/rootfs").Unpack(*layout, *manifest);
  if (!rootfs.ok()) return Fail(rootfs.status().ToString());
  auto args = ofn::container::ImageArgs(rootfs->config.entrypoint, rootfs->config.cmd);
  if (args.empty() || args[0].empty() || args[0][0] != '/') return Fail("the image has no absolute entrypoint");
  const std::string binary = rootfs->path + args[0];

  auto oci = ofn::container::DetectOciRuntime("crun");
  if (!oci.ok()) return Fail(oci.status().ToString());
  ofn::container::ContainerSpec spec;
  spec.rootfs = rootfs->path;
  spec.args = {args[0], "--help"};
  spec.env = rootfs->config.env;
  spec.user = rootfs->config.user;
  spec.cwd = rootfs->config.working_dir.empty() ? "/" : rootfs->config.working_dir;
  const std::string bundle = work + "/floor-bundle";
  if (auto w = ofn::container::WriteBundle(bundle, spec); !w.ok()) return Fail(w.status().ToString());
  ofn::container::ContainerSpec serving = spec;
  serving.args = args;
  serving.env.push_back("PORT=8080");
  serving.env.push_back("OFN_LOG_LEVEL=warn");
  serving.listen_fd = true;
  const std::string serving_bundle = work + "/serving-bundle";
  if (auto w = ofn::container::WriteBundle(serving_bundle, serving); !w.ok()) return Fail(w.status().ToString());

  // Spawn to the first 200 on a socket made here and passed as fd 3; -1 on error.
  auto serve_round = [&](int i) -> double {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(lfd);
      return -1;
    }
    ofn::container::RunOptions ro;
    ro.id = "ofn-bench-serve-" + std::to_string(getpid()) + "-" + std::to_string(i);
    ro.bundle = serving_bundle;
    ro.listen_fd = lfd;
    auto req = ofn::container::RunRequest(*oci, ro);
    if (!req.ok()) return -1;
    auto t0 = Clock::now();
    auto child = SpawnOn(*req, floor_cpu);
    if (!child.ok()) {
      close(lfd);
      std::fprintf(stderr, "imagebench: %s\n", child.status().ToString().c_str());
      return -1;
    }
    int status = Exchange(ntohs(a.sin_port), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    double ms = MsSince(t0);
    kill(child->pid, SIGTERM);  // crun forwards it; the function drains and exits
    waitpid(child->pid, nullptr, 0);
    close(child->pidfd);
    close(lfd);
    (void)ofn::container::Delete(*oci, ro.id);
    if (status != 200) {
      std::fprintf(stderr, "imagebench: the container started by %s run answered %d\n", oci->name.c_str(), status);
      return -1;
    }
    return ms;
  };

  // -1 on error; the container is gone when `crun run` returns.
  auto crun_round = [&](int i) -> double {
    ofn::container::RunOptions ro;
    ro.id = "ofn-bench-floor-" + std::to_string(getpid()) + "-" + std::to_string(i);
    ro.bundle = bundle;
    auto req = ofn::container::RunRequest(*oci, ro);
    if (!req.ok()) return -1;
    auto t0 = Clock::now();
    auto child = SpawnOn(*req, floor_cpu);
    if (!child.ok()) {
      std::fprintf(stderr, "imagebench: %s\n", child.status().ToString().c_str());
      return -1;
    }
    int wstatus = 0;
    waitpid(child->pid, &wstatus, 0);
    double ms = MsSince(t0);
    close(child->pidfd);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
      std::fprintf(stderr, "imagebench: %s run exited with status %d\n", oci->name.c_str(), wstatus);
      (void)ofn::container::Delete(*oci, ro.id);
      return -1;
    }
    return ms;
  };

  // Every Function first, then wait until the server has them all at zero.
  const std::string tag = std::to_string(getpid());
  std::vector<std::string> names;
  for (int i = 0; i <= n; ++i) {  // index 0 is the uncounted warm-up
    for (const char* kind : {"img", "proc"}) {
      std::string name = kind + tag + "-" + std::to_string(i);
      std::string m = FunctionManifest(name, image, std::string(kind) == "img" ? "" : binary);
      if (int s = Exchange(api, ApiRequest("POST", "/v1/apply", token, m)); s != 200) {
        return Fail("apply " + name + " answered " + std::to_string(s));
      }
      names.push_back(name);
    }
  }
  auto wait_start = Clock::now();
  if (std::string why = WaitUntilAllAtZero(api, token, names); !why.empty()) return Fail(why);
  std::printf("(%zu functions applied, each started once, then all at zero instances after %.0f s)\n\n", names.size(),
              MsSince(wait_start) / 1000);

  std::vector<double> container, process, serve_floor, floor;
  for (int i = 0; i <= n; ++i) {
    double c = ColdRequest(gateway, "img" + tag + "-" + std::to_string(i));
    double p = ColdRequest(gateway, "proc" + tag + "-" + std::to_string(i));
    double s = serve_round(i);
    double f = crun_round(i);
    if (c < 0 || p < 0 || s < 0 || f < 0) return 1;
    if (i == 0) continue;
    container.push_back(c);
    process.push_back(p);
    serve_floor.push_back(s);
    floor.push_back(f);
  }
  // Each request must have been a cold start by the server's own count.
  Gauges g = ReadMetrics(api, token);
  int cold = 0;
  for (const auto& name : names) cold += g["ofn_cold_starts_total"][name] == 1;
  for (const auto& name : names) Exchange(api, ApiRequest("DELETE", "/v1/objects/function/default/" + name, token));

  std::printf("| %-48s | %5s | %8s | %8s | %8s |\n", "cold start (ms)", "n", "p50", "p99", "max");
  std::printf("|%s|------:|---------:|---------:|---------:|\n", std::string(50, '-').c_str());
  Row("container through ofn (zero -> 200)", container);
  Row("process through ofn, same binary (zero -> 200)", process);
  Row(("floor: " + oci->name + " run, serving (spawn -> 200)").c_str(), serve_floor);
  Row(("floor: " + oci->name + " run --help to exit").c_str(), floor);
  auto p50 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("\nratio container/process p50: %.2f; Ofn's part of the container cold start (p50 minus the "
              "serving floor's): %.1f ms\n",
              p50(container) / p50(process), p50(container) - p50(serve_floor));
  std::printf("requests the server counted as cold starts (ofn_cold_starts_total = 1): %d of %zu\n", cold,
              names.size());
  return cold == static_cast<int>(names.size()) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "push") return PushMain(argc, argv);
  if (mode == "cold") return ColdMain(argc, argv);
  return Fail("usage: imagebench push LAYOUT TAG REF | cold API_PORT TOKEN GATEWAY_PORT LAYOUT IMAGE N WORK_DIR "
              "[FLOOR_CPU]");
}

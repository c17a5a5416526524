// Cold starts through `ofn server`, beside the floor: fork/exec of the same
// binary to its first answer, measured in the same run.
//
//   coldstart API_PORT TOKEN GATEWAY_PORT HELLO_BINARY [N]
//
// It applies N Functions, waits until each has started its initial instance
// (Knative's initial scale of 1) and gone back to zero, then times one GET
// through the gateway per Function until the 200 arrives, checks the server
// counted each as a cold start, and deletes them. The floor
// spawns HELLO_BINARY with PORT set and times connect-until-200.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "loopback_http.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

using ofn::bench::ApiRequest;
using ofn::bench::Exchange;
using ofn::bench::WaitUntilAllAtZero;

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("| %-34s | %5zu | %8.2f | %8.2f | %8.2f |\n", what, ms.size(), at(0.5), at(0.99), ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s API_PORT TOKEN GATEWAY_PORT HELLO_BINARY [N]\n", argv[0]);
    return 2;
  }
  int api = std::atoi(argv[1]);
  std::string token = argv[2];
  int gateway = std::atoi(argv[3]);
  std::string hello = argv[4];
  int n = argc > 5 ? std::atoi(argv[5]) : 100;

  // Every Function first, then measure each once it is at zero instances.
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    std::string name = "cold" + std::to_string(i);
    std::string manifest =
        "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: " + name +
        "\n  annotations:\n    ofn.io/readiness: socket\nspec:\n  version: v1\n  image: bench/hello\n  serving:\n"
        "    triggers:\n      http:\n        port: 8080\n    template:\n      containers:\n        - name: function\n"
        "          command: [\"" + hello + "\"]\n";
    if (Exchange(api, ApiRequest("POST", "/v1/apply", token, manifest)) != 200) {
      std::fprintf(stderr, "apply failed\n");
      return 1;
    }
    names.push_back(name);
  }
  if (std::string why = WaitUntilAllAtZero(api, token, names); !why.empty()) {
    std::fprintf(stderr, "coldstart: %s\n", why.c_str());
    return 1;
  }
  std::vector<double> cold, floor;
  for (const auto& name : names) {
    auto t0 = Clock::now();
    int status = Exchange(gateway, "GET /default/" + name + "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto t1 = Clock::now();
    if (status != 200) {
      std::fprintf(stderr, "cold request to %s answered %d\n", name.c_str(), status);
      return 1;
    }
    cold.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  // Each request must have been a cold start by the server's own count.
  ofn::bench::Gauges g = ofn::bench::ReadMetrics(api, token);
  int counted = 0;
  for (const auto& name : names) counted += g["ofn_cold_starts_total"][name] == 1;
  for (const auto& name : names) Exchange(api, ApiRequest("DELETE", "/v1/objects/function/default/" + name, token));

  // The floor: the same binary, spawned directly, to its first 200.
  for (int i = 0; i < n; ++i) {
    int port = 20000 + (i % 1000) + 7;
    std::string env_port = "PORT=" + std::to_string(port);
    std::string quiet = "OFN_LOG_LEVEL=warn";
    char* child_env[] = {env_port.data(), quiet.data(), nullptr};
    char* child_argv[] = {hello.data(), nullptr};
    auto t0 = Clock::now();
    pid_t pid;
    if (posix_spawn(&pid, hello.c_str(), nullptr, nullptr, child_argv, child_env) != 0) return 1;
    int status = -1;
    while (status != 200) {
      status = Exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      if (status != 200 && Clock::now() - t0 > std::chrono::seconds(5)) break;
    }
    auto t1 = Clock::now();
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    if (status != 200) {
      std::fprintf(stderr, "floor instance never answered\n");
      return 1;
    }
    floor.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }

  std::printf("| %-34s | %5s | %8s | %8s | %8s |\n", "cold start (ms)", "n", "p50", "p99", "max");
  std::printf("|%s|-------|----------|----------|----------|\n", std::string(36, '-').c_str());
  Report("through ofn (zero -> 200)", cold);
  Report("floor: spawn + poll until 200", floor);
  std::printf("\nrequests the server counted as cold starts: %d of %zu\n", counted, names.size());
  return counted == static_cast<int>(names.size()) ? 0 : 1;
}

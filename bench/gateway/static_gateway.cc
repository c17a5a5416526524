// A gateway with one static route, for benchmarking the data path before the
// whole server exists: static_gateway PORT PREFIX UPSTREAM_PORT
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/stop_signals.h"
#include "gateway/gateway.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PORT PREFIX UPSTREAM_PORT\n", argv[0]);
    return 2;
  }
  ofn::StopSignals signals;
  auto g = ofn::gateway::Gateway::Start({.host = "127.0.0.1", .port = std::atoi(argv[1])}, nullptr);
  if (!g.ok()) {
    std::fprintf(stderr, "%s\n", g.status().ToString().c_str());
    return 1;
  }
  ofn::gateway::RouteSpec r;
  r.key = "bench/fn";
  r.path_prefixes = {argv[2]};
  (*g)->Upsert(r);
  (*g)->SetEndpoints("bench/fn", {ofn::gateway::Endpoint{"127.0.0.1", std::atoi(argv[3])}});
  signals.Wait();
  return 0;
}

// Real brokers for integration tests: redis-server, nats-server -js,
// mosquitto and (for images) docker-registry, each started in the foreground on 127.0.0.1 with its data in a
// directory the test owns, and killed with the Broker.
//
// Start again with the same `dir` and `port` to simulate a broker restart
// (data that the broker persisted survives). Each Start waits until the port
// accepts connections (deadline 10 s) or fails with the broker's output.
#pragma once

#include <memory>
#include <string>

#include "ofn/status.h"
#include "support/process.h"

namespace ofn::testing {

struct Broker {
  std::unique_ptr<Process> process;
  int port = 0;
  std::string dir;
  std::string address;  // "127.0.0.1:PORT"
  std::string url;      // redis: "127.0.0.1:PORT"; nats: "nats://127.0.0.1:PORT"; mqtt: "tcp://127.0.0.1:PORT"

  // SIGKILL and reap; a later Start* with the same dir and port restarts it.
  void Kill();
};

// `port` 0 picks a free one. Redis appends every write (appendfsync always),
// so acknowledged writes survive Kill.
Result<Broker> StartRedis(const std::string& dir, int port = 0);
// JetStream on, store in `dir`.
Result<Broker> StartNats(const std::string& dir, int port = 0);
// Anonymous, persistent sessions saved in `dir` (on clean shutdown only, as mosquitto does).
Result<Broker> StartMosquitto(const std::string& dir, int port = 0);
// docker-registry (OCI distribution API, plain HTTP), storage in `dir`;
// ready once GET /v2/ answers. With `user`, htpasswd auth for user/password.
Result<Broker> StartRegistry(const std::string& dir, const std::string& user = "", const std::string& password = "",
                             int port = 0);

}  // namespace ofn::testing

// RedisOptions: how to reach one Redis server, read from the metadata keys
// every Dapr Redis component shares (dapr-fact-sheet §4.3): redisHost
// (required, host:port), redisPort, redisUsername, redisPassword, redisDB,
// dialTimeout and readTimeout. Modes Ofn cannot serve (cluster, sentinel
// failover, TLS) are refused by name rather than silently ignored.
//
// A plain value type; thread-safe to share once built.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "components/metadata.h"
#include "ofn/status.h"

namespace ofn::components::redis {

struct RedisOptions {
  std::string host;
  int port = 6379;
  std::string username;
  std::string password;
  int64_t db = 0;
  std::chrono::milliseconds dial_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds read_timeout{std::chrono::seconds(3)};

  // InvalidArgument naming the key at fault.
  static Result<RedisOptions> FromMetadata(const Metadata& metadata);
  std::string Address() const { return host + ":" + std::to_string(port); }
};

}  // namespace ofn::components::redis

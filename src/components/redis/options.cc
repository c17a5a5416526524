#include "components/redis/options.h"

#include <charconv>

namespace ofn::components::redis {
namespace {

Result<int> ParsePort(std::string_view text, std::string_view key) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port <= 0 || port > 65535) {
    return Status::InvalidArgument("metadata " + std::string(key) + ": \"" + std::string(text) +
                                   "\" has no valid port");
  }
  return port;
}

}  // namespace

Result<RedisOptions> RedisOptions::FromMetadata(const Metadata& metadata) {
  RedisOptions o;
  std::string host = metadata.GetOr("redisHost", "");
  if (host.empty()) return Status::InvalidArgument("metadata redisHost is required (host:port)");
  if (host.find(',') != std::string::npos) {
    return Status::InvalidArgument("metadata redisHost: a host list (cluster mode) is not supported");
  }
  if (auto type = metadata.GetOr("redisType", "node"); type != "node") {
    return Status::InvalidArgument("metadata redisType: \"" + type + "\" is not supported (only node)");
  }
  for (const char* flag : {"enableTLS", "failover"}) {
    auto on = metadata.GetBool(flag, false);
    if (!on.ok()) return on.status();
    if (*on) return Status::InvalidArgument(std::string("metadata ") + flag + ": true is not supported");
  }
  // "host:port"; a bare host takes redisPort. IPv6 literals come bracketed.
  size_t colon = host.rfind(':');
  bool has_port = colon != std::string::npos && (host.front() != '[' || host[colon - 1] == ']');
  if (has_port) {
    auto port = ParsePort(std::string_view(host).substr(colon + 1), "redisHost");
    if (!port.ok()) return port.status();
    o.port = *port;
    host.resize(colon);
  } else if (auto port_text = metadata.Get("redisPort")) {
    auto port = ParsePort(*port_text, "redisPort");
    if (!port.ok()) return port.status();
    o.port = *port;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  o.host = host;
  o.username = metadata.GetOr("redisUsername", "");
  o.password = metadata.GetOr("redisPassword", "");
  auto db = metadata.GetInt("redisDB", 0);
  if (!db.ok()) return db.status();
  if (*db < 0) return Status::InvalidArgument("metadata redisDB: must not be negative");
  o.db = *db;
  auto dial = metadata.GetDuration("dialTimeout", o.dial_timeout);
  if (!dial.ok()) return dial.status();
  auto read = metadata.GetDuration("readTimeout", o.read_timeout);
  if (!read.ok()) return read.status();
  // Go's redis client treats 0 and below as "use the default".
  if (dial->count() > 0) o.dial_timeout = *dial;
  if (read->count() > 0) o.read_timeout = *read;
  return o;
}

}  // namespace ofn::components::redis

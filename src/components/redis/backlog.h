// GroupBacklog: how many entries of a stream a consumer group still has to
// finish: its pending entries (read, not acked) plus its lag (not read yet).
// Both come from XINFO GROUPS (Redis 7); where the server cannot give the lag
// (older servers, or `lag` nil after deletions inside the stream), the entries
// after the group's last-delivered-id are counted with XRANGE, up to
// kMaxCountedLag. A group that does not exist yet will read the whole stream
// (it is created at ID 0), so its backlog is the stream's length.
//
// Uses the caller's connection; thread-safety is the caller's.
#pragma once

#include <cstdint>
#include <string>

#include "components/redis/connection.h"
#include "ofn/status.h"

namespace ofn::components::redis {

inline constexpr int64_t kMaxCountedLag = 100000;

Result<int64_t> GroupBacklog(Connection& conn, const std::string& stream, const std::string& group);

}  // namespace ofn::components::redis

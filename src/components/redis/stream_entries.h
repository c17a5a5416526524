// Stream entries as Redis replies carry them (XREADGROUP, XCLAIM, XRANGE),
// and how an entry that Dapr's pubsub.redis wrote becomes a Message: the
// field `data` is the payload, the field `metadata` a JSON map of strings
// (dapr-fact-sheet §4.3).
//
// Pure functions; thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "components/pubsub.h"
#include "ofn/status.h"

namespace ofn::components::redis {

struct StreamEntry {
  std::string id;
  // nullopt: the entry is still pending but its data was deleted (XDEL, trim).
  std::optional<std::map<std::string, std::string>> fields;
};

// An array of [id, [field, value, ...]] pairs (XCLAIM, XRANGE); nil entries
// of old servers' XCLAIM are skipped.
Result<std::vector<StreamEntry>> ParseEntries(const redisReply* reply);
// XREADGROUP's reply for one stream: nil (timed out) or [[stream, entries]].
Result<std::vector<StreamEntry>> ParseReadReply(const redisReply* reply);

// The Message an entry written by Dapr's XADD stands for. A `metadata` field
// that is not a JSON object is left out; non-string values keep their JSON text.
Message ToMessage(const std::string& topic, const StreamEntry& entry);

// The smallest stream ID after `id` ("5-3" -> "5-4"), for exclusive range
// starts that work on every Redis version.
std::string NextStreamId(const std::string& id);

}  // namespace ofn::components::redis

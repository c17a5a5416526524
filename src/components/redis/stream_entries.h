// Stream entries as Redis replies carry them (XREADGROUP, XCLAIM, XRANGE),
// and how an entry that Dapr's pubsub.redis wrote becomes a Message: the
// field `data` is the payload, the field `metadata` a JSON map of strings
// (dapr-fact-sheet §4.3).
//
// Pure functions; thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/pubsub.h"
#include "ofn/status.h"

namespace ofn::components::redis {

// A stream entry ID, "<ms>-<seq>": held, compared and acked by the
// thousand on the delivery path, so kept as numbers.
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
  // "5-3", or "5" (= "5-0"); nullopt for anything else.
  static std::optional<StreamId> Parse(std::string_view text);
  std::string ToString() const;
  // The smallest ID after this one ("5-3" -> "5-4"), for exclusive range
  // starts that work on every Redis version.
  StreamId Next() const;
};

struct StreamEntry {
  StreamId id;
  // The entry is still pending but its data was deleted (XDEL, trim).
  bool deleted = false;
  // The fields Dapr writes; other fields are not read. Empty when absent.
  std::string data;
  std::string metadata;
};

// An array of [id, [field, value, ...]] pairs (XCLAIM, XRANGE); nil entries
// of old servers' XCLAIM are skipped.
Result<std::vector<StreamEntry>> ParseEntries(const redisReply* reply);
// XREADGROUP's reply for one stream: nil (timed out) or [[stream, entries]].
Result<std::vector<StreamEntry>> ParseReadReply(const redisReply* reply);

// The Message an entry written by Dapr's XADD stands for (takes its data). A
// `metadata` field that is not a JSON object is left out; non-string values
// keep their JSON text.
Message ToMessage(const std::string& topic, StreamEntry&& entry);


}  // namespace ofn::components::redis

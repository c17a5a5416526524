// HashStateStore: Dapr's state.redis (dapr-fact-sheet §4.3). Each key is a
// Redis hash {data: <value bytes>, version: <integer>}; the version is the
// ETag and grows by one per write (HINCRBY). Single writes and deletes are
// Lua scripts (EVAL), so the etag check and the write are one atomic step on
// the server. A transaction WATCHes its keys, checks every operation's rules
// in order against the versions it read, then applies all of them in one
// MULTI/EXEC, which the server refuses if a watched key changed meanwhile
// (then it starts over); so it applies all or nothing. Plain string keys
// (written by something else) are readable, with an empty ETag, and are
// replaced by the first write.
//
// Follows every rule of StateStore (state_store.h), which is stricter than
// Dapr's scripts in two places: an etag on a missing key is a mismatch, and
// first-write without an etag only creates.
//
// Thread-safety: all methods may be called concurrently; one mutex guards the
// single connection.
#pragma once

#include <mutex>
#include <string>

#include "components/redis/connection.h"
#include "components/state_store.h"

namespace ofn::components::redis {

class HashStateStore final : public StateStore {
 public:
  static constexpr std::string_view kType = "state.redis";

  // Connects lazily, on the first call.
  HashStateStore(RedisOptions options, std::string component);

  std::string_view type() const override { return kType; }
  std::vector<std::string> features() const override { return {"ETAG", "TRANSACTIONAL"}; }

  Result<std::optional<StateItem>> Get(std::string_view key) override;
  Result<std::vector<std::optional<StateItem>>> BulkGet(const std::vector<std::string>& keys) override;
  Status Set(const SetRequest& request) override;
  Status Delete(const DeleteRequest& request) override;
  Status Transaction(const std::vector<StateOperation>& operations) override;

 private:
  Status Failed(const Status& s) const;
  Status TryTransaction(const std::vector<StateOperation>& operations, bool* conflict);

  const std::string component_;
  std::mutex mu_;
  Connection conn_;
};

}  // namespace ofn::components::redis

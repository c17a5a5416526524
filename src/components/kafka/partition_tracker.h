// PartitionTracker: one assigned partition's messages between the fetch and
// the offset commit.
//
// Kafka keeps one committed offset per partition, so a message may only be
// counted as consumed once it and every earlier message of its partition were
// acked (kSuccess or kDrop). The tracker holds each message read and not yet
// complete: pending (waiting to be handed out, in offset order, including
// those sent back by kRetry) or out (handed out, awaiting its Ack). The
// commit point is the lowest offset still held, or the offset after the last
// one read when nothing is held.
//
// Not thread-safe: the subscription guards it with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "components/pubsub.h"

namespace ofn::components::kafka {

class PartitionTracker {
 public:
  // `start`: the offset consumption starts at, or nullopt when only the
  // first message read will tell.
  explicit PartitionTracker(std::optional<int64_t> start) : next_read_(start) {}

  // A message read from the broker; false (ignored) if it is held already.
  bool Add(int64_t offset, Message message);
  bool HasPending() const { return !pending_.empty(); }
  size_t pending() const { return pending_.size(); }
  // The lowest pending message, now counted as out. Requires HasPending().
  std::pair<int64_t, Message> TakeNext();
  // The Ack of a message that is out: kSuccess/kDrop complete it, kRetry
  // makes it pending again ahead of every later message.
  void Acked(int64_t offset, Outcome outcome);
  // The offset to commit: everything before it is complete. nullopt until the
  // start is known.
  std::optional<int64_t> CommitPoint() const;

 private:
  std::map<int64_t, Message> held_;  // pending or out, kept for a retry
  std::set<int64_t> pending_;
  std::optional<int64_t> next_read_;
};

}  // namespace ofn::components::kafka

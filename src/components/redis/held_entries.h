// HeldEntries: the stream entries this process currently answers for, per
// topic, shared by every subscription in the process that reads as the same
// consumer of the same server (For()).
//
// All subscriptions with one consumerID read as the same consumer (Dapr names
// the consumer after consumerID), even across component instances (a
// function's new revision starts before the old one stops), so the group's
// pending list cannot tell which of them holds an entry. An entry is held from the moment it is handed to a
// handler until its XACK succeeded, its Ack said kRetry, or its subscription
// went away; while held, neither a restart read of the pending list nor the
// XCLAIM redelivery hands it out a second time. An entry whose XACK succeeded
// is remembered as done (the most recent ones, per topic): a read that
// fetched it just before (a sibling's walk of the pending list, or its own
// XREADGROUP reply still being unpacked) cannot hand it out again.
//
// Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "components/redis/stream_entries.h"

namespace ofn::components::redis {

class HeldEntries {
 public:
  // The instance for one consumer identity ("host:port/db/group"), shared
  // while anyone uses it.
  static std::shared_ptr<HeldEntries> For(const std::string& consumer_key);

  // False if someone holds it already.
  bool TryHold(const std::string& topic, StreamId id);
  bool Holds(const std::string& topic, StreamId id) const;
  // Releases a batch under one lock (acks come back by the hundred).
  void Release(const std::string& topic, const std::vector<StreamId>& ids);
  // Releases entries whose XACK succeeded: TryHold refuses them from now on.
  void ReleaseAcked(const std::string& topic, const std::vector<StreamId>& ids);

  // Acked entries remembered per topic: far more than can be in flight
  // between a read and its TryHold.
  static constexpr size_t kAckedMemory = 8192;

 private:
  struct Topic {
    std::set<StreamId> held;
    std::set<StreamId> acked;
    std::deque<StreamId> acked_order;  // oldest first, to forget them
  };
  mutable std::mutex mu_;
  std::map<std::string, Topic, std::less<>> topics_;
};

}  // namespace ofn::components::redis

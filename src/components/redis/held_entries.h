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
// XCLAIM redelivery hands it out a second time.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace ofn::components::redis {

class HeldEntries {
 public:
  // The instance for one consumer identity ("host:port/db/group"), shared
  // while anyone uses it.
  static std::shared_ptr<HeldEntries> For(const std::string& consumer_key);

  // False if someone holds it already.
  bool TryHold(const std::string& topic, const std::string& id);
  bool Holds(const std::string& topic, const std::string& id) const;
  void Release(const std::string& topic, const std::string& id);

 private:
  mutable std::mutex mu_;
  std::set<std::pair<std::string, std::string>> held_;
};

}  // namespace ofn::components::redis

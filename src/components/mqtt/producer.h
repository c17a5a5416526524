// Producer: the publishing side of an MQTT component, a Connection opened on
// first use and kept (reconnecting on its own) for every later publish.
//
// Separate from the subscribers' connections on purpose: a subscriber stops
// reading its socket while its function is busy (inbox.h), and a PUBACK
// stuck behind that would stall a function that publishes from its handler.
//
// Thread-safety: Publish from any thread; concurrent first calls connect once.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "components/mqtt/connection.h"

namespace ofn::components::mqtt {

class Producer {
 public:
  explicit Producer(ConnectionOptions options) : options_(std::move(options)) {}

  // Connects first if needed; waits for the broker's acknowledgement (see
  // Connection::Publish) until `deadline`.
  Status Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                 Clock::time_point deadline);

 private:
  const ConnectionOptions options_;
  std::mutex mu_;
  std::unique_ptr<Connection> connection_;  // set once connected, never replaced
};

}  // namespace ofn::components::mqtt

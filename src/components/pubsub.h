// The contracts between the component host and broker backends: pub/sub,
// messages, acknowledgement, subscriptions.
//
// Delivery is at-least-once. A backend hands each message it reads to a
// MessageHandler together with an Ack; the handler returns at once (it only
// queues the message) and the Ack is called later, exactly once, from any
// thread, with the outcome:
//   kSuccess  the function took it: acknowledge it to the broker
//             (XACK, JetStream Ack, Kafka offset commit, MQTT PUBACK);
//   kRetry    not handled: do NOT acknowledge; the broker's own redelivery
//             brings it back (pending entry, NAK, uncommitted offset, ...);
//   kDrop     give up on it: acknowledge without handling (the host has
//             already counted it and, if configured, dead-lettered it).
// The host does its own retries with backoff before it answers, so backends
// need no retry loops of their own. A backend keeps at most
// `max_in_flight` messages handed out and not yet acked, reading more only as
// acks come back: with max_in_flight 1 the function sees the broker's order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ofn/status.h"

namespace ofn::components {

struct Message {
  std::string topic;
  std::string data;  // the broker's bytes, unchanged
  // Broker metadata; the host sends each entry as a header on delivery
  // (Kafka: __key, __topic, __partition, __offset; MQTT: retained/topic; ...).
  std::map<std::string, std::string> metadata;
};

enum class Outcome { kSuccess, kRetry, kDrop };

// Safe to call after the Subscription that produced it is gone (then a no-op
// or a best-effort ack); never called twice.
using Ack = std::function<void(Outcome)>;
using MessageHandler = std::function<void(Message message, Ack ack)>;

// A running consumer. Its destructor stops reading and joins its threads;
// messages handed out but not acked stay unacknowledged at the broker.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Messages of this subscription the broker still holds for it: not yet
  // read plus read-but-unacked. What the backlog scaler compares with its
  // threshold (KEDA's lag / pending-entries count). Errors when the broker
  // cannot be asked right now.
  virtual Result<int64_t> Backlog() = 0;
};

struct PublishRequest {
  std::string topic;
  std::string data;
  std::map<std::string, std::string> metadata;  // Dapr's metadata.* query, prefix removed
};

struct SubscribeRequest {
  std::string topic;
  std::map<std::string, std::string> metadata;  // the subscription's metadata from /dapr/subscribe
  size_t max_in_flight = 1;
};

class PubSub {
 public:
  virtual ~PubSub() = default;
  // Returns once the broker has accepted the message (durably, where the
  // broker offers it). Thread-safe.
  virtual Status Publish(const PublishRequest& request) = 0;
  // Starts consuming `request.topic` as this component's consumer group
  // (metadata consumerID, default the app id). Reconnects on its own after a
  // broker outage. Thread-safe.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request,
                                                          MessageHandler handler) = 0;
};

}  // namespace ofn::components

// JetStreamPubSub: Dapr's `pubsub.jetstream` on NATS JetStream.
//
// Publish sends to subject = topic and returns once JetStream has stored the
// message (its publish ack). The request metadata `cloudevent.id` (else
// `id`) becomes the Nats-Msg-Id header, so JetStream drops duplicates within
// the stream's duplicate window; every other metadata entry becomes a header.
// Subscribe starts a PullSubscription on a durable consumer. The stream of a
// topic comes from StreamDirectory (which, unlike Dapr, creates a missing
// stream unless `streamName` is set).
//
// Consumer keys (durableName, deliverPolicy, ackWait, ...) come from the
// component's metadata, overridden by the subscription's own metadata.
// Accepted and ignored: `concurrency` (Ofn's max_in_flight rules) and the
// push-consumer keys `rateLimit`, `heartbeat`, `flowControl`.
//
// Thread-safety: Publish and Subscribe may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "components/component.h"
#include "components/nats/connection.h"
#include "components/nats/streams.h"
#include "components/pubsub.h"

namespace ofn::components::nats {

class JetStreamPubSub final : public PubSub {
 public:
  // Validates the metadata and connects.
  static Result<std::shared_ptr<JetStreamPubSub>> Create(const ComponentSpec& spec);

  Status Publish(const PublishRequest& request) override;
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request, MessageHandler handler) override;

 private:
  JetStreamPubSub(std::shared_ptr<Connection> connection, ComponentSpec spec)
      : connection_(connection), streams_(std::move(connection)), spec_(std::move(spec)) {}
  Status PublishOnce(const PublishRequest& request, const std::string& stream);
  Status Named(const Status& status) const;

  std::shared_ptr<Connection> connection_;
  StreamDirectory streams_;
  const ComponentSpec spec_;
};

}  // namespace ofn::components::nats

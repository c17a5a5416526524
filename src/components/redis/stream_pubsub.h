// StreamPubSub: Dapr's pubsub.redis on Redis Streams (dapr-fact-sheet §4.3).
//
// Publish is `XADD <topic> [MAXLEN ~ maxLenApprox] * data <payload>
// metadata <JSON of the request metadata>`, so Dapr sidecars and Ofn read each
// other's streams. Subscribe starts a StreamSubscription (see there for
// reading, acks and redelivery); all subscriptions in the process that read
// as the same consumer share one HeldEntries.
//
// Connects lazily: a component whose server is down can be created; Publish
// then fails with Unavailable and subscriptions keep retrying.
//
// Thread-safety: all methods may be called from any thread; one mutex guards
// the publishing connection.
#pragma once

#include <memory>
#include <mutex>

#include "components/pubsub.h"
#include "components/redis/connection.h"
#include "components/redis/held_entries.h"
#include "components/redis/stream_settings.h"

namespace ofn::components::redis {

class StreamPubSub final : public PubSub {
 public:
  explicit StreamPubSub(StreamSettings settings);

  Status Publish(const PublishRequest& request) override;
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request, MessageHandler handler) override;

 private:
  const StreamSettings settings_;
  const std::shared_ptr<HeldEntries> held_;
  std::mutex mu_;
  Connection publisher_;
};

}  // namespace ofn::components::redis

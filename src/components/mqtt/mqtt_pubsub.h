// MqttPubSub: Dapr's pubsub.mqtt3 (alias pubsub.mqtt) on libmosquitto.
//
// Publish goes over one shared producer connection (a broker-assigned client
// id, clean session) with the component's qos and retain (a publish's
// `retain` metadata overrides it) and waits up to 20 s for the broker's
// acknowledgement, as Dapr does.
//
// Each Subscribe opens a session of its own with client id
// "<consumerID>-<topic>" (Dapr: one client "<consumerID>" for all topics).
// One session per subscription lets each stop reading on its own while its
// function is busy, and means that what a persistent session brings back at
// connect time always has its subscriber: a shared session would hand topic
// B's messages over before B was subscribed again, and libmosquitto would
// already have acknowledged them. Filters may use + and #. Handlers get
// metadata `topic` and `retained` ("true"/"false"). Acknowledgement and what
// at-least-once means: inbox.h.
//
// Thread-safety: all methods from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "components/mqtt/options.h"
#include "components/mqtt/producer.h"
#include "components/pubsub.h"

namespace ofn::components::mqtt {

class MqttPubSub final : public PubSub {
 public:
  MqttPubSub(std::string describe, PubSubOptions options);

  Status Publish(const PublishRequest& request) override;
  // A second live subscription to the same topic is FailedPrecondition: its
  // session would have the same client id and the broker would keep
  // disconnecting one for the other.
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request, MessageHandler handler) override;

 private:
  // Topics with a live Subscription; shared with them, they may outlive the component.
  struct Active {
    std::mutex mu;
    std::set<std::string> topics;
  };

  const std::string describe_;
  const PubSubOptions options_;
  Producer producer_;
  std::shared_ptr<Active> active_ = std::make_shared<Active>();
};

}  // namespace ofn::components::mqtt

#include "components/mqtt/mqtt_pubsub.h"

#include "components/metadata.h"
#include "components/mqtt/subscription.h"

namespace ofn::components::mqtt {
namespace {

constexpr std::chrono::seconds kWait{20};  // Dapr's defaultWait for publish, connect and subscribe

ConnectionOptions ProducerOptions(const std::string& describe, const PubSubOptions& options) {
  ConnectionOptions c;
  c.describe = describe;
  c.broker = options.broker;
  c.clean_session = true;  // nothing to keep: it only publishes
  return c;
}

}  // namespace

MqttPubSub::MqttPubSub(std::string describe, PubSubOptions options)
    : describe_(std::move(describe)), options_(std::move(options)), producer_(ProducerOptions(describe_, options_)) {}

Status MqttPubSub::Publish(const PublishRequest& request) {
  bool retain = options_.retain;
  if (auto it = request.metadata.find("retain"); it != request.metadata.end() && !it->second.empty()) {
    auto parsed = Metadata(Metadata::Map{{"retain", it->second}}).GetBool("retain", retain);
    if (!parsed.ok()) return Status::InvalidArgument(describe_ + ": publish " + parsed.status().message());
    retain = *parsed;
  }
  return producer_.Publish(request.topic, request.data, options_.qos, retain, Clock::now() + kWait);
}

Result<std::unique_ptr<Subscription>> MqttPubSub::Subscribe(const SubscribeRequest& request, MessageHandler handler) {
  if (request.topic.empty()) return Status::InvalidArgument(describe_ + ": subscribe needs a topic");
  {
    std::lock_guard lock(active_->mu);
    if (!active_->topics.insert(request.topic).second) {
      return Status::FailedPrecondition(describe_ + ": topic " + request.topic +
                                        " already has a subscription (one MQTT session per consumerID and topic)");
    }
  }
  SubscriptionOptions s;
  s.connection.describe = describe_;
  s.connection.broker = options_.broker;
  s.connection.client_id = options_.consumer_id + "-" + request.topic;
  s.connection.clean_session = options_.clean_session;
  s.connection.filters = {request.topic};
  s.connection.subscribe_qos = options_.qos;
  s.report_retained = true;
  s.max_in_flight = request.max_in_flight;
  s.on_end = [active = active_, topic = request.topic] {
    std::lock_guard lock(active->mu);
    active->topics.erase(topic);
  };
  return MqttSubscription::Start(std::move(s), std::move(handler), Clock::now() + kWait);
}

}  // namespace ofn::components::mqtt

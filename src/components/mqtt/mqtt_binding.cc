#include "components/mqtt/mqtt_binding.h"

#include "components/mqtt/subscription.h"

namespace ofn::components::mqtt {
namespace {

constexpr std::chrono::seconds kWait{20};  // Dapr's defaultWait
constexpr int kQos = 1;                    // fixed for bindings.mqtt3

ConnectionOptions Base(const std::string& describe, const BindingOptions& options, const std::string& suffix) {
  ConnectionOptions c;
  c.describe = describe;
  c.broker = options.broker;
  c.client_id = options.consumer_id + suffix;
  c.clean_session = options.clean_session;
  return c;
}

}  // namespace

MqttBinding::MqttBinding(std::string describe, BindingOptions options)
    : describe_(std::move(describe)), options_(std::move(options)), producer_(Base(describe_, options_, "-producer")) {}

Result<std::optional<BindingResponse>> MqttBinding::Invoke(const BindingRequest& request) {
  if (request.operation != "create") {
    return Status::InvalidArgument(describe_ + ": operation " + request.operation + " is not supported (only create)");
  }
  std::string topic = options_.topic;
  if (auto it = request.metadata.find("topic"); it != request.metadata.end() && !it->second.empty()) {
    topic = it->second;
  }
  Status published = producer_.Publish(topic, request.data, kQos, options_.retain, Clock::now() + kWait);
  if (!published.ok()) return published;
  return std::optional<BindingResponse>();
}

Result<std::unique_ptr<Subscription>> MqttBinding::Read(const ReadRequest& request, MessageHandler handler) {
  if (reading_->exchange(true)) {
    return Status::FailedPrecondition(describe_ + ": already being read (one consumer session per consumerID)");
  }
  SubscriptionOptions s;
  s.connection = Base(describe_, options_, "-consumer");
  s.connection.filters = {options_.topic};
  s.connection.subscribe_qos = kQos;
  s.max_in_flight = request.max_in_flight;
  s.on_end = [reading = reading_] { reading->store(false); };
  return MqttSubscription::Start(std::move(s), std::move(handler), Clock::now() + kWait);
}

}  // namespace ofn::components::mqtt

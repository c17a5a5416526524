// MqttBinding: Dapr's bindings.mqtt3 (alias bindings.mqtt), both directions
// of one component.
//
// Output (operation create): publishes the request data to the request's
// `topic` metadata, else the component's topic, with QoS 1 and the
// component's retain, from client "<consumerID>-producer"; waits up to 20 s
// for the PUBACK and answers no data (Dapr: 204). Input: reads the
// component's topic (wildcards allowed) with QoS 1 as client
// "<consumerID>-consumer"; handlers get metadata `topic`. Acknowledgement and
// what at-least-once means: inbox.h.
//
// Thread-safety: all methods from any thread. One Read at a time (a second
// one is FailedPrecondition: the same client id would take the session over).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "components/binding.h"
#include "components/mqtt/options.h"
#include "components/mqtt/producer.h"

namespace ofn::components::mqtt {

class MqttBinding final : public InputBinding, public OutputBinding {
 public:
  MqttBinding(std::string describe, BindingOptions options);

  std::vector<std::string> Operations() const override { return {"create"}; }
  Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) override;
  Result<std::unique_ptr<Subscription>> Read(const ReadRequest& request, MessageHandler handler) override;

 private:
  const std::string describe_;
  const BindingOptions options_;
  Producer producer_;
  // Shared with the live subscription, which may outlive the component.
  std::shared_ptr<std::atomic<bool>> reading_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace ofn::components::mqtt

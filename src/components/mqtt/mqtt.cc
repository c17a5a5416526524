#include "components/mqtt/mqtt.h"

#include "components/mqtt/mqtt_binding.h"
#include "components/mqtt/mqtt_pubsub.h"

namespace ofn::components::mqtt {
namespace {

Result<Component> CreatePubSub(const ComponentSpec& spec) {
  auto options = ParsePubSubOptions(spec);
  if (!options.ok()) return options.status();
  Component c;
  c.pubsub = std::make_shared<MqttPubSub>(spec.Describe(), std::move(*options));
  return c;
}

Result<Component> CreateBinding(const ComponentSpec& spec) {
  auto options = ParseBindingOptions(spec);
  if (!options.ok()) return options.status();
  auto binding = std::make_shared<MqttBinding>(spec.Describe(), std::move(*options));
  Component c;
  c.input = binding;
  c.output = binding;
  return c;
}

}  // namespace

void Register(Registry& registry) {
  for (const char* type : {"pubsub.mqtt3", "pubsub.mqtt"}) registry.Add(type, CreatePubSub);
  for (const char* type : {"bindings.mqtt3", "bindings.mqtt"}) registry.Add(type, CreateBinding);
}

}  // namespace ofn::components::mqtt

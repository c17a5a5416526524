#include "components/nats/nats.h"

#include "components/nats/jetstream_pubsub.h"

namespace ofn::components::nats {

void Register(Registry& registry) {
  registry.Add("pubsub.jetstream", [](const ComponentSpec& spec) -> Result<Component> {
    auto pubsub = JetStreamPubSub::Create(spec);
    if (!pubsub.ok()) return pubsub.status();
    Component component;
    component.pubsub = std::move(*pubsub);
    return component;
  });
}

}  // namespace ofn::components::nats

#include "components/redis/redis.h"

#include "components/redis/command_binding.h"
#include "components/redis/hash_state_store.h"
#include "components/redis/stream_pubsub.h"

namespace ofn::components::redis {

void Register(Registry& registry) {
  registry.Add("pubsub.redis", [](const ComponentSpec& spec) -> Result<Component> {
    auto settings = StreamSettings::FromSpec(spec);
    if (!settings.ok()) return settings.status();
    Component c;
    c.pubsub = std::make_shared<StreamPubSub>(std::move(*settings));
    return c;
  });
  registry.Add("state.redis", [](const ComponentSpec& spec) -> Result<Component> {
    auto options = RedisOptions::FromMetadata(spec.metadata);
    if (!options.ok()) return options.status();
    Component c;
    c.state = std::make_shared<HashStateStore>(std::move(*options), spec.Describe());
    return c;
  });
  registry.Add("bindings.redis", [](const ComponentSpec& spec) -> Result<Component> {
    auto options = RedisOptions::FromMetadata(spec.metadata);
    if (!options.ok()) return options.status();
    Component c;
    c.output = std::make_shared<CommandBinding>(std::move(*options), spec.Describe());
    return c;
  });
}

}  // namespace ofn::components::redis

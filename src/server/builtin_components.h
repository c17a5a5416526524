// The component types `ofn server` knows: the embedded defaults (state.ofn,
// pubsub.ofn), bindings.cron and bindings.http, and the broker backends
// (Redis, NATS JetStream, MQTT, Kafka), each registered by its Dapr type name.
#pragma once

#include "components/registry.h"

namespace ofn::server {

components::Registry BuiltinComponents();

}  // namespace ofn::server

// Kafka backends: Dapr's "pubsub.kafka" and "bindings.kafka" on librdkafka.
//
// pubsub.kafka publishes to the Kafka topic of the request and subscribes as
// consumer group consumerGroup (falling back to consumerID, then the app id).
// bindings.kafka is an input binding when `topics` is set (consumerGroup then
// required) and an output binding (operation create) when `publishTopic` is
// set. Metadata keys: options.h; publishing: producer.h; consuming and the
// backlog: consumer.h.
//
// Thread-safety: Register() at start-up; the components it creates are
// thread-safe.
#pragma once

#include "components/registry.h"

namespace ofn::components::kafka {

void Register(Registry& registry);

}  // namespace ofn::components::kafka

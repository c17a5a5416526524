// The NATS backends of Ofn's component host: registers Dapr's
// "pubsub.jetstream" (JetStreamPubSub) in a Registry.
//
// One deviation from Dapr: without `streamName`, a topic that no stream
// captures gets a file-storage stream of its own (see streams.h), where Dapr
// fails; Ofn runs the OpenFunction samples on one machine without setup.
//
// Thread-safety: call at start-up, before the registry is shared.
#pragma once

#include "components/registry.h"

namespace ofn::components::nats {

void Register(Registry& registry);

}  // namespace ofn::components::nats

// The Redis backends: pubsub.redis (Redis Streams), state.redis (hashes with
// versions) and bindings.redis (output: SET/GET/DEL/INCR), with the metadata
// keys and behaviour of Dapr's components (dapr-fact-sheet §4.3).
//
// Register() is called once at start-up, before the registry is shared.
#pragma once

#include "components/registry.h"

namespace ofn::components::redis {

void Register(Registry& registry);

}  // namespace ofn::components::redis

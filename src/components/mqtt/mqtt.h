// MQTT backends (libmosquitto 2.0): registers pubsub.mqtt3 and
// bindings.mqtt3 with the aliases pubsub.mqtt and bindings.mqtt
// (OpenFunction's samples use bindings.mqtt).
//
// Metadata: options.h; publishing and subscribing: mqtt_pubsub.h and
// mqtt_binding.h; acknowledgement and at-least-once: inbox.h.
// Creating a component only checks its metadata; connections are opened by
// the first publish, Subscribe or Read.
//
// Thread-safety: call Register at start-up, before the registry is shared.
#pragma once

#include "components/registry.h"

namespace ofn::components::mqtt {

void Register(Registry& registry);

}  // namespace ofn::components::mqtt

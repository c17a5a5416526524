// The embedded durable pub/sub, Dapr type "pubsub.ofn": Ofn's default event
// bus on one machine, with no server to run.
//
// Messages live in `<data_dir>/pubsub.db`, a SQLite file (0600) in WAL mode.
// A Publish has committed before it returns and acks are committed as they
// arrive, so both survive a kill -9 of ofn. Each topic is an append-only log
// with increasing sequence numbers; each consumer group (metadata consumerID,
// default the app id) keeps a committed cursor plus the sequence numbers
// acked past it. As with Dapr's Redis Streams backend, a new group starts at
// the oldest retained message (unless initialOffset says newest), so a
// subscriber that starts after a publish still gets it. Subscriptions sharing a group compete for its messages.
//
// Component metadata:
//   consumerID  the consumer group (a subscription's own consumerID wins)
//   initialOffset  where a new group starts: "oldest" retained message
//               (default) or "newest" (only what is published from now);
//               a subscription's own initialOffset wins
//   maxLen      messages kept per topic; 0 (default) = unlimited
//   retention   how long a message is kept (Go duration or seconds); 24h
//               by default, 0 = no time limit
//   sync        "normal" (default; survives process crashes) or "full"
//               (fsync at every commit; survives power loss too)
// Besides those limits, messages acked by every existing group are dropped.
//
// Thread-safety: every method may be called from any thread. All PubSub
// objects opened on the same file within a process share one bus (one
// connection, one mutex), so they see each other's messages at once and
// competing consumers work across objects; another process cannot open the
// file while it is in use.
#pragma once

#include <string_view>

#include "components/registry.h"

namespace ofn::components {

inline constexpr std::string_view kEmbeddedPubSubType = "pubsub.ofn";

// Registers "pubsub.ofn". The spec's data_dir is required (created if missing).
void RegisterEmbeddedPubSub(Registry& registry);

}  // namespace ofn::components

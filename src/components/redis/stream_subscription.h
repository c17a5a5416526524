// StreamSubscription: one pubsub.redis consumer of one topic (a Redis
// stream), reading as consumer `consumerID` of group `consumerID`, the way
// Dapr's Redis Streams component does (dapr-fact-sheet §4.3).
//
// A reader thread owns its own connection. After every (re)connect it creates
// the group if needed (XGROUP CREATE <topic> <group> 0 MKSTREAM), first
// re-reads the consumer's own pending entries (XREADGROUP ... 0), so a
// restart of ofn or of Redis loses nothing, then reads new entries
// (XREADGROUP ... BLOCK, a short block so stopping never waits long), never
// more than the free in-flight slots. While a backlog waits at the server
// and the window is busy, refills wait for half the window (or 1 ms), so a
// drain costs a round trip per batch, not per event. Every redeliverInterval it claims
// entries idle for processingTimeout or longer (XPENDING + XCLAIM): entries
// whose Ack said kRetry, or that a dead consumer left behind. Entries this
// process still holds (HeldEntries) are never handed out twice.
//
// Acks: kSuccess and kDrop queue an XACK for an acker thread with a second
// connection, which sends them gathered (up to 1 ms or half a window) in one
// XACK and retries with backoff until the server takes it; kRetry
// leaves the entry pending. A slot frees as soon as Ack is called. After the
// subscription is gone an Ack is a single best-effort XACK (kRetry: nothing).
// Lost connections are re-established with backoff (50 ms doubling to 1 s).
//
// Thread-safety: Backlog() may be called from any thread; Acks from any
// thread, also after destruction. The destructor stops and joins both
// threads; entries handed out and not acked stay pending at the server.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "components/pubsub.h"
#include "components/redis/held_entries.h"
#include "components/redis/stream_settings.h"

namespace ofn::components::redis {

class StreamSubscription final : public Subscription {
 public:
  StreamSubscription(StreamSettings settings, std::string topic, size_t max_in_flight, MessageHandler handler,
                     std::shared_ptr<HeldEntries> held);
  ~StreamSubscription() override;
  StreamSubscription(const StreamSubscription&) = delete;
  StreamSubscription& operator=(const StreamSubscription&) = delete;

  Result<int64_t> Backlog() override;

  struct State;  // shared with the Acks, which may outlive the subscription

 private:
  class Reader;
  void AckLoop();

  std::shared_ptr<State> state_;
  std::thread reader_;
  std::thread acker_;
};

}  // namespace ofn::components::redis

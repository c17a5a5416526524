// TriggerRunner: one Trigger at work.
//
// Each subscriber is its own consumer on the bus (consumer group
// "trigger-<ns>-<name>-<index>") of every input's topic, so a failing
// subscriber never holds up the others and each acknowledges only what it
// finished. For each event it reads, a subscriber marks the inputs of that
// topic as seen now, evaluates its condition (an input is active while its
// last event is at most `window` old; attribute and data comparisons look at
// the event at hand) and, when it holds:
//   topic  republishes the event to that bus topic;
//   sink   POSTs it in CloudEvents binary mode (2xx = done) through a
//          Deliverer: retries with backoff up to the policy's attempts, then
//          the dead-letter topic or sink with the reason attached
//          (extensions ofnerror, ofnerrordest); without one it is dropped
//          and counted. A dead letter that cannot be written leaves the event
//          with the bus, which brings it back.
// The bus event is acknowledged only after that, so an `ofn server` restart
// loses nothing the bus had accepted. Events that do not match are
// acknowledged at once (counted as filtered).
//
// Thread-safety: Stats() from any thread; destruction stops the consumers
// (events in flight go back to the bus).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/events.h"
#include "autoscaler/clock.h"
#include "components/delivery.h"
#include "components/pubsub.h"
#include "ofn/status.h"

namespace ofn::events {

// Resolves a sink reference to the URL to POST to (a Function's address on
// the gateway). Called for every delivery, so a changed address is followed.
using SinkResolver = std::function<Result<std::string>(const api::SinkRef&)>;

struct SubscriberStats {
  std::string condition;
  std::string destination;  // "sink <url>", "topic <t>", or both
  uint64_t received = 0;    // events read from the bus
  uint64_t matched = 0;     // the condition held
  uint64_t filtered = 0;    // it did not
  uint64_t invalid = 0;     // not a CloudEvent: dropped
  uint64_t published = 0;   // republished to the subscriber's topic
  uint64_t delivered = 0;   // answered 2xx by the sink
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
  uint64_t dropped = 0;     // given up on without a dead-letter destination
  uint64_t in_flight = 0;   // held for the sink now
};

class TriggerRunner {
 public:
  struct Options {
    std::shared_ptr<components::PubSub> bus;
    SinkResolver resolve;
    components::RetryPolicy retry;
    std::chrono::milliseconds window{60000};
    std::chrono::milliseconds call_timeout{30000};
    size_t max_in_flight = 256;  // bus events read ahead per subscriber and topic
    const autoscaler::Clock* clock = &autoscaler::SystemClock::Get();
  };

  // The trigger must have decoded without errors. Errors: a condition that
  // does not parse, a sink that does not resolve, a bus that refuses a
  // subscription (each naming the subscriber).
  static Result<std::unique_ptr<TriggerRunner>> Start(const api::Trigger& trigger, Options options);
  ~TriggerRunner();

  std::vector<SubscriberStats> Stats() const;
  // Re-checks retry deadlines now (after a test moved its fake clock).
  void Wake();

 private:
  struct Sub;
  TriggerRunner() = default;
  std::vector<std::unique_ptr<Sub>> subs_;
};

}  // namespace ofn::events

// Deliverer: pushes one function's events to its instances over keep-alive
// HTTP, the way a Dapr sidecar calls its app (dapr-fact-sheet §2.3, §2.4).
//
// The component host submits each message a binding or subscription read,
// with the Ack that answers the broker. The Deliverer queues it, POSTs it to
// the least-busy instance that has a free slot (at most `per_instance` calls
// in flight per instance), reads the answer the Dapr way (app_callback.h),
// and then, for each event:
//   success            -> Ack(kSuccess)
//   retry / failure    -> again after an exponential backoff, on any instance,
//                         until `max_attempts` answers were failures; then the
//                         dead-letter topic if the event has one (-> kSuccess
//                         once it is published there), else Ack(kDrop)
//   drop (DROP, 404)   -> dead-letter topic if any, else Ack(kDrop)
// A call that never got an answer (instance gone, connection refused) is not
// an attempt: the event waits for an instance and goes again, so killing an
// instance mid-stream loses nothing.
// A pub/sub route that takes bulk deliveries (Dapr's bulkSubscribe) gets the
// events of its subscription that are ready when a slot frees, up to its
// maximum, in one call. A lone event goes at once: only while other calls
// are in flight does a call that is not full wait for more, at most the
// app's maxAwaitDurationMs (Dapr always waits), so that a burst arriving one
// event at a time travels in few full calls rather than many small ones.
// An event that is not a JSON object cannot travel in a bulk call and is
// dropped as Dapr does (dead-letter topic if any). While events wait and no instance
// exists, `on_demand` is called so the owner can start one at once.
// Destroying the Deliverer answers every event it still holds with kRetry
// (the broker keeps them).
//
// Times come from an injected Clock (backoff deadlines) so tests can move
// time; real waits use the real clock. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "autoscaler/clock.h"
#include "components/app_callback.h"
#include "components/pubsub.h"
#include "net/http_client.h"

namespace ofn::components {

struct RetryPolicy {
  int max_attempts = 5;  // answers that were failures before giving up
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  // The backoff after the n-th failure: initial * 2^(n-1), capped.
  std::chrono::milliseconds Backoff(int failures) const;
};

struct Event {
  EventKind kind = EventKind::kBinding;
  std::string route;  // "/orders"
  Message message;    // body = message.data; each metadata entry becomes a header
  // A rawPayload subscription: the app gets a CloudEvent made around the
  // bytes; the dead-letter topic still gets the message's own bytes.
  bool raw = false;
  // > 1: the route takes bulk calls of up to this many events.
  size_t bulk = 0;
  // How long a bulk call may wait to fill up (the app's maxAwaitDurationMs);
  // only used while other calls are in flight.
  std::chrono::milliseconds bulk_await{0};
  // The request's Content-Type; empty: by kind (application/json for
  // bindings, application/cloudevents+json for pub/sub).
  std::string content_type;
  Ack ack;
  // Publishes the message to the dead-letter topic (or sink), with why it
  // was given up on; null when there is none.
  std::function<Status(const Message&, const std::string& reason)> dead_letter;
};

struct Endpoint {
  std::string id;  // the instance's name, for logs
  std::string host = "127.0.0.1";
  int port = 0;
};

struct DeliveryStats {
  uint64_t delivered = 0;      // acked after a success
  uint64_t retried = 0;        // failed answers that were tried again
  uint64_t dead_lettered = 0;  // published to a dead-letter topic
  uint64_t dropped = 0;        // acked without success and without a dead-letter topic
  uint64_t unreachable = 0;    // calls that got no answer (not attempts)
  uint64_t calls = 0;          // HTTP calls answered (a bulk call carries many events)
  uint64_t in_flight = 0;      // events
  uint64_t queued = 0;         // waiting for a slot or for their backoff
};

class Deliverer {
 public:
  struct Options {
    std::string name;  // "ns/function", for logs
    size_t per_instance = 16;
    RetryPolicy retry;
    std::chrono::milliseconds call_timeout{60000};
    const autoscaler::Clock* clock = &autoscaler::SystemClock::Get();
    std::function<void()> on_demand;  // events wait and there is no instance
    // Called just before each call, outside any lock, for its first event:
    // fills in what is known only once instances run (the pub/sub route, the
    // dead-letter topic); the other events of a bulk call share it.
    std::function<void(Event&)> prepare;
    // A call that got no answer counts as a failed attempt. For sinks the
    // platform does not run (a URL): no instance is coming to take over.
    bool unreachable_is_failure = false;
  };

  explicit Deliverer(Options options);
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  void Submit(Event event);
  // The instances that are ready now; calls in flight to removed ones finish.
  void SetEndpoints(std::vector<Endpoint> endpoints);
  // Re-checks backoff deadlines now (after a test moved its fake clock).
  void Wake();

  DeliveryStats Stats() const;
  // Events held: queued (incl. backing off) + in flight. What the scaler adds
  // to the broker's backlog when it cannot ask the broker.
  size_t Held() const;

 private:
  struct Pending {
    Event event;
    int failures = 0;    // answers that were failures
    int unanswered = 0;  // calls that got no answer (not attempts)
    autoscaler::Clock::TimePoint due{};  // not before (backoff)
  };
  struct Target {
    Endpoint endpoint;
    size_t in_flight = 0;   // calls
    size_t bulk_calls = 0;  // of them, bulk calls
  };
  // Bulk calls in flight per instance. Dapr sends a subscription's bulk
  // calls one at a time; a second keeps the instance busy while the first's
  // answer travels back. More would only split the same events into smaller
  // calls that queue up at the instance.
  static constexpr size_t kBulkCallsPerInstance = 2;

  void Work();
  // Under mu_: the next event whose backoff is over and an instance with room.
  // A known-bulk event takes one of the instance's bulk call slots at once
  // (*bulk_slot), in the same lock as the check.
  bool TakeReady(Pending* out, std::shared_ptr<Target>* target, bool* bulk_slot);
  // Under mu_: up to `max` more ready events of `first`'s subscription.
  void TakeSameSubscription(const Pending& first, size_t max, std::vector<Pending>* batch);
  // Under mu_: waits up to the route's bulk_await for `batch` to fill up to
  // `max` events, while other calls are in flight.
  void FillUp(std::vector<Pending>& batch, size_t max, std::unique_lock<std::mutex>& lk);
  // One call for `batch` (one event, or a bulk); then each event settles.
  // Called with `lk` released; returns with it held.
  // `bulk_slot`: the call holds one of target's bulk call slots.
  void Call(std::vector<Pending> batch, Target& target, bool bulk_slot, std::unique_lock<std::mutex>& lk);
  // Under mu_ (released while acking): requeue or finish each event.
  void Settle(std::vector<Pending> batch, const std::vector<Verdict>& verdicts, const std::string& reason,
              std::unique_lock<std::mutex>& lk);
  void Finish(Pending p, Verdict verdict, std::string reason);
  void SpawnWorkerIfNeeded();  // under mu_
  // Under mu_: the least busy instance that can take a call, a bulk call if
  // `bulk`; null if none.
  std::shared_ptr<Target> TargetFor(bool bulk) const;
  // Under mu_: e's subscription is known to take bulk calls.
  bool KnownBulk(const Event& e) const;
  // Under mu_: true once per stretch of "events wait, no instance".
  bool NeedsDemand();

  Options options_;
  net::HttpClient client_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Pending> queue_;  // in order; retried events go back to the front
  std::vector<std::shared_ptr<Target>> targets_;
  std::vector<std::thread> workers_;
  size_t idle_workers_ = 0;
  DeliveryStats stats_;
  bool demand_signalled_ = false;
  // A worker filling a bulk call waits on fill_cv_ until this many events
  // are queued (SIZE_MAX: nobody waits); Submit wakes it only then.
  size_t fill_need_ = SIZE_MAX;
  std::condition_variable fill_cv_;
  uint64_t next_entry_ = 0;  // bulk entry ids
  std::vector<std::pair<std::string, std::string>> bulk_subscriptions_;  // (pubsubName, topic) seen in bulk calls
};

}  // namespace ofn::components

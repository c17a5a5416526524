// PullSubscription: a `pubsub.jetstream` Subscription. Start() creates (or
// updates) the durable consumer itself (explicit acks, FilterSubject = the
// topic) and binds a pull subscription to it, so that unsubscribing never
// deletes the consumer: it survives this object, the component and server
// restarts, and the next subscription with the same durable name resumes
// where this one left off. Subscriptions sharing a durable share its
// messages (Dapr's queue group).
//
// One thread reads: while fewer than `max_in_flight` are handed out and not
// acked, it asks the server for as many as are free (a request costs about
// a millisecond, so a backlog drains in batches), and when none are waiting
// it waits for the first to arrive. With 1 the handler sees the stream's
// order. Acks go straight to the message's reply subject: kSuccess and kDrop
// ack, kRetry naks (delayed by ackWait when set, like Dapr). After a server
// restart libnats resubscribes and reading resumes; the consumer's state is
// in the server's store.
//
// Thread-safety: Backlog() may be called from any thread; Acks from any
// thread, also after this object is gone. The destructor stops and joins the
// reader at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "components/nats/connection.h"
#include "components/nats/options.h"
#include "components/pubsub.h"

namespace ofn::components::nats {

class PullSubscription final : public Subscription {
 public:
  static Result<std::unique_ptr<PullSubscription>> Start(std::shared_ptr<Connection> connection, std::string stream,
                                                         std::string topic, const ConsumerOptions& consumer,
                                                         size_t max_in_flight, MessageHandler handler);
  ~PullSubscription() override;
  PullSubscription(const PullSubscription&) = delete;
  PullSubscription& operator=(const PullSubscription&) = delete;

  // Consumer info: not yet delivered (num_pending) + delivered and not acked
  // (num_ack_pending).
  Result<int64_t> Backlog() override;

 private:
  // What the reader and the Acks it handed out share.
  struct InFlight {
    std::mutex mu;
    std::condition_variable cv;
    size_t count = 0;
    bool stopping = false;
  };

  PullSubscription(std::shared_ptr<Connection> connection, std::string stream, std::string topic,
                   std::string durable, size_t max_in_flight, std::chrono::nanoseconds nak_delay,
                   MessageHandler handler);
  void Run();
  // Pulls up to `free_slots` messages that are waiting, or else waits up to
  // kPollMs for the first one to arrive.
  natsStatus Fetch(natsMsgList* list, size_t free_slots);
  void Deliver(natsMsg* msg);
  bool Stopping();
  // Waits `pause` unless stopping first; false when stopping.
  bool PauseUnlessStopping(std::chrono::milliseconds pause);

  std::shared_ptr<Connection> connection_;
  const std::string stream_;
  const std::string topic_;
  const std::string durable_;
  const size_t max_in_flight_;
  const std::chrono::nanoseconds nak_delay_;
  MessageHandler handler_;
  std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
  natsSubscription* sub_ = nullptr;
  std::thread reader_;
};

}  // namespace ofn::components::nats

// MqttSubscription: one topic filter read over a Connection of its own into
// an Inbox (inbox.h says what at-least-once means here). Both pubsub.mqtt3
// subscriptions and bindings.mqtt3 input use it.
//
// Backlog() is what this subscription holds: messages read and not yet
// acked (queued + handed out), at most max_in_flight except just after a
// persistent session resumed (inbox.h: everything the broker sent before
// the SUBACK is read). MQTT has no way to ask the broker how many messages
// it keeps for a session, so what waits at the broker is not counted.
//
// Thread-safety: Backlog from any thread. The destructor closes the Inbox,
// then stops the connection (clean DISCONNECT, persistent sessions and their
// subscriptions stay at the broker) and joins its thread.
#pragma once

#include <functional>
#include <memory>

#include "components/mqtt/connection.h"
#include "components/mqtt/inbox.h"
#include "components/pubsub.h"

namespace ofn::components::mqtt {

struct SubscriptionOptions {
  ConnectionOptions connection;  // one filter; `sink` is set here
  bool report_retained = false;  // pub/sub handlers get `retained` besides `topic`
  size_t max_in_flight = 1;
  std::function<void()> on_end;  // run by the destructor, once the connection is gone
};

class MqttSubscription final : public Subscription, private MessageSink {
 public:
  // Connects and subscribes; fails as Connection::Start does.
  static Result<std::unique_ptr<Subscription>> Start(SubscriptionOptions options, MessageHandler handler,
                                                     Clock::time_point deadline);
  ~MqttSubscription() override;

  Result<int64_t> Backlog() override;

 private:
  MqttSubscription(SubscriptionOptions options, MessageHandler handler);
  void Receive(Received message) override;
  bool Ready() override;

  SubscriptionOptions options_;
  std::shared_ptr<Inbox> inbox_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace ofn::components::mqtt

// Inbox: the messages one MQTT subscription has read, on their way to the
// function, and the at-least-once promise that is possible with them.
//
// libmosquitto 2.0.11 acknowledges a QoS 1 message to the broker (PUBACK,
// PUBREC for QoS 2) while it reads it, before on_message runs
// (lib/handle_publish.c; eclipse/mosquitto#2884; checked against the
// installed library: a client killed inside on_message never gets the
// message again), and it has no manual-ack API. So acks cannot wait for the
// function's answer, and from the moment a message is read this Inbox holds
// the only copy. What it does instead:
//   - it reads at most `max_in_flight` messages ahead: the connection stops
//     reading the socket while queued + handed-out messages reach that
//     bound, so everything beyond stays unacknowledged at the broker.
//     Except while a session is set up (connection.h): what a resumed
//     persistent session sends before its SUBACK is all read and queued
//     here, so the queue may then hold more than `max_in_flight` messages,
//     bounded by what the broker queued for the session (mosquitto:
//     max_queued_messages, 1000 by default, plus its in-flight window).
//     Still at most `max_in_flight` are handed out un-acked;
//   - kRetry puts the message back at the front and hands it out again (the
//     host has already backed off), so it survives a failed or killed
//     function instance; kSuccess and kDrop forget it.
// At-least-once therefore holds across instance failures, retries and
// reconnects (broker restarts included, as far as the broker keeps the
// session: persistent sessions, cleanSession=false), but NOT across the end
// of the subscription (its destruction or an `ofn server` crash): the
// messages read but not yet acked (up to `max_in_flight`, or what a resumed
// session sent before its SUBACK) are lost then. Acking at the broker only
// after the function answered would need a client library with manual acks.
//
// Thread-safety: Add and Dispatch are called by the connection
// thread; Held, Close and the Acks from any thread. The handler runs on the
// Dispatch caller's thread without the lock held, so an Ack may be called
// from inside the handler.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "components/pubsub.h"

namespace ofn::components::mqtt {

class Inbox : public std::enable_shared_from_this<Inbox> {
 public:
  Inbox(size_t max_in_flight, MessageHandler handler);

  // Called after an ack freed room or re-queued a message (wakes the
  // connection thread). Set before the first message is read.
  void SetWake(std::function<void()> wake);

  // A message just read from the broker.
  void Add(Message message);
  // Hands queued messages to the handler while fewer than max_in_flight are
  // out; true if there is room to read another.
  bool Dispatch();

  // Queued + handed out and not yet acked.
  int64_t Held() const;

  // The subscription ends: nothing more is handed out and later acks do
  // nothing (the messages are already acknowledged at the broker).
  void Close();

 private:
  void Settle(uint64_t id, Outcome outcome);

  const size_t max_in_flight_;
  const MessageHandler handler_;

  mutable std::mutex mu_;
  std::function<void()> wake_;
  bool closed_ = false;
  std::deque<Message> queue_;        // read, waiting to be handed out; retried ones at the front
  std::map<uint64_t, Message> out_;  // handed out, waiting for their Ack
  uint64_t next_id_ = 1;
};

}  // namespace ofn::components::mqtt

// Connection: one NATS connection and its JetStream context, shared (by
// shared_ptr) by a component's publisher, its subscriptions and the Acks they
// hand out, so that an Ack still reaches the server after its Subscription
// is gone. libnats reconnects on its own, forever; while it is reconnecting,
// requests fail at once (Unavailable) and plain publishes (acks) are buffered
// and sent after the reconnect. Connection state changes are logged.
//
// Thread-safety: libnats connections and JetStream contexts are thread-safe,
// and so is every method here.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

#include "components/nats/options.h"
#include "ofn/status.h"

namespace ofn::components::nats {

class Connection {
 public:
  // Connects now; Unavailable (naming the URL) when the server cannot be reached.
  static Result<std::shared_ptr<Connection>> Open(const ComponentOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* nc() const { return nc_; }
  jsCtx* js() const { return js_; }
  const ComponentOptions& options() const { return options_; }

  // Publishes an acknowledgement ("+ACK", "-NAK", ...) to a JetStream
  // message's reply subject. Best effort: a lost ack means a redelivery.
  void Acknowledge(const std::string& reply_subject, std::string_view payload);

 private:
  explicit Connection(ComponentOptions options) : options_(std::move(options)) {}
  Status Connect();

  ComponentOptions options_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// A libnats failure as a Status: connectivity problems are Unavailable, a
// missing stream or consumer NotFound, what the server refused
// FailedPrecondition. `what` says what was attempted; libnats' own error text
// (the server's description for JetStream errors) is appended.
Status FromNats(natsStatus status, std::string_view what);

}  // namespace ofn::components::nats

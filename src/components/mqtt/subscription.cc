#include "components/mqtt/subscription.h"

namespace ofn::components::mqtt {

MqttSubscription::MqttSubscription(SubscriptionOptions options, MessageHandler handler)
    : options_(std::move(options)), inbox_(std::make_shared<Inbox>(options_.max_in_flight, std::move(handler))) {}

Result<std::unique_ptr<Subscription>> MqttSubscription::Start(SubscriptionOptions options, MessageHandler handler,
                                                              Clock::time_point deadline) {
  std::unique_ptr<MqttSubscription> s(new MqttSubscription(std::move(options), std::move(handler)));
  ConnectionOptions connection = s->options_.connection;
  connection.sink = s.get();
  s->connection_ = std::make_unique<Connection>(std::move(connection));
  s->inbox_->SetWake([c = s->connection_.get()] { c->Wake(); });
  Status started = s->connection_->Start(deadline);
  if (!started.ok()) return started;
  return std::unique_ptr<Subscription>(std::move(s));
}

MqttSubscription::~MqttSubscription() {
  // Closed first: an Ack arriving meanwhile must not wake a connection being destroyed.
  inbox_->Close();
  connection_.reset();
  if (options_.on_end) options_.on_end();
}

Result<int64_t> MqttSubscription::Backlog() { return inbox_->Held(); }

void MqttSubscription::Receive(Received message) {
  Message m;
  m.topic = message.topic;
  m.data = std::move(message.payload);
  m.metadata["topic"] = message.topic;
  if (options_.report_retained) m.metadata["retained"] = message.retained ? "true" : "false";
  inbox_->Add(std::move(m));
}

bool MqttSubscription::Ready() { return inbox_->Dispatch(); }

}  // namespace ofn::components::mqtt

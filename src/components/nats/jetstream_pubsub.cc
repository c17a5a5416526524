#include "components/nats/jetstream_pubsub.h"

#include "components/nats/pull_subscription.h"

namespace ofn::components::nats {

namespace {

bool SameKey(std::string_view a, std::string_view b) {
  CaseInsensitiveLess less;
  return !less(a, b) && !less(b, a);
}

// A NATS header name: printable ASCII without ':' (it ends the name).
bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || c == ':') return false;
  }
  return true;
}

bool ValidHeaderValue(std::string_view value) { return value.find_first_of("\r\n") == std::string_view::npos; }

}  // namespace

Result<std::shared_ptr<JetStreamPubSub>> JetStreamPubSub::Create(const ComponentSpec& spec) {
  auto options = ParseComponentOptions(spec.metadata);
  if (!options.ok()) return options.status();
  // Consumer keys are checked now too, so that a typo fails at load time.
  auto consumer = ParseConsumerOptions(spec.metadata, spec.app_id.empty() ? spec.name : spec.app_id);
  if (!consumer.ok()) return consumer.status();
  auto connection = Connection::Open(*options);
  if (!connection.ok()) return connection.status();
  return std::shared_ptr<JetStreamPubSub>(new JetStreamPubSub(std::move(*connection), spec));
}

Status JetStreamPubSub::Named(const Status& status) const {
  if (status.ok()) return status;
  return Status(status.code(), spec_.Describe() + ": " + status.message());
}

Status JetStreamPubSub::Publish(const PublishRequest& request) {
  if (request.topic.empty()) return Named(Status::InvalidArgument("publish: the topic is empty"));
  auto stream = streams_.Resolve(request.topic);
  if (!stream.ok()) return Named(stream.status());
  Status published = PublishOnce(request, *stream);
  if (published.code() == StatusCode::kNotFound) {
    // The stream went away since we looked it up: look again (or create it).
    streams_.Forget(request.topic);
    stream = streams_.Resolve(request.topic);
    if (!stream.ok()) return Named(stream.status());
    published = PublishOnce(request, *stream);
  }
  return Named(published);
}

Status JetStreamPubSub::PublishOnce(const PublishRequest& request, const std::string& stream) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, request.topic.c_str(), nullptr, request.data.data(),
                                static_cast<int>(request.data.size()));
  if (s != NATS_OK) return FromNats(s, "publish to \"" + request.topic + "\"");
  std::string msg_id;
  for (const auto& [key, value] : request.metadata) {
    if (SameKey(key, "cloudevent.id")) {
      msg_id = value;
      continue;
    }
    if (SameKey(key, "id")) {
      if (msg_id.empty()) msg_id = value;
      continue;
    }
    if (!ValidHeaderName(key) || !ValidHeaderValue(value)) {
      natsMsg_Destroy(msg);
      return Status::InvalidArgument("publish metadata \"" + key + "\": cannot be sent as a NATS header");
    }
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, key.c_str(), value.c_str());
  }
  if (s == NATS_OK && !msg_id.empty()) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  if (s == NATS_OK) s = js_PublishMsg(nullptr, connection_->js(), msg, nullptr, nullptr);
  natsMsg_Destroy(msg);
  if (s == NATS_NO_RESPONDERS) {
    // JetStream answers every subject a stream captures; silence means none does.
    return Status::NotFound("publish to \"" + request.topic + "\": stream \"" + stream +
                            "\" does not capture this subject (or no longer exists)");
  }
  if (s != NATS_OK) return FromNats(s, "publish to \"" + request.topic + "\"");
  return Status::Ok();
}

Result<std::unique_ptr<Subscription>> JetStreamPubSub::Subscribe(const SubscribeRequest& request,
                                                                 MessageHandler handler) {
  if (request.topic.empty()) return Named(Status::InvalidArgument("subscribe: the topic is empty"));
  Metadata metadata = spec_.metadata;
  for (const auto& [key, value] : request.metadata) metadata.Set(key, value);
  auto consumer = ParseConsumerOptions(metadata, spec_.app_id.empty() ? spec_.name : spec_.app_id);
  if (!consumer.ok()) return Named(consumer.status());
  auto stream = streams_.Resolve(request.topic);
  if (!stream.ok()) return Named(stream.status());
  auto sub = PullSubscription::Start(connection_, *stream, request.topic, *consumer, request.max_in_flight,
                                     std::move(handler));
  if (!sub.ok()) return Named(sub.status());
  return std::unique_ptr<Subscription>(std::move(*sub));
}

}  // namespace ofn::components::nats

#include "components/redis/stream_pubsub.h"

#include <nlohmann/json.hpp>

#include "components/redis/stream_subscription.h"

namespace ofn::components::redis {

StreamPubSub::StreamPubSub(StreamSettings settings)
    : settings_(std::move(settings)),
      held_(HeldEntries::For(settings_.redis.Address() + "/" + std::to_string(settings_.redis.db) + "/" +
                             settings_.consumer)),
      publisher_(settings_.redis) {}

Status StreamPubSub::Publish(const PublishRequest& request) {
  if (request.topic.empty()) return Status::InvalidArgument(settings_.component + ": publish: topic is required");
  Args args{"XADD", request.topic};
  if (settings_.max_len_approx > 0) args.insert(args.end(), {"MAXLEN", "~", std::to_string(settings_.max_len_approx)});
  args.insert(args.end(), {"*", "data", request.data, "metadata", nlohmann::json(request.metadata).dump()});
  std::lock_guard lock(mu_);
  auto reply = publisher_.Command(args);
  if (!reply.ok()) return Status(reply.status().code(), settings_.component + ": " + reply.status().message());
  if ((*reply)->type != REDIS_REPLY_STRING) {
    return Status::Internal(settings_.component + ": " + UnexpectedReply(reply->get(), "XADD").message());
  }
  return Status::Ok();
}

Result<std::unique_ptr<Subscription>> StreamPubSub::Subscribe(const SubscribeRequest& request, MessageHandler handler) {
  if (request.topic.empty()) return Status::InvalidArgument(settings_.component + ": subscribe: topic is required");
  if (request.max_in_flight == 0) {
    return Status::InvalidArgument(settings_.component + ": subscribe: max_in_flight must be at least 1");
  }
  if (!handler) return Status::InvalidArgument(settings_.component + ": subscribe: a handler is required");
  return std::unique_ptr<Subscription>(
      std::make_unique<StreamSubscription>(settings_, request.topic, request.max_in_flight, std::move(handler), held_));
}

}  // namespace ofn::components::redis

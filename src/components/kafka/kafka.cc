#include "components/kafka/kafka.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "components/kafka/consumer.h"
#include "components/kafka/options.h"
#include "components/kafka/producer.h"

namespace ofn::components::kafka {
namespace {

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

class KafkaPubSub final : public PubSub {
 public:
  KafkaPubSub(KafkaOptions options, std::string group, std::unique_ptr<Producer> producer)
      : options_(std::move(options)), group_(std::move(group)), producer_(std::move(producer)) {}

  Status Publish(const PublishRequest& request) override {
    if (request.topic.empty()) return Status::InvalidArgument("publish: the topic is empty");
    return producer_->Send(request.topic, request.data, request.metadata);
  }

  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request, MessageHandler handler) override {
    if (group_.empty()) {
      return Status::InvalidArgument("metadata consumerGroup (or consumerID, or an app id) is required to subscribe");
    }
    auto consumer = Consumer::Start({options_, group_, {request.topic}, request.max_in_flight}, std::move(handler));
    if (!consumer.ok()) return consumer.status();
    return std::unique_ptr<Subscription>(std::move(*consumer));
  }

 private:
  const KafkaOptions options_;
  const std::string group_;
  const std::unique_ptr<Producer> producer_;
};

class KafkaInput final : public InputBinding {
 public:
  KafkaInput(KafkaOptions options, std::string group, std::vector<std::string> topics)
      : options_(std::move(options)), group_(std::move(group)), topics_(std::move(topics)) {}

  Result<std::unique_ptr<Subscription>> Read(const ReadRequest& request, MessageHandler handler) override {
    auto consumer = Consumer::Start({options_, group_, topics_, request.max_in_flight}, std::move(handler));
    if (!consumer.ok()) return consumer.status();
    return std::unique_ptr<Subscription>(std::move(*consumer));
  }

 private:
  const KafkaOptions options_;
  const std::string group_;
  const std::vector<std::string> topics_;
};

class KafkaOutput final : public OutputBinding {
 public:
  KafkaOutput(std::string topic, std::unique_ptr<Producer> producer)
      : topic_(std::move(topic)), producer_(std::move(producer)) {}

  std::vector<std::string> Operations() const override { return {"create"}; }

  Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) override {
    if (request.operation != "create") {
      return Status::InvalidArgument("operation " + request.operation + " is not supported (only create)");
    }
    if (Status s = producer_->Send(topic_, request.data, request.metadata); !s.ok()) return s;
    return std::optional<BindingResponse>();  // Dapr answers 204
  }

 private:
  const std::string topic_;
  const std::unique_ptr<Producer> producer_;
};

Result<Component> MakePubSub(const ComponentSpec& spec) {
  auto options = ParseKafkaOptions(spec.metadata);
  if (!options.ok()) return options.status();
  std::string group = spec.metadata.GetOr("consumerGroup", "");
  if (group.empty()) group = spec.metadata.GetOr("consumerID", spec.app_id);
  auto producer = Producer::Create(*options);
  if (!producer.ok()) return producer.status();
  Component c;
  c.pubsub = std::make_shared<KafkaPubSub>(std::move(*options), std::move(group), std::move(*producer));
  return c;
}

Result<Component> MakeBinding(const ComponentSpec& spec) {
  auto options = ParseKafkaOptions(spec.metadata);
  if (!options.ok()) return options.status();
  const auto& md = spec.metadata;
  std::vector<std::string> topics = SplitList(md.GetOr("topics", ""));
  std::string publish_topic = md.GetOr("publishTopic", "");
  // `direction` (optional) says which sides the app wants; each needs its key.
  bool input = !topics.empty(), output = !publish_topic.empty();
  if (auto direction = md.Get("direction")) {
    input = output = false;
    for (const auto& d : SplitList(*direction)) {
      if (d == "input")
        input = true;
      else if (d == "output")
        output = true;
      else
        return Status::InvalidArgument("metadata direction: \"" + d + "\" is not input or output");
    }
    if (input && topics.empty()) return Status::InvalidArgument("metadata topics is required for direction input");
    if (output && publish_topic.empty()) {
      return Status::InvalidArgument("metadata publishTopic is required for direction output");
    }
  }
  if (!input && !output) {
    return Status::InvalidArgument("metadata publishTopic (output) or topics (input) is required");
  }
  Component c;
  if (input) {
    std::string group = md.GetOr("consumerGroup", "");
    if (group.empty()) return Status::InvalidArgument("metadata consumerGroup is required with topics");
    c.input = std::make_shared<KafkaInput>(*options, std::move(group), std::move(topics));
  }
  if (output) {
    auto producer = Producer::Create(*options);
    if (!producer.ok()) return producer.status();
    c.output = std::make_shared<KafkaOutput>(std::move(publish_topic), std::move(*producer));
  }
  return c;
}

}  // namespace

void Register(Registry& registry) {
  registry.Add("pubsub.kafka", MakePubSub);
  registry.Add("bindings.kafka", MakeBinding);
}

}  // namespace ofn::components::kafka

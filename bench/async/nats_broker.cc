// NATS JetStream through libnats, as Dapr's pubsub.jetstream uses it: the
// event is the message; the bare subscriber is a durable pull consumer
// (explicit acks) fetching BareBatch() at a time.
#include <nats/nats.h>

#include <cstdio>

#include "broker.h"

namespace bench {
namespace {

class Nats final : public Broker {
 public:
  Nats(natsConnection* nc, jsCtx* js, std::string url) : nc_(nc), js_(js), url_(std::move(url)) {}
  ~Nats() override {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }

  std::string ComponentType() const override { return "pubsub.jetstream"; }
  std::string ComponentMetadata() const override { return "    - name: natsURL\n      value: " + url_ + "\n"; }

  // One stream per topic, named after it (topics here are [a-z0-9-]); Ofn
  // finds it by subject.
  bool Prepare(const std::string& topic) override {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, js_, topic.c_str(), nullptr, nullptr) == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return true;
    }
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = topic.c_str();
    const char* subjects[] = {topic.c_str()};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    return Ok(js_AddStream(nullptr, js_, &config, nullptr, nullptr), "add stream", topic);
  }

  bool PublishOne(const std::string& topic, const std::string& event) override {
    return Ok(js_Publish(nullptr, js_, topic.c_str(), event.data(), static_cast<int>(event.size()), nullptr, nullptr),
              "publish", topic);
  }

  bool PublishMany(const std::string& topic, int n, const std::function<std::string(int)>& make) override {
    for (int i = 0; i < n; ++i) {
      std::string event = make(i);
      natsStatus s = js_PublishAsync(js_, topic.c_str(), event.data(), static_cast<int>(event.size()), nullptr);
      if (!Ok(s, "publish", topic)) return false;
    }
    return Ok(js_PublishAsyncComplete(js_, nullptr), "publish (waiting for acks)", topic);
  }

  bool ConsumerExists(const std::string& topic, const std::string& group) override {
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, js_, topic.c_str(), group.c_str(), nullptr, nullptr) != NATS_OK) return false;
    jsConsumerInfo_Destroy(info);
    return true;
  }

  void Subscribe(const std::string& topic, const std::string& group, Recorder& recorder) override {
    if (!Prepare(topic)) return;
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = group.c_str();
    config.FilterSubject = topic.c_str();
    config.AckPolicy = js_AckExplicit;
    config.DeliverPolicy = js_DeliverAll;
    if (!Ok(js_AddConsumer(nullptr, js_, topic.c_str(), &config, nullptr, nullptr), "add consumer", topic)) return;
    jsSubOptions bind;
    jsSubOptions_Init(&bind);
    bind.Stream = topic.c_str();
    bind.Consumer = group.c_str();
    natsSubscription* sub = nullptr;
    if (!Ok(js_PullSubscribe(&sub, js_, topic.c_str(), group.c_str(), nullptr, &bind, nullptr), "subscribe", topic))
      return;
    for (;;) {
      // As Ofn's consumer fetches: what is waiting, up to BareBatch(), at once;
      // when nothing is, one message as soon as it arrives.
      natsMsgList list{};
      jsFetchRequest request;
      jsFetchRequest_Init(&request);
      request.Batch = BareBatch();
      request.NoWait = true;
      request.Expires = 1'000'000'000;
      natsStatus s = natsSubscription_FetchRequest(&list, sub, &request);
      if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) s = natsSubscription_Fetch(&list, sub, 1, 1000, nullptr);
      if (s == NATS_TIMEOUT) continue;
      if (!Ok(s, "fetch", topic)) break;
      for (int i = 0; i < list.Count; ++i) {
        recorder.Record(std::string_view(natsMsg_GetData(list.Msgs[i]), natsMsg_GetDataLength(list.Msgs[i])));
        natsMsg_Ack(list.Msgs[i], nullptr);
      }
      natsMsgList_Destroy(&list);
    }
    natsSubscription_Destroy(sub);
  }

 private:
  bool Ok(natsStatus s, const char* what, const std::string& topic) {
    if (s == NATS_OK) return true;
    std::fprintf(stderr, "eventbench: nats %s (%s at %s) failed: %s\n", what, topic.c_str(), url_.c_str(),
                 natsStatus_GetText(s));
    return false;
  }

  natsConnection* nc_;
  jsCtx* js_;
  std::string url_;
};

}  // namespace

std::unique_ptr<Broker> ConnectNats(const std::string& url) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_ConnectTo(&nc, url.c_str());
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, nullptr);
  if (s != NATS_OK) {
    std::fprintf(stderr, "eventbench: cannot connect to nats at %s: %s\n", url.c_str(), natsStatus_GetText(s));
    natsConnection_Destroy(nc);
    return nullptr;
  }
  return std::make_unique<Nats>(nc, js, url);
}

}  // namespace bench

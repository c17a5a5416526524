// MQTT through libmosquitto, as Dapr's pubsub.mqtt3 uses it: the event is
// the payload, QoS 1; the bare subscriber is a persistent session (clean
// session off) whose client id is the group, acknowledging (PUBACK) each
// message once its callback has recorded it.
#include <mosquitto.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "broker.h"

namespace bench {
namespace {

class Mqtt final : public Broker {
 public:
  explicit Mqtt(std::string address) : address_(std::move(address)) {
    size_t colon = address_.rfind(':');
    host_ = address_.substr(0, colon);
    port_ = std::atoi(address_.c_str() + colon + 1);
  }
  ~Mqtt() override {
    if (pub_) {
      mosquitto_disconnect(pub_);
      mosquitto_loop_stop(pub_, false);
      mosquitto_destroy(pub_);
    }
  }

  std::string ComponentType() const override { return "pubsub.mqtt3"; }
  std::string ComponentMetadata() const override {
    return "    - name: url\n      value: tcp://" + address_ + "\n    - name: qos\n      value: \"1\"\n";
  }

  bool PublishOne(const std::string& topic, const std::string& event) override {
    return PublishMany(topic, 1, [&](int) { return event; });
  }

  bool PublishMany(const std::string& topic, int n, const std::function<std::string(int)>& make) override {
    if (!pub_ && !StartPublisher()) return false;
    int target;
    {
      std::lock_guard lock(mu_);
      target = acked_ + n;  // every earlier publish was acknowledged
    }
    for (int i = 0; i < n; ++i) {
      std::string event = make(i);
      int rc = mosquitto_publish(pub_, nullptr, topic.c_str(), static_cast<int>(event.size()), event.data(), 1, false);
      if (rc != MOSQ_ERR_SUCCESS) return Failed("publish", rc);
    }
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return acked_ >= target; }) ||
           Failed("publish (no PUBACK within 60 s)", MOSQ_ERR_SUCCESS);
  }

  bool ParksWhileAway() const override { return false; }
  bool ConsumerExists(const std::string&, const std::string&) override { return true; }

  void Subscribe(const std::string& topic, const std::string& group, Recorder& recorder) override {
    struct Ctx {
      std::string topic;
      Recorder* recorder;
    } ctx{topic, &recorder};
    mosquitto* m = mosquitto_new(group.c_str(), false, &ctx);
    mosquitto_connect_callback_set(m, [](mosquitto* m, void* u, int rc) {
      if (rc == 0) mosquitto_subscribe(m, nullptr, static_cast<Ctx*>(u)->topic.c_str(), 1);
    });
    mosquitto_message_callback_set(m, [](mosquitto*, void* u, const mosquitto_message* msg) {
      static_cast<Ctx*>(u)->recorder->Record(std::string_view(static_cast<const char*>(msg->payload), msg->payloadlen));
    });
    int rc = mosquitto_connect(m, host_.c_str(), port_, 30);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_forever(m, -1, 1);
    Failed("subscriber", rc);
    mosquitto_destroy(m);
  }

 private:
  bool StartPublisher() {
    pub_ = mosquitto_new(("eventbench-pub-" + std::to_string(getpid())).c_str(), true, this);
    mosquitto_max_inflight_messages_set(pub_, 0);  // no limit: pipelined like the other brokers
    mosquitto_publish_callback_set(pub_, [](mosquitto*, void* u, int) {
      auto* self = static_cast<Mqtt*>(u);
      std::lock_guard lock(self->mu_);
      ++self->acked_;
      self->cv_.notify_all();
    });
    int rc = mosquitto_connect(pub_, host_.c_str(), port_, 30);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_start(pub_);
    return rc == MOSQ_ERR_SUCCESS || Failed("connect", rc);
  }

  bool Failed(const char* what, int rc) {
    std::fprintf(stderr, "eventbench: mqtt %s at %s failed: %s\n", what, address_.c_str(), mosquitto_strerror(rc));
    return false;
  }

  std::string address_, host_;
  int port_ = 0;
  mosquitto* pub_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  int acked_ = 0;
};

}  // namespace

std::unique_ptr<Broker> ConnectMqtt(const std::string& address) {
  mosquitto_lib_init();
  return std::make_unique<Mqtt>(address);
}

std::unique_ptr<Broker> Connect(const std::string& kind, const std::string& address) {
  if (kind == "redis") return ConnectRedis(address);
  if (kind == "nats") return ConnectNats(address);
  if (kind == "mqtt") return ConnectMqtt(address);
  std::fprintf(stderr, "eventbench: unknown broker kind \"%s\" (redis, nats, mqtt)\n", kind.c_str());
  return nullptr;
}

}  // namespace bench

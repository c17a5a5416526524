#include "components/kafka/producer.h"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace ofn::components::kafka {
namespace {

// One Send() waiting for its delivery report; lives on the sender's stack.
struct Delivery {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* d = static_cast<Delivery*>(m->_private);
  std::lock_guard lock(d->mu);
  d->err = m->err;
  d->done = true;
  d->cv.notify_one();
}

Status SendError(const std::string& topic, rd_kafka_resp_err_t err) {
  std::string m = "publish to topic " + topic + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return Status::ResourceExhausted(m);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return Status::InvalidArgument(m);
    default:
      return Status::Unavailable(m);
  }
}

}  // namespace

Result<std::unique_ptr<Producer>> Producer::Create(const KafkaOptions& options) {
  auto conf = ProducerConf(options);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), OnDelivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
  if (!rk) return Status::InvalidArgument(std::string("kafka producer: ") + err);
  conf->release();  // rd_kafka_new owns it now
  return std::unique_ptr<Producer>(new Producer(rk));
}

Producer::Producer(rd_kafka_t* rk) : rk_(rk), reports_(rd_kafka_queue_get_main(rk)) {
  thread_ = std::thread([this] { ServeReports(); });
}

Producer::~Producer() {
  // Senders have returned by now, each told whether its record was
  // delivered: what is still queued belongs to callers that already got an
  // error, so a broker that is gone must not hold up shutdown for long.
  rd_kafka_flush(rk_, 2000);
  stop_ = true;
  rd_kafka_queue_yield(reports_);
  thread_.join();
  rd_kafka_queue_destroy(reports_);
  rd_kafka_destroy(rk_);
}

void Producer::ServeReports() {
  while (!stop_) rd_kafka_poll(rk_, 1000);
}

Status Producer::Send(const std::string& topic, const std::string& value,
                      const std::map<std::string, std::string>& metadata) {
  std::optional<std::string> key;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  rd_kafka_headers_t* headers = rd_kafka_headers_new(metadata.size());
  for (const auto& [name, v] : metadata) {
    if (name == "partitionKey" || name == "__key") {
      key = v;
    } else if (name == "partitionNumber") {
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), partition);
      if (ec != std::errc() || end != v.data() + v.size() || partition < 0) {
        rd_kafka_headers_destroy(headers);
        return Status::InvalidArgument("metadata partitionNumber: \"" + v + "\" is not a partition number");
      }
    } else {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
  }
  Delivery delivery;
  const char* key_data = key ? key->data() : nullptr;
  const size_t key_size = key ? key->size() : 0;
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_KEY(key_data, key_size),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
  if (err) {
    rd_kafka_headers_destroy(headers);  // only taken over on success
    return SendError(topic, err);
  }
  // librdkafka reports every record within message.timeout.ms.
  std::unique_lock lock(delivery.mu);
  delivery.cv.wait(lock, [&] { return delivery.done; });
  return delivery.err ? SendError(topic, delivery.err) : Status::Ok();
}

}  // namespace ofn::components::kafka

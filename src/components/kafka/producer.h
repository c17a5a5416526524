// Producer: one librdkafka producer shared by a component's publishes.
//
// Send() maps Dapr's request metadata onto the record the way Dapr's Kafka
// components do: `partitionKey` or `__key` becomes the record key,
// `partitionNumber` picks the partition, every other entry becomes a record
// header. It returns once the delivery report came back (acks=all: every
// in-sync replica has the record), or with the broker's error.
//
// Thread-safe: any number of Send() calls may run at once. A background
// thread serves delivery reports; the destructor waits (bounded) for records
// still in flight, then joins it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "components/kafka/options.h"
#include "ofn/status.h"

namespace ofn::components::kafka {

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> Create(const KafkaOptions& options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  Status Send(const std::string& topic, const std::string& value, const std::map<std::string, std::string>& metadata);

 private:
  explicit Producer(rd_kafka_t* rk);
  void ServeReports();

  rd_kafka_t* rk_;
  rd_kafka_queue_t* reports_;  // the main queue, to wake the report thread
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ofn::components::kafka

// Consumer: a member of a Kafka consumer group reading some topics, handing
// each record to a MessageHandler with the Ack contract of pubsub.h.
//
// Message: topic, data = the record value, metadata = the record headers
// plus __key (when the record has one), __topic, __partition, __offset and
// __timestamp (ms since the epoch).
//
// At-least-once: Kafka keeps one committed offset per partition, so an
// offset is committed only once that record and every earlier one of its
// partition were acked kSuccess or kDrop (partition_tracker.h). Commits are
// asynchronous while running and awaited (bounded) when partitions are
// revoked or the consumer closes. kRetry hands the record out again from the local
// copy, before any later record of its partition. At most `max_in_flight`
// records are handed out un-acked; reading pauses while enough are buffered.
// A partition the group never committed on starts at initialOffset, and that
// start is committed at once, so a restart resumes there.
//
// Threads: one thread owns the librdkafka consumer (polls, rebalances,
// commits) and calls the handler. Acks may come from any thread, also after
// the Consumer is gone (then they do nothing: uncommitted records are read
// again by the group). Backlog() may be called from any thread. The
// destructor joins, then leaves the group (committing what is complete),
// giving up after a few seconds when the broker is unreachable.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "components/kafka/options.h"
#include "components/pubsub.h"

namespace ofn::components::kafka {

struct ConsumerSpec {
  KafkaOptions options;
  std::string group;
  std::vector<std::string> topics;
  size_t max_in_flight = 1;
};

class Consumer final : public Subscription {
 public:
  static Result<std::unique_ptr<Consumer>> Start(ConsumerSpec spec, MessageHandler handler);
  ~Consumer() override;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // The group's lag over every partition of the topics (KEDA's Kafka lag):
  // high watermark minus committed offset, so records read but not acked
  // count too. A partition without a committed offset counts as empty for
  // initialOffset newest and as whole for oldest.
  Result<int64_t> Backlog() override;

  struct State;  // shared with the Acks handed out

 private:
  Consumer(ConsumerSpec spec, MessageHandler handler);
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  static void OnCommitted(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                          void* opaque);
  void Run();
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void ResolveStarts(rd_kafka_topic_partition_list_t* partitions);
  void Revoke(rd_kafka_topic_partition_list_t* partitions);
  void Store(const rd_kafka_message_t* m);
  void HandOut();
  // Sends the offsets that advanced; `wait` waits (bounded) for the answer.
  void Commit(bool wait);
  // Leaves the group; false if that did not finish in time.
  bool Close();
  void UpdatePause();

  const ConsumerSpec spec_;
  const MessageHandler handler_;
  std::shared_ptr<State> state_;
  rd_kafka_t* rk_ = nullptr;
  bool paused_ = false;  // consumer thread only
  std::thread thread_;
};

}  // namespace ofn::components::kafka

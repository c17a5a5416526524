#include "components/kafka/consumer.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "common/log.h"
#include "components/kafka/partition_tracker.h"

namespace ofn::components::kafka {
namespace {

constexpr int kBrokerTimeoutMs = 5000;  // one metadata/offset query to the cluster
constexpr int kPollMs = 500;            // Acks and shutdown wake the poll earlier
// Bounds on leaving the group, so a destructor returns during a broker
// outage: what is not committed by then is read again by the group.
constexpr int kRevokeCommitMs = 1500;
constexpr auto kCloseTimeout = std::chrono::seconds(2);
constexpr size_t kMinBuffered = 64;  // records read ahead before reading pauses

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct Slot {
  uint64_t generation;  // tells an Ack from before a re-assignment
  PartitionTracker tracker;
  std::optional<int64_t> committed;  // last offset sent to the broker
};

using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t*)>;

PartitionList NewList(int size) {
  return PartitionList(rd_kafka_topic_partition_list_new(size), rd_kafka_topic_partition_list_destroy);
}

std::string Describe(const ConsumerSpec& spec) {
  std::string topics;
  for (const auto& t : spec.topics) topics += (topics.empty() ? "" : ",") + t;
  return "kafka group " + spec.group + " on " + topics;
}

}  // namespace

struct Consumer::State {
  std::mutex mu;
  std::map<TopicPartition, Slot> slots;       // the current assignment
  std::optional<TopicPartition> last_served;  // round-robin cursor over partitions
  size_t in_flight = 0;
  uint64_t generations = 0;
  bool stopping = false;
  bool closed = false;  // the librdkafka handle is gone
  rd_kafka_queue_t* wake = nullptr;

  // With mu held. Makes the consumer thread's poll return.
  void Wake() {
    if (!closed) rd_kafka_queue_yield(wake);
  }
};

namespace {

Ack MakeAck(std::shared_ptr<Consumer::State> state, TopicPartition tp, uint64_t generation, int64_t offset) {
  return [state = std::move(state), tp = std::move(tp), generation, offset](Outcome outcome) {
    std::lock_guard lock(state->mu);
    --state->in_flight;
    auto it = state->slots.find(tp);
    if (it != state->slots.end() && it->second.generation == generation) it->second.tracker.Acked(offset, outcome);
    state->Wake();
  };
}

Message ToMessage(const rd_kafka_message_t* m) {
  Message msg;
  msg.topic = rd_kafka_topic_name(m->rkt);
  if (m->payload) msg.data.assign(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      msg.metadata[name] = value ? std::string(static_cast<const char*>(value), size) : "";
    }
  }
  // After the headers, so a header cannot pose as one of these.
  if (m->key) msg.metadata["__key"].assign(static_cast<const char*>(m->key), m->key_len);
  msg.metadata["__topic"] = msg.topic;
  msg.metadata["__partition"] = std::to_string(m->partition);
  msg.metadata["__offset"] = std::to_string(m->offset);
  rd_kafka_timestamp_type_t type;
  if (int64_t ts = rd_kafka_message_timestamp(m, &type); ts >= 0) msg.metadata["__timestamp"] = std::to_string(ts);
  return msg;
}

}  // namespace

Consumer::Consumer(ConsumerSpec spec, MessageHandler handler)
    : spec_(std::move(spec)), handler_(std::move(handler)), state_(std::make_shared<State>()) {}

Result<std::unique_ptr<Consumer>> Consumer::Start(ConsumerSpec spec, MessageHandler handler) {
  if (spec.topics.empty()) return Status::InvalidArgument("kafka consumer: no topic to read");
  if (spec.max_in_flight == 0) spec.max_in_flight = 1;
  auto conf = ConsumerConf(spec.options, spec.group);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<Consumer> c(new Consumer(std::move(spec), std::move(handler)));
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), OnRebalance);
  rd_kafka_conf_set_offset_commit_cb(conf->get(), OnCommitted);
  char err[512];
  c->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
  if (!c->rk_) return Status::InvalidArgument(std::string("kafka consumer: ") + err);
  conf->release();                     // rd_kafka_new owns it now
  rd_kafka_poll_set_consumer(c->rk_);  // one queue: records, rebalances, commit results
  c->state_->wake = rd_kafka_queue_get_consumer(c->rk_);
  auto topics = NewList(static_cast<int>(c->spec_.topics.size()));
  for (const auto& t : c->spec_.topics)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk_, topics.get())) {
    return Status::InvalidArgument(Describe(c->spec_) + ": subscribe: " + rd_kafka_err2str(e));
  }
  c->thread_ = std::thread([c = c.get()] { c->Run(); });
  return c;
}

Consumer::~Consumer() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(state_->mu);
      state_->stopping = true;
      state_->Wake();
    }
    thread_.join();
  }
  if (!rk_) return;
  const bool closed = Close();
  {
    std::lock_guard lock(state_->mu);
    state_->closed = true;
  }
  rd_kafka_queue_destroy(state_->wake);
  rd_kafka_destroy_flags(rk_, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

bool Consumer::Close() {
  // Leaving the group revokes the assignment, which commits what is complete.
  rd_kafka_queue_t* events = rd_kafka_queue_new(rk_);
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk_, events)) {
    log::Warn("kafka consumer close failed", {{"group", spec_.group}, {"error", rd_kafka_error_string(e)}});
    rd_kafka_error_destroy(e);
  }
  const auto deadline = std::chrono::steady_clock::now() + kCloseTimeout;
  while (!rd_kafka_consumer_closed(rk_) && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(events, 100);
    if (!ev) continue;
    // The revocation comes as an event here, not through the callback.
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
      OnRebalance(rk_, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), this);
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(events);
  const bool closed = rd_kafka_consumer_closed(rk_);
  if (!closed) log::Warn("kafka consumer left without a clean close (broker unreachable)", {{"group", spec_.group}});
  return closed;
}

void Consumer::Run() {
  while (true) {
    {
      std::lock_guard lock(state_->mu);
      if (state_->stopping) return;
    }
    HandOut();
    Commit(/*wait=*/false);
    UpdatePause();
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, kPollMs)) {
      Store(m);
      rd_kafka_message_destroy(m);
    }
  }
}

void Consumer::Store(const rd_kafka_message_t* m) {
  if (m->err) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      log::Warn("kafka consumer error", {{"group", spec_.group}, {"error", rd_kafka_message_errstr(m)}});
    }
    return;
  }
  Message msg = ToMessage(m);
  std::lock_guard lock(state_->mu);
  auto it = state_->slots.find(TopicPartition{msg.topic, m->partition});
  if (it != state_->slots.end()) it->second.tracker.Add(m->offset, std::move(msg));
}

void Consumer::HandOut() {
  std::vector<std::pair<Message, Ack>> batch;
  {
    std::lock_guard lock(state_->mu);
    auto& slots = state_->slots;
    while (state_->in_flight < spec_.max_in_flight) {
      // Next partition with something pending after the last one served, so
      // one busy partition does not starve the others.
      auto start = state_->last_served ? slots.upper_bound(*state_->last_served) : slots.begin();
      auto it = std::find_if(start, slots.end(), [](const auto& s) { return s.second.tracker.HasPending(); });
      if (it == slots.end()) {
        it = std::find_if(slots.begin(), start, [](const auto& s) { return s.second.tracker.HasPending(); });
        if (it == start) break;
      }
      state_->last_served = it->first;
      auto [offset, msg] = it->second.tracker.TakeNext();
      ++state_->in_flight;
      batch.emplace_back(std::move(msg), MakeAck(state_, it->first, it->second.generation, offset));
    }
  }
  // Outside the lock: a handler may Ack at once.
  for (auto& [msg, ack] : batch) handler_(std::move(msg), std::move(ack));
}

void Consumer::Commit(bool wait) {
  auto offsets = NewList(0);
  {
    std::lock_guard lock(state_->mu);
    for (auto& [tp, slot] : state_->slots) {
      auto point = slot.tracker.CommitPoint();
      if (!point || (slot.committed && *slot.committed >= *point)) continue;
      rd_kafka_topic_partition_list_add(offsets.get(), tp.topic.c_str(), tp.partition)->offset = *point;
      slot.committed = point;
    }
  }
  if (offsets->cnt == 0) return;
  if (!wait) {
    if (rd_kafka_resp_err_t e = rd_kafka_commit(rk_, offsets.get(), 1)) {
      log::Warn("kafka offset commit failed", {{"group", spec_.group}, {"error", rd_kafka_err2str(e)}});
    }
    return;
  }
  // A synchronous commit would wait as long as the coordinator is away.
  rd_kafka_queue_t* reply = rd_kafka_queue_new(rk_);
  rd_kafka_commit_queue(rk_, offsets.get(), reply, nullptr, nullptr);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(reply, kRevokeCommitMs);
  if (!ev || rd_kafka_event_error(ev)) {
    log::Warn("kafka offset commit failed",
              {{"group", spec_.group}, {"error", ev ? rd_kafka_event_error_string(ev) : "timed out"}});
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(reply);
}

void Consumer::OnCommitted(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                           void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  std::lock_guard lock(self->state_->mu);
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    auto it = self->state_->slots.find(TopicPartition{p.topic, p.partition});
    if (it == self->state_->slots.end()) continue;
    // A failed commit, or an older one that completed after a newer one was
    // sent (librdkafka retries commits across a coordinator outage, so they
    // can land out of order): the next Commit() sends the current point again.
    if (err || p.err || it->second.committed != p.offset) it->second.committed.reset();
  }
  if (err) log::Warn("kafka offset commit failed", {{"group", self->spec_.group}, {"error", rd_kafka_err2str(err)}});
}

void Consumer::UpdatePause() {
  const size_t high = std::max(2 * spec_.max_in_flight, kMinBuffered);
  size_t buffered = 0;
  {
    std::lock_guard lock(state_->mu);
    for (const auto& [tp, slot] : state_->slots) buffered += slot.tracker.pending();
  }
  const bool pause = paused_ ? buffered > high / 2 : buffered >= high;
  if (pause == paused_) return;
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(rk_, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  PartitionList owned(assignment, rd_kafka_topic_partition_list_destroy);
  // A paused partition drops what it prefetched and resumes after the last
  // record read, so nothing is skipped.
  paused_ = pause;
  if (pause)
    rd_kafka_pause_partitions(rk_, assignment);
  else
    rd_kafka_resume_partitions(rk_, assignment);
}

void Consumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->Assign(partitions);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->Revoke(partitions);
  } else {
    log::Warn("kafka rebalance failed", {{"group", self->spec_.group}, {"error", rd_kafka_err2str(err)}});
  }
  rd_kafka_assign(rk, nullptr);
}

void Consumer::ResolveStarts(rd_kafka_topic_partition_list_t* partitions) {
  if (rd_kafka_committed(rk_, partitions, kBrokerTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& p = partitions->elems[i];
    // Only where the group has no offset; an error leaves it to librdkafka.
    if (p.offset >= 0 || p.err) continue;
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk_, p.topic, p.partition, &low, &high, kBrokerTimeoutMs) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      p.offset = spec_.options.oldest ? low : high;
    }
  }
}

void Consumer::Assign(rd_kafka_topic_partition_list_t* partitions) {
  // Where each partition starts: its committed offset, or initialOffset
  // resolved now. Unresolved ones (broker slow) are left to librdkafka's
  // auto.offset.reset and learnt from the first record read.
  ResolveStarts(partitions);
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk_, partitions)) {
    log::Warn("kafka assign failed", {{"group", spec_.group}, {"error", rd_kafka_err2str(e)}});
    return;
  }
  {
    std::lock_guard lock(state_->mu);
    for (int i = 0; i < partitions->cnt; ++i) {
      const auto& p = partitions->elems[i];
      std::optional<int64_t> start;
      if (p.offset >= 0) start = p.offset;
      // committed stays unset so the start is committed on the next round:
      // a restart then resumes here rather than at a later "newest".
      state_->slots.insert_or_assign(TopicPartition{p.topic, p.partition},
                                     Slot{++state_->generations, PartitionTracker(start), std::nullopt});
    }
  }
  // A partition paused before a rebalance would otherwise stay paused.
  rd_kafka_resume_partitions(rk_, partitions);
  paused_ = false;
}

void Consumer::Revoke(rd_kafka_topic_partition_list_t* partitions) {
  Commit(/*wait=*/true);
  std::lock_guard lock(state_->mu);
  // Records of these partitions still out are read again by the next owner.
  for (int i = 0; i < partitions->cnt; ++i) {
    state_->slots.erase(TopicPartition{partitions->elems[i].topic, partitions->elems[i].partition});
  }
}

Result<int64_t> Consumer::Backlog() {
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics 0: only the topics this client knows, i.e. the subscribed ones.
  if (rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 0, nullptr, &md, kBrokerTimeoutMs)) {
    return Status::Unavailable(Describe(spec_) + ": backlog: metadata: " + rd_kafka_err2str(e));
  }
  auto partitions = NewList(0);
  const std::set<std::string> topics(spec_.topics.begin(), spec_.topics.end());
  for (int t = 0; t < md->topic_cnt; ++t) {
    if (!topics.count(md->topics[t].topic)) continue;
    for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(partitions.get(), md->topics[t].topic, md->topics[t].partitions[p].id);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (rd_kafka_resp_err_t e = rd_kafka_committed(rk_, partitions.get(), kBrokerTimeoutMs)) {
    return Status::Unavailable(Describe(spec_) + ": backlog: committed offsets: " + rd_kafka_err2str(e));
  }
  int64_t total = 0;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& p = partitions->elems[i];
    if (p.err) {
      return Status::Unavailable(Describe(spec_) + ": backlog: committed offset of " + p.topic + ": " +
                                 rd_kafka_err2str(p.err));
    }
    // The watermarks this client last saw in fetch answers, not a query:
    // librdkafka before 2.3 can wait forever in
    // rd_kafka_query_watermark_offsets when the broker goes away mid-query
    // (librdkafka #2588), which stalled every backlog and shutdown. The
    // consumer fetches even at zero instances, so the high mark is fresh.
    int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_resp_err_t e = rd_kafka_get_watermark_offsets(rk_, p.topic, p.partition, &low, &high);
    if (e || high < 0) {
      return Status::Unavailable(Describe(spec_) + ": backlog: no fetch answer yet from " + p.topic + "/" +
                                 std::to_string(p.partition));
    }
    if (p.offset >= 0)
      total += std::max<int64_t>(0, high - p.offset);
    else if (spec_.options.oldest)
      total += high - std::max<int64_t>(0, low);  // the low mark is only known with statistics on: 0 then
  }
  return total;
}

}  // namespace ofn::components::kafka

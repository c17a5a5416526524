#include "components/nats/pull_subscription.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "common/log.h"

namespace ofn::components::nats {

namespace {

// How long one pull request waits for a message. The destructor interrupts
// it; after a server restart a new request goes out at the latest this late.
constexpr int64_t kPollMs = 2000;
// Most messages one request asks for: bounds how many libnats collects
// before the first of them reaches the handler.
constexpr size_t kMaxBatch = 256;
// Pause after a failed fetch (server restarting, consumer gone, ...).
constexpr std::chrono::milliseconds kErrorPause(250);

jsDeliverPolicy ToNats(DeliverPolicy policy) {
  switch (policy) {
    case DeliverPolicy::kLast: return js_DeliverLast;
    case DeliverPolicy::kNew: return js_DeliverNew;
    case DeliverPolicy::kSequence: return js_DeliverByStartSequence;
    case DeliverPolicy::kTime: return js_DeliverByStartTime;
    case DeliverPolicy::kAll: break;
  }
  return js_DeliverAll;
}

// The durable may already exist for another subject of the same stream (one
// durable name for two topics): updating it would silently move it away from
// the other subscription, so that is refused.
Status CheckNotTakenByOtherSubject(jsCtx* js, const std::string& stream, const std::string& durable,
                                   const std::string& topic) {
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_GetConsumerInfo(&info, js, stream.c_str(), durable.c_str(), nullptr, nullptr);
  if (s == NATS_NOT_FOUND) return Status::Ok();
  if (s != NATS_OK) return FromNats(s, "cannot look up durable consumer \"" + durable + "\"");
  std::string filter = info->Config != nullptr && info->Config->FilterSubject != nullptr
                           ? info->Config->FilterSubject
                           : "";
  jsConsumerInfo_Destroy(info);
  if (filter == topic) return Status::Ok();
  return Status::FailedPrecondition("durable consumer \"" + durable + "\" of stream \"" + stream +
                                    "\" already reads subject \"" + filter + "\"; set another durableName for \"" +
                                    topic + "\"");
}

}  // namespace

Result<std::unique_ptr<PullSubscription>> PullSubscription::Start(std::shared_ptr<Connection> connection,
                                                                  std::string stream, std::string topic,
                                                                  const ConsumerOptions& consumer,
                                                                  size_t max_in_flight, MessageHandler handler) {
  if (max_in_flight == 0) max_in_flight = 1;
  jsCtx* js = connection->js();
  Status free_durable = CheckNotTakenByOtherSubject(js, stream, consumer.durable, topic);
  if (!free_durable.ok()) return free_durable;

  std::vector<int64_t> back_off;
  for (auto d : consumer.back_off) back_off.push_back(d.count());
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = consumer.durable.c_str();
  config.FilterSubject = topic.c_str();
  config.AckPolicy = js_AckExplicit;
  config.DeliverPolicy = ToNats(consumer.deliver_policy);
  config.OptStartSeq = consumer.deliver_policy == DeliverPolicy::kSequence ? consumer.start_sequence : 0;
  config.OptStartTime =
      consumer.deliver_policy == DeliverPolicy::kTime ? consumer.start_time_unix_seconds * 1'000'000'000 : 0;
  config.AckWait = consumer.ack_wait.count();
  config.MaxDeliver = consumer.max_deliver;
  config.BackOff = back_off.empty() ? nullptr : back_off.data();
  config.BackOffLen = static_cast<int>(back_off.size());
  // The server's own limit (1000 by default) must not be below ours.
  config.MaxAckPending = consumer.max_ack_pending > 0
                             ? consumer.max_ack_pending
                             : std::max<int64_t>(1000, static_cast<int64_t>(max_in_flight));
  config.Replicas = consumer.replicas;
  config.MemoryStorage = consumer.memory_storage;
  std::string what = "durable consumer \"" + consumer.durable + "\" of stream \"" + stream + "\" for subject \"" +
                     topic + "\"";
  natsStatus s = js_AddConsumer(nullptr, js, stream.c_str(), &config, nullptr, nullptr);
  if (s != NATS_OK) return FromNats(s, "cannot create " + what);

  std::unique_ptr<PullSubscription> sub(new PullSubscription(std::move(connection), std::move(stream),
                                                             std::move(topic), consumer.durable, max_in_flight,
                                                             consumer.ack_wait, std::move(handler)));
  jsSubOptions bind;
  jsSubOptions_Init(&bind);
  bind.Stream = sub->stream_.c_str();
  bind.Consumer = sub->durable_.c_str();
  s = js_PullSubscribe(&sub->sub_, js, sub->topic_.c_str(), sub->durable_.c_str(), nullptr, &bind, nullptr);
  if (s != NATS_OK) return FromNats(s, "cannot subscribe to " + what);
  sub->reader_ = std::thread([raw = sub.get()] { raw->Run(); });
  return sub;
}

PullSubscription::PullSubscription(std::shared_ptr<Connection> connection, std::string stream, std::string topic,
                                   std::string durable, size_t max_in_flight, std::chrono::nanoseconds nak_delay,
                                   MessageHandler handler)
    : connection_(std::move(connection)),
      stream_(std::move(stream)),
      topic_(std::move(topic)),
      durable_(std::move(durable)),
      max_in_flight_(max_in_flight),
      nak_delay_(nak_delay),
      handler_(std::move(handler)) {}

PullSubscription::~PullSubscription() {
  {
    std::lock_guard<std::mutex> lock(in_flight_->mu);
    in_flight_->stopping = true;
  }
  in_flight_->cv.notify_all();
  // Wakes a fetch that is waiting. The consumer stays: libnats deletes only
  // consumers its own subscribe call created, and this one was bound.
  if (sub_ != nullptr) (void)natsSubscription_Unsubscribe(sub_);
  if (reader_.joinable()) reader_.join();
  natsSubscription_Destroy(sub_);
}

Result<int64_t> PullSubscription::Backlog() {
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_GetConsumerInfo(&info, connection_->js(), stream_.c_str(), durable_.c_str(), nullptr, nullptr);
  if (s != NATS_OK) return FromNats(s, "cannot read the backlog of durable consumer \"" + durable_ + "\"");
  int64_t backlog = static_cast<int64_t>(info->NumPending) + info->NumAckPending;
  jsConsumerInfo_Destroy(info);
  return backlog;
}

bool PullSubscription::Stopping() {
  std::lock_guard<std::mutex> lock(in_flight_->mu);
  return in_flight_->stopping;
}

bool PullSubscription::PauseUnlessStopping(std::chrono::milliseconds pause) {
  std::unique_lock<std::mutex> lock(in_flight_->mu);
  return !in_flight_->cv.wait_for(lock, pause, [&] { return in_flight_->stopping; });
}

natsStatus PullSubscription::Fetch(natsMsgList* list, size_t free_slots) {
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = static_cast<int>(std::min(free_slots, kMaxBatch));
  request.NoWait = true;
  request.Expires = kPollMs * 1'000'000;
  // Answered at once with what is waiting. When nothing is, a 2.9+ server
  // holds a no-wait request that has an expiry until the first message
  // arrives; older ones answer "no messages" at once.
  natsStatus s = natsSubscription_FetchRequest(list, sub_, &request);
  if (s != NATS_NOT_FOUND && s != NATS_TIMEOUT) return s;
  // Nothing came, or the server refused to queue the request behind others
  // (a fast timeout): a request for one message is queued and answered as
  // soon as one arrives.
  if (Stopping() || natsConnection_Status(connection_->nc()) != NATS_CONN_STATUS_CONNECTED) return s;
  return natsSubscription_Fetch(list, sub_, 1, kPollMs, nullptr);
}

void PullSubscription::Run() {
  std::string last_error;  // logged once until it changes or reading works again
  while (true) {
    size_t free_slots = 0;
    {
      std::unique_lock<std::mutex> lock(in_flight_->mu);
      in_flight_->cv.wait(lock, [&] { return in_flight_->stopping || in_flight_->count < max_in_flight_; });
      if (in_flight_->stopping) return;
      // Only this thread hands messages out, so at least this many slots
      // are still free when the fetched messages are delivered.
      free_slots = max_in_flight_ - in_flight_->count;
    }
    // While libnats reconnects, a pull request would only wait in its
    // buffer and reach the server late, pulling messages nobody waits for.
    if (natsConnection_Status(connection_->nc()) != NATS_CONN_STATUS_CONNECTED) {
      if (!PauseUnlessStopping(kErrorPause)) return;
      continue;
    }
    natsMsgList list{};
    natsStatus s = Fetch(&list, free_slots);
    if (s == NATS_OK) {
      last_error.clear();
      for (int i = 0; i < list.Count; ++i) Deliver(list.Msgs[i]);
      natsMsgList_Destroy(&list);
      continue;
    }
    if (s == NATS_TIMEOUT) continue;  // nothing to read
    Status error = FromNats(s, "fetch failed");
    if (Stopping()) return;  // the destructor closed the subscription
    if (error.message() != last_error) {
      log::Warn("pubsub.jetstream: cannot read, retrying",
                {{"consumer", durable_}, {"stream", stream_}, {"error", error.message()}});
      last_error = error.message();
    }
    if (!PauseUnlessStopping(kErrorPause)) return;
  }
}

void PullSubscription::Deliver(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr) return;  // not a JetStream message: nothing to ack
  Message message;
  message.topic = topic_;
  if (int length = natsMsg_GetDataLength(msg); length > 0) message.data.assign(natsMsg_GetData(msg), length);
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value != nullptr) message.metadata[keys[i]] = value;
    }
    std::free(static_cast<void*>(keys));
  }
  message.metadata["Topic"] = natsMsg_GetSubject(msg);

  std::string reply_subject = reply;
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(in_flight_->mu);
    stopping = in_flight_->stopping;
    if (!stopping) ++in_flight_->count;
  }
  if (stopping) {
    // Not handed out: give it back at once rather than after ackWait.
    connection_->Acknowledge(reply_subject, "-NAK");
    return;
  }
  std::string nak = nak_delay_.count() > 0 ? "-NAK {\"delay\":" + std::to_string(nak_delay_.count()) + "}" : "-NAK";
  Ack ack = [connection = connection_, in_flight = in_flight_, reply_subject = std::move(reply_subject),
             nak = std::move(nak)](Outcome outcome) {
    // kDrop acks too: the host has dealt with the message (dead letter, count).
    connection->Acknowledge(reply_subject, outcome == Outcome::kRetry ? std::string_view(nak) : "+ACK");
    {
      std::lock_guard<std::mutex> lock(in_flight->mu);
      --in_flight->count;
    }
    in_flight->cv.notify_all();
  };
  handler_(std::move(message), std::move(ack));
}

}  // namespace ofn::components::nats

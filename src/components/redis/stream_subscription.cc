#include "components/redis/stream_subscription.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "common/log.h"
#include "components/redis/backlog.h"
#include "components/redis/connection.h"
#include "components/redis/stream_entries.h"

namespace ofn::components::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Short enough that the destructor never waits long on a blocked read.
constexpr milliseconds kBlock{150};
// How long a refill or an XACK waits to gather a batch (see WaitForSlots);
// short against a handler's work, long against a Redis round trip.
constexpr milliseconds kRefillWait{1};
constexpr milliseconds kAckWait{1};
constexpr milliseconds kMinBackoff{50};
constexpr milliseconds kMaxBackoff{1000};
constexpr size_t kPendingPage = 100;
constexpr int kMaxPendingPages = 10;  // per redelivery round

}  // namespace

struct StreamSubscription::State {
  State(StreamSettings s, std::string t, size_t max, std::shared_ptr<HeldEntries> h)
      : settings(std::move(s)), topic(std::move(t)), max_in_flight(max), held(std::move(h)), command(settings.redis) {}

  // Called through an Ack, from any thread.
  void Ack(StreamId id, Outcome outcome) {
    std::unique_lock lock(mu);
    if (closed) {
      lock.unlock();
      if (outcome != Outcome::kRetry) (void)Xack({id});  // best effort: nobody would retry it
      return;
    }
    --in_flight;
    if (outcome == Outcome::kRetry) {
      Forget({id});  // pending at the server; redelivery may hand it out again
    } else {
      to_ack.push_back(id);
      if (to_ack.size() == 1 || BatchOf(to_ack.size())) ack_cv.notify_one();
    }
    // Wake the reader only where its wait conditions (WaitForSlots) can turn.
    const size_t free = max_in_flight - in_flight;
    if (free == 1 || BatchOf(free)) slot_cv.notify_one();
  }

  // Half the window or more: worth a round trip of its own.
  bool BatchOf(size_t n) const { return 2 * n >= max_in_flight; }

  // Unavailable only when the server could not be reached; an error reply
  // (the group or stream was deleted) leaves nothing to acknowledge.
  Status Xack(const std::vector<StreamId>& ids) {
    Args args{"XACK", topic, settings.consumer};
    args.reserve(args.size() + ids.size());
    for (StreamId id : ids) args.push_back(id.ToString());
    std::lock_guard lock(command_mu);
    auto reply = command.Command(args);
    if (!reply.ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_INTEGER) {
      log::Warn("redis XACK failed", {{"component", settings.component},
                                      {"topic", topic},
                                      {"error", UnexpectedReply(reply->get(), "XACK").message()}});
    }
    return Status::Ok();
  }

  // Requires mu. `acked`: their XACK succeeded (never to be handed out again).
  void Forget(const std::vector<StreamId>& ids, bool acked = false) {
    for (StreamId id : ids) mine.erase(id);
    if (acked) {
      held->ReleaseAcked(topic, ids);
    } else {
      held->Release(topic, ids);
    }
  }

  const StreamSettings settings;
  const std::string topic;
  const size_t max_in_flight;
  const std::shared_ptr<HeldEntries> held;

  std::mutex mu;
  std::condition_variable slot_cv;  // the reader waits for a free slot (or stop)
  std::condition_variable ack_cv;   // the acker waits for acks (or stop)
  size_t in_flight = 0;
  std::set<StreamId> mine;  // held by this subscription: in flight or waiting for XACK
  std::vector<StreamId> to_ack;
  bool stopping = false;
  bool closed = false;  // threads joined: Acks go straight to the server

  std::mutex command_mu;
  Connection command;  // XACK and Backlog
};

// The reader thread's loop and its connection.
class StreamSubscription::Reader {
 public:
  Reader(std::shared_ptr<State> state, MessageHandler handler)
      : s_(*state),
        state_(std::move(state)),
        handler_(std::move(handler)),
        conn_(s_.settings.redis, std::max(s_.settings.redis.read_timeout, kBlock + std::chrono::seconds(1))) {}

  void Run() {
    milliseconds backoff = kMinBackoff;
    bool failing = false;
    for (;;) {
      const size_t free = WaitForSlots();
      if (free == 0) return;  // stopping
      Status st = Step(free);
      if (st.ok()) {
        if (failing)
          log::Info("redis subscription resumed", {{"component", s_.settings.component}, {"topic", s_.topic}});
        failing = false;
        backoff = kMinBackoff;
        continue;
      }
      if (!failing) {
        log::Warn("redis subscription failed, retrying",
                  {{"component", s_.settings.component}, {"topic", s_.topic}, {"error", st.message()}});
      }
      failing = true;
      conn_.Close();
      std::unique_lock lock(s_.mu);
      if (s_.slot_cv.wait_for(lock, backoff, [&] { return s_.stopping; })) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

 private:
  // The number of slots to fill next; 0 when stopping. While entries are
  // waiting at the server (the last read filled its COUNT) and some are in
  // flight, refills are batched: half the window, or whatever is free after
  // kRefillWait. Otherwise one round trip per freed slot would bound the
  // rate. With nothing waiting, any free slot reads at once, so a trickle of
  // events sees no added latency.
  size_t WaitForSlots() {
    std::unique_lock lock(s_.mu);
    s_.slot_cv.wait(lock, [&] { return s_.stopping || s_.in_flight < s_.max_in_flight; });
    auto batch = [&] { return s_.stopping || s_.BatchOf(s_.max_in_flight - s_.in_flight); };
    if (more_waiting_ && !batch()) s_.slot_cv.wait_for(lock, kRefillWait, batch);
    return s_.stopping ? 0 : s_.max_in_flight - s_.in_flight;
  }

  // One round: set up after a (re)connect, redeliver when due, then read.
  Status Step(size_t free) {
    if (!conn_.connected() || conn_.generation() != ready_generation_) {
      if (Status st = CreateGroup(); !st.ok()) return st;
      ready_generation_ = conn_.generation();
      cursor_.assign(1, '0');  // our own pending entries first
      next_redeliver_ = Clock::now() + s_.settings.redeliver_interval;
    }
    if (s_.settings.redelivers() && Clock::now() >= next_redeliver_) {
      auto n = Redeliver(free);
      if (!n.ok()) return n.status();
      free -= *n;
      next_redeliver_ = Clock::now() + s_.settings.redeliver_interval;
      if (free == 0) return Status::Ok();
    }
    const bool history = cursor_ != ">";
    Args args{"XREADGROUP", "GROUP", s_.settings.consumer, s_.settings.consumer, "COUNT", std::to_string(free)};
    if (!history) args.insert(args.end(), {"BLOCK", std::to_string(kBlock.count())});
    args.insert(args.end(), {"STREAMS", s_.topic, cursor_});
    auto reply = conn_.Command(args);
    if (!reply.ok()) return reply.status();
    if (IsErrorReply(reply->get(), "NOGROUP")) {
      ready_generation_ = 0;  // someone deleted the group (or the stream): create it again
      return Status::Ok();
    }
    auto entries = ParseReadReply(reply->get());
    if (!entries.ok()) return entries.status();
    more_waiting_ = entries->size() >= free;
    if (history) cursor_ = entries->empty() ? ">" : entries->back().id.ToString();
    return Hand(*entries).status();
  }

  Status CreateGroup() {
    auto reply = conn_.Command({"XGROUP", "CREATE", s_.topic, s_.settings.consumer, "0", "MKSTREAM"});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_STATUS || IsErrorReply(reply->get(), "BUSYGROUP")) return Status::Ok();
    return UnexpectedReply(reply->get(), "XGROUP CREATE " + s_.topic);
  }

  // XPENDING + XCLAIM of entries idle for processingTimeout, at most `free`.
  Result<size_t> Redeliver(size_t free) {
    const std::string min_idle = std::to_string(s_.settings.processing_timeout.count());
    size_t delivered = 0;
    std::string start = "-";
    for (int page = 0; page < kMaxPendingPages && delivered < free; ++page) {
      auto pending =
          conn_.Command({"XPENDING", s_.topic, s_.settings.consumer, start, "+", std::to_string(kPendingPage)});
      if (!pending.ok()) return pending.status();
      const redisReply* p = pending->get();
      if (IsErrorReply(p, "NOGROUP")) {
        ready_generation_ = 0;
        return delivered;
      }
      if (p->type != REDIS_REPLY_ARRAY) return UnexpectedReply(p, "XPENDING");
      Args claim{"XCLAIM", s_.topic, s_.settings.consumer, s_.settings.consumer, min_idle};
      const size_t no_ids = claim.size();
      StreamId last;
      for (size_t i = 0; i < p->elements; ++i) {
        const redisReply* e = p->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3) return UnexpectedReply(e, "XPENDING");
        auto id = StreamId::Parse(ReplyText(e->element[0]));
        if (!id) return UnexpectedReply(e, "XPENDING");
        last = *id;
        const bool idle = e->element[2]->integer >= s_.settings.processing_timeout.count();
        if (idle && claim.size() - no_ids < free - delivered && !s_.held->Holds(s_.topic, last)) {
          claim.push_back(last.ToString());
        }
      }
      if (claim.size() > no_ids) {
        auto claimed = conn_.Command(claim);
        if (!claimed.ok()) return claimed.status();
        auto entries = ParseEntries(claimed->get());
        if (!entries.ok()) return entries.status();
        auto n = Hand(*entries);
        if (!n.ok()) return n.status();
        delivered += *n;
      }
      if (p->elements < kPendingPage) break;
      start = last.Next().ToString();
    }
    return delivered;
  }

  // Hands entries to the handler; returns how many. Entries whose data was
  // deleted while pending are acked away, as Dapr does.
  Result<size_t> Hand(std::vector<StreamEntry>& entries) {
    size_t handed = 0;
    Args gone{"XACK", s_.topic, s_.settings.consumer};
    const size_t no_ids = gone.size();
    for (StreamEntry& e : entries) {
      if (e.deleted) {
        gone.push_back(e.id.ToString());
      } else if (HandOne(std::move(e))) {
        ++handed;
      }
    }
    if (gone.size() > no_ids) {
      auto reply = conn_.Command(gone);
      if (!reply.ok()) return reply.status();
    }
    return handed;
  }

  bool HandOne(StreamEntry&& e) {
    if (!s_.held->TryHold(s_.topic, e.id)) return false;  // another subscription of ours has it
    {
      std::lock_guard lock(s_.mu);
      if (s_.stopping) {
        s_.held->Release(s_.topic, {e.id});  // stays pending at the server
        return false;
      }
      ++s_.in_flight;
      s_.mine.insert(e.id);
    }
    handler_(ToMessage(s_.topic, std::move(e)), [state = state_, id = e.id](Outcome outcome) { state->Ack(id, outcome); });
    return true;
  }

  StreamSubscription::State& s_;
  std::shared_ptr<State> state_;
  MessageHandler handler_;
  Connection conn_;
  uint64_t ready_generation_ = 0;  // the connection generation the group and cursor are set up for
  std::string cursor_ = "0";       // an ID while re-reading our own pending entries, then ">"
  bool more_waiting_ = false;      // the last read filled its COUNT: batch the next one
  Clock::time_point next_redeliver_;
};

StreamSubscription::StreamSubscription(StreamSettings settings, std::string topic, size_t max_in_flight,
                                       MessageHandler handler, std::shared_ptr<HeldEntries> held)
    : state_(std::make_shared<State>(std::move(settings), std::move(topic), max_in_flight, std::move(held))) {
  reader_ = std::thread(
      [state = state_, handler = std::move(handler)]() mutable { Reader(std::move(state), std::move(handler)).Run(); });
  acker_ = std::thread([this] { AckLoop(); });
}

StreamSubscription::~StreamSubscription() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->slot_cv.notify_all();
  state_->ack_cv.notify_all();
  reader_.join();
  acker_.join();
  std::vector<StreamId> leftover;
  {
    std::lock_guard lock(state_->mu);
    state_->closed = true;
    leftover = std::move(state_->to_ack);
    // Un-acked entries stay pending at the server; a later subscription of
    // this component may hand them out again.
    state_->held->Release(state_->topic, {state_->mine.begin(), state_->mine.end()});
    state_->mine.clear();
  }
  if (!leftover.empty()) (void)state_->Xack(leftover);  // one last try; else they come back later
}

void StreamSubscription::AckLoop() {
  State& s = *state_;
  milliseconds backoff = kMinBackoff;
  bool failing = false;
  std::unique_lock lock(s.mu);
  for (;;) {
    s.ack_cv.wait(lock, [&] { return s.stopping || !s.to_ack.empty(); });
    if (s.to_ack.empty()) return;
    // Acks of a busy window come one by one; gather them into one XACK. The
    // slots are free already, so only the server's view waits.
    s.ack_cv.wait_for(lock, kAckWait, [&] { return s.stopping || s.BatchOf(s.to_ack.size()); });
    std::vector<StreamId> batch = std::move(s.to_ack);
    s.to_ack.clear();
    lock.unlock();
    Status st = s.Xack(batch);
    lock.lock();
    if (st.ok()) {
      s.Forget(batch, /*acked=*/true);
      backoff = kMinBackoff;
      failing = false;
      continue;
    }
    // Keep them first in line; the destructor makes one last attempt.
    s.to_ack.insert(s.to_ack.begin(), batch.begin(), batch.end());
    if (s.stopping) return;
    if (!failing)
      log::Warn("redis XACK failed, retrying", {{"component", s.settings.component}, {"error", st.message()}});
    failing = true;
    s.ack_cv.wait_for(lock, backoff, [&] { return s.stopping; });
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

Result<int64_t> StreamSubscription::Backlog() {
  std::lock_guard lock(state_->command_mu);
  auto n = GroupBacklog(state_->command, state_->topic, state_->settings.consumer);
  if (!n.ok()) return Status(n.status().code(), state_->settings.component + ": " + n.status().message());
  return n;
}

}  // namespace ofn::components::redis

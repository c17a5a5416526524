#include "components/delivery.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>

#include "common/log.h"
#include "common/uuid.h"
#include "ofn/http_request.h"

namespace ofn::components {

namespace {

// How long an event waits before going again after a call got no answer at
// all (the instance is probably gone and being replaced): short at first, so
// a refused first connect costs little, doubling so a dead instance is not
// hammered.
constexpr RetryPolicy kUnreachable{.initial_backoff = std::chrono::milliseconds(2),
                                   .max_backoff = std::chrono::milliseconds(200)};
constexpr size_t kMaxWorkers = 512;

}  // namespace

std::chrono::milliseconds RetryPolicy::Backoff(int failures) const {
  auto d = initial_backoff;
  for (int i = 1; i < failures && d < max_backoff; ++i) d *= 2;
  return std::min(d, max_backoff);
}

Deliverer::Deliverer(Options options)
    : options_(std::move(options)),
      client_(net::HttpClient::Options{.max_idle_per_host = options_.per_instance}) {}

Deliverer::~Deliverer() {
  std::deque<Pending> left;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  fill_cv_.notify_all();
  for (auto& t : workers_) t.join();
  for (auto& p : left) p.event.ack(Outcome::kRetry);
}

void Deliverer::Submit(Event event) {
  bool demand = false, wake = false;
  {
    std::unique_lock lk(mu_);
    if (stopping_) {
      lk.unlock();
      event.ack(Outcome::kRetry);  // not ours to keep: the broker redelivers it
      return;
    }
    queue_.push_back(Pending{std::move(event), 0, {}});
    SpawnWorkerIfNeeded();
    demand = NeedsDemand();
    // With no instance free for the event, a woken worker would find nothing
    // to do: the worker whose call ends next takes it. While a worker fills a
    // bulk call, the event is for that call.
    wake = idle_workers_ > 0 && fill_need_ == SIZE_MAX && TargetFor(KnownBulk(queue_.back().event));
    if (queue_.size() >= fill_need_) {
      fill_need_ = SIZE_MAX;
      fill_cv_.notify_one();
    }
  }
  if (wake) cv_.notify_one();
  if (demand) options_.on_demand();
}

std::shared_ptr<Deliverer::Target> Deliverer::TargetFor(bool bulk) const {
  std::shared_ptr<Target> best;
  for (const auto& t : targets_) {
    if (t->in_flight >= options_.per_instance || (bulk && t->bulk_calls >= kBulkCallsPerInstance)) continue;
    if (!best || t->in_flight < best->in_flight) best = t;
  }
  return best;
}

bool Deliverer::KnownBulk(const Event& e) const {
  if (e.kind != EventKind::kPubSub || bulk_subscriptions_.empty()) return false;
  auto pubsub = e.message.metadata.find("pubsubName");
  std::string_view name = pubsub == e.message.metadata.end() ? std::string_view() : std::string_view(pubsub->second);
  for (const auto& [p, t] : bulk_subscriptions_) {
    if (t == e.message.topic && p == name) return true;
  }
  return false;
}

void Deliverer::SetEndpoints(std::vector<Endpoint> endpoints) {
  bool demand = false;
  {
    std::lock_guard lk(mu_);
    std::vector<std::shared_ptr<Target>> next;
    for (auto& e : endpoints) {
      std::shared_ptr<Target> found;
      for (auto& t : targets_) {
        if (t->endpoint.id == e.id && t->endpoint.port == e.port) found = t;
      }
      if (!found) found = std::make_shared<Target>(Target{std::move(e), 0});
      next.push_back(std::move(found));
    }
    targets_ = std::move(next);
    demand_signalled_ = false;
    demand = NeedsDemand();
    SpawnWorkerIfNeeded();
  }
  cv_.notify_all();
  if (demand) options_.on_demand();
}

bool Deliverer::NeedsDemand() {
  if (!targets_.empty() || queue_.empty() || demand_signalled_ || !options_.on_demand) return false;
  demand_signalled_ = true;
  return true;
}

void Deliverer::Wake() { cv_.notify_all(); }

DeliveryStats Deliverer::Stats() const {
  std::lock_guard lk(mu_);
  DeliveryStats s = stats_;
  s.queued = queue_.size();
  return s;
}

size_t Deliverer::Held() const {
  std::lock_guard lk(mu_);
  return queue_.size() + stats_.in_flight;
}

void Deliverer::SpawnWorkerIfNeeded() {
  size_t capacity = std::max<size_t>(1, targets_.size() * options_.per_instance);
  size_t busy = workers_.size() - idle_workers_;
  if (idle_workers_ > 0 || workers_.size() >= std::min(capacity, kMaxWorkers) || busy >= queue_.size()) return;
  workers_.emplace_back([this] {
    // Batch scheduling: a woken worker does not preempt the thread that
    // woke it. Otherwise a reader handing over a burst of events is cut off
    // after the first, and the burst leaves in many small calls instead of
    // a few full ones. (Unprivileged; ignored where unsupported.)
    sched_param sp{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    Work();
  });
}

bool Deliverer::TakeReady(Pending* out, std::shared_ptr<Target>* target, bool* bulk_slot) {
  if (queue_.empty() || targets_.empty()) return false;
  std::shared_ptr<Target> any = TargetFor(false);
  if (!any) return false;
  std::shared_ptr<Target> bulk = TargetFor(true);
  auto now = options_.clock->Now();
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->due > now) continue;
    const bool is_bulk = KnownBulk(it->event);
    if (is_bulk && !bulk) continue;  // its instances have their bulk calls in flight
    *target = is_bulk ? bulk : any;
    *bulk_slot = is_bulk;
    if (is_bulk) ++(*target)->bulk_calls;
    *out = std::move(*it);
    queue_.erase(it);
    return true;
  }
  return false;
}

void Deliverer::Work() {
  std::unique_lock lk(mu_);
  while (true) {
    Pending p;
    std::shared_ptr<Target> target;
    bool bulk_slot = false;
    // While a worker fills a bulk call, the others leave the queue to it; it
    // wakes one when it is done.
    while (!stopping_ && (fill_need_ != SIZE_MAX || !TakeReady(&p, &target, &bulk_slot))) {
      // Sleep until the earliest backoff ends, or until something changes.
      auto earliest = autoscaler::Clock::TimePoint::max();
      if (!targets_.empty() && fill_need_ == SIZE_MAX) {
        for (const auto& q : queue_) earliest = std::min(earliest, q.due);
      }
      ++idle_workers_;
      if (earliest == autoscaler::Clock::TimePoint::max()) {
        cv_.wait(lk);
      } else {
        auto wait = earliest - options_.clock->Now();
        cv_.wait_for(lk, std::max<autoscaler::Clock::Duration>(wait, std::chrono::milliseconds(1)));
      }
      --idle_workers_;
    }
    if (stopping_) return;
    ++target->in_flight;
    ++stats_.in_flight;
    // More events than busy workers: let another worker take the next one.
    if (!queue_.empty()) SpawnWorkerIfNeeded();
    lk.unlock();

    if (options_.prepare) options_.prepare(p.event);
    std::vector<Pending> batch;
    size_t bulk = p.event.kind == EventKind::kPubSub ? p.event.bulk : 0;
    batch.push_back(std::move(p));
    if (bulk > 1) {
      batch.reserve(bulk);
      lk.lock();
      if (!bulk_slot) {  // one of the subscription's first bulk calls: known from now on
        if (!KnownBulk(batch.front().event)) {
          const Message& m = batch.front().event.message;
          auto pubsub = m.metadata.find("pubsubName");
          bulk_subscriptions_.emplace_back(pubsub == m.metadata.end() ? "" : pubsub->second, m.topic);
        }
        ++target->bulk_calls;
        bulk_slot = true;
      }
      TakeSameSubscription(batch.front(), bulk - 1, &batch);
      FillUp(batch, bulk, lk);
      lk.unlock();
      // One subscription, one route: what prepare found for the first holds for all.
      const Event& first = batch.front().event;
      for (size_t i = 1; options_.prepare && i < batch.size(); ++i) {
        Event& e = batch[i].event;
        e.route = first.route;
        e.raw = first.raw;
        e.bulk = first.bulk;
        e.bulk_await = first.bulk_await;
        if (!e.dead_letter) e.dead_letter = first.dead_letter;
      }
    }
    Call(std::move(batch), *target, bulk_slot, lk);
  }
}

void Deliverer::TakeSameSubscription(const Pending& first, size_t max, std::vector<Pending>* batch) {
  auto pubsub = [](const Message& msg) {
    auto it = msg.metadata.find("pubsubName");
    return it == msg.metadata.end() ? std::string_view() : std::string_view(it->second);
  };
  // Copies: `first` lives in `batch`, which grows.
  const std::string topic = first.event.message.topic, name(pubsub(first.event.message));
  auto now = options_.clock->Now();
  size_t taken = 0;
  for (auto it = queue_.begin(); it != queue_.end() && taken < max;) {
    const Event& e = it->event;
    if (it->due <= now && e.kind == EventKind::kPubSub && e.message.topic == topic && pubsub(e.message) == name) {
      batch->push_back(std::move(*it));
      it = queue_.erase(it);
      ++taken;
    } else {
      ++it;
    }
  }
  stats_.in_flight += taken;
}

void Deliverer::FillUp(std::vector<Pending>& batch, size_t max, std::unique_lock<std::mutex>& lk) {
  const auto await = batch.front().event.bulk_await;
  // One worker fills at a time. Nothing else in flight means the instance
  // would idle meanwhile, so the call goes now.
  if (await.count() <= 0 || fill_need_ != SIZE_MAX || stats_.in_flight <= batch.size()) return;
  auto until = std::chrono::steady_clock::now() + await;
  while (!stopping_ && batch.size() < max) {
    fill_need_ = max - batch.size();
    bool timed_out = fill_cv_.wait_until(lk, until) == std::cv_status::timeout;
    TakeSameSubscription(batch.front(), max - batch.size(), &batch);
    if (timed_out) break;
  }
  fill_need_ = SIZE_MAX;
  if (!queue_.empty()) cv_.notify_one();
}

void Deliverer::Call(std::vector<Pending> batch, Target& target, bool bulk_slot, std::unique_lock<std::mutex>& lk) {
  const Event& first = batch.front().event;
  const bool bulk = first.bulk > 1 && first.kind == EventKind::kPubSub;
  net::ClientRequest req;
  req.method = "POST";
  req.url = "http://" + target.endpoint.host + ":" + std::to_string(target.endpoint.port) + first.route;
  req.timeout = options_.call_timeout;

  // A bulk call carries the events that can be written into its body; the
  // others are dropped as Dapr does with an event it cannot parse.
  std::vector<Verdict> verdicts(batch.size(), Verdict::kRetry);
  std::vector<BulkEntry> entries;
  std::vector<size_t> carried;  // batch index of each entry
  if (bulk) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const Event& e = batch[i].event;
      if (!e.raw && !IsJsonObject(e.message.data)) {
        verdicts[i] = Verdict::kDrop;
        continue;
      }
      entries.push_back(BulkEntry{"", &e.message, e.raw});
      carried.push_back(i);
    }
    if (entries.empty()) {
      lk.lock();
      --target.in_flight;
      if (bulk_slot) --target.bulk_calls;
      Settle(std::move(batch), verdicts, "not a JSON CloudEvent: a bulk subscriber cannot take it", lk);
      return;
    }
    {
      std::lock_guard idl(mu_);
      for (auto& e : entries) e.entry_id = std::to_string(++next_entry_);
    }
    auto pubsub = first.message.metadata.find("pubsubName");
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = BulkBody(NewUuid(), first.message.topic,
                        pubsub != first.message.metadata.end() ? pubsub->second : "", entries);
  } else {
    req.headers.emplace_back("Content-Type", !first.content_type.empty()     ? first.content_type
                                             : first.kind == EventKind::kPubSub ? "application/cloudevents+json"
                                                                              : "application/json");
    for (const auto& [k, v] : first.message.metadata) {
      // Broker metadata comes from whoever published: what cannot be a header is left out.
      if (!EqualsIgnoreCase(k, "Content-Length") && !EqualsIgnoreCase(k, "Content-Type") &&
          net::IsSendableHeader(k, v)) {
        req.headers.emplace_back(k, v);
      }
    }
    req.body = first.raw ? RawEnvelope(first.message) : first.message.data;
  }
  auto resp = client_.Do(req);

  lk.lock();
  --target.in_flight;
  if (bulk_slot) --target.bulk_calls;
  if (!resp.ok() && resp.status().code() == StatusCode::kUnavailable && !options_.unreachable_is_failure) {
    // Not reached (refused, reset, gone): not an attempt. Back to the
    // front, in order, after a short pause. A timeout or a malformed answer is one.
    ++stats_.unreachable;
    stats_.in_flight -= batch.size();
    log::Warn("event delivery got no answer", {{"function", options_.name},
                                               {"instance", target.endpoint.id},
                                               {"error", resp.status().message()}});
    auto now = options_.clock->Now();
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      it->due = now + kUnreachable.Backoff(++it->unanswered);
      queue_.push_front(std::move(*it));
    }
    cv_.notify_one();
    return;
  }
  ++stats_.calls;
  std::string reason = resp.ok() ? "status " + std::to_string(resp->status) : resp.status().message();
  // A timeout or a malformed answer leaves every verdict at kRetry.
  if (resp.ok() && bulk) {
    auto judged = JudgeBulk(resp->status, resp->body, entries);
    for (size_t k = 0; k < carried.size(); ++k) verdicts[carried[k]] = judged[k];
  } else if (resp.ok()) {
    verdicts[0] = Judge(first.kind, resp->status, resp->body);
  }
  Settle(std::move(batch), verdicts, reason, lk);
}

void Deliverer::Settle(std::vector<Pending> batch, const std::vector<Verdict>& verdicts, const std::string& reason,
                       std::unique_lock<std::mutex>& lk) {
  stats_.in_flight -= batch.size();
  auto now = options_.clock->Now();
  std::vector<size_t> done;
  // Backwards, so that events going back to the front keep their order.
  for (size_t i = batch.size(); i-- > 0;) {
    Pending& p = batch[i];
    if (verdicts[i] == Verdict::kRetry && p.failures + 1 < options_.retry.max_attempts) {
      ++p.failures;
      ++stats_.retried;
      p.due = now + options_.retry.Backoff(p.failures);
      queue_.push_front(std::move(p));
    } else {
      done.push_back(i);
    }
  }
  if (done.size() < batch.size()) cv_.notify_one();
  if (done.empty()) return;
  lk.unlock();
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    Finish(std::move(batch[*it]), verdicts[*it], reason);
  }
  lk.lock();
}

void Deliverer::Finish(Pending p, Verdict verdict, std::string reason) {
  // Counted before the ack: whoever sees the ack sees the count.
  auto count = [this](uint64_t DeliveryStats::*field) {
    std::lock_guard lk(mu_);
    ++(stats_.*field);
  };
  if (verdict == Verdict::kSuccess) {
    count(&DeliveryStats::delivered);
    p.event.ack(Outcome::kSuccess);
    return;
  }
  // Given up on: dropped by the app, or out of attempts.
  if (p.event.dead_letter) {
    Status s = p.event.dead_letter(p.event.message, "after " + std::to_string(p.failures + 1) + " attempt(s): " + reason);
    if (s.ok()) {
      count(&DeliveryStats::dead_lettered);
      p.event.ack(Outcome::kSuccess);
      return;
    }
    // The dead-letter topic is unreachable: leave the event with its broker.
    log::Error("dead-letter publish failed; the broker keeps the event",
               {{"function", options_.name}, {"error", s.message()}});
    p.event.ack(Outcome::kRetry);
    return;
  }
  log::Warn("event dropped", {{"function", options_.name},
                              {"topic", p.event.message.topic},
                              {"route", p.event.route},
                              {"attempts", std::to_string(p.failures + 1)},
                              {"last", reason}});
  count(&DeliveryStats::dropped);
  p.event.ack(Outcome::kDrop);
}

}  // namespace ofn::components

#include "components/mqtt/inbox.h"

#include <algorithm>

namespace ofn::components::mqtt {

Inbox::Inbox(size_t max_in_flight, MessageHandler handler)
    : max_in_flight_(std::max<size_t>(max_in_flight, 1)), handler_(std::move(handler)) {}

void Inbox::SetWake(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

void Inbox::Add(Message message) {
  std::lock_guard lock(mu_);
  if (!closed_) queue_.push_back(std::move(message));
}

bool Inbox::Dispatch() {
  std::unique_lock lock(mu_);
  while (!closed_ && !queue_.empty() && out_.size() < max_in_flight_) {
    uint64_t id = next_id_++;
    Message copy = queue_.front();  // kept in out_ until acked, for a retry
    out_.emplace(id, std::move(queue_.front()));
    queue_.pop_front();
    lock.unlock();
    handler_(std::move(copy), [self = shared_from_this(), id](Outcome outcome) { self->Settle(id, outcome); });
    lock.lock();
  }
  return !closed_ && queue_.size() + out_.size() < max_in_flight_;
}

void Inbox::Settle(uint64_t id, Outcome outcome) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  auto it = out_.find(id);
  if (it == out_.end()) return;  // acked twice: ignore the second
  if (outcome == Outcome::kRetry) queue_.push_front(std::move(it->second));
  out_.erase(it);
  if (wake_) wake_();
}

int64_t Inbox::Held() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(queue_.size() + out_.size());
}

void Inbox::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  wake_ = nullptr;
  queue_.clear();
  out_.clear();
}

}  // namespace ofn::components::mqtt

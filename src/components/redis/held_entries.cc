#include "components/redis/held_entries.h"

namespace ofn::components::redis {

std::shared_ptr<HeldEntries> HeldEntries::For(const std::string& consumer_key) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<HeldEntries>> instances;
  std::lock_guard lock(mu);
  std::erase_if(instances, [](const auto& kv) { return kv.second.expired(); });
  std::weak_ptr<HeldEntries>& slot = instances[consumer_key];
  std::shared_ptr<HeldEntries> held = slot.lock();
  if (!held) {
    held = std::make_shared<HeldEntries>();
    slot = held;
  }
  return held;
}

bool HeldEntries::TryHold(const std::string& topic, StreamId id) {
  std::lock_guard lock(mu_);
  Topic& t = topics_[topic];
  return t.acked.count(id) == 0 && t.held.insert(id).second;
}

bool HeldEntries::Holds(const std::string& topic, StreamId id) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  return it != topics_.end() && it->second.held.count(id) != 0;
}

void HeldEntries::Release(const std::string& topic, const std::vector<StreamId>& ids) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return;
  for (StreamId id : ids) it->second.held.erase(id);
}

void HeldEntries::ReleaseAcked(const std::string& topic, const std::vector<StreamId>& ids) {
  std::lock_guard lock(mu_);
  Topic& t = topics_[topic];
  for (StreamId id : ids) {
    t.held.erase(id);
    if (t.acked.insert(id).second) t.acked_order.push_back(id);
  }
  while (t.acked_order.size() > kAckedMemory) {
    t.acked.erase(t.acked_order.front());
    t.acked_order.pop_front();
  }
}

}  // namespace ofn::components::redis

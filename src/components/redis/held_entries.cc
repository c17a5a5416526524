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
  return held_[topic].insert(id).second;
}

bool HeldEntries::Holds(const std::string& topic, StreamId id) const {
  std::lock_guard lock(mu_);
  auto it = held_.find(topic);
  return it != held_.end() && it->second.count(id) != 0;
}

void HeldEntries::Release(const std::string& topic, const std::vector<StreamId>& ids) {
  std::lock_guard lock(mu_);
  auto it = held_.find(topic);
  if (it == held_.end()) return;
  for (StreamId id : ids) it->second.erase(id);
  if (it->second.empty()) held_.erase(it);
}

}  // namespace ofn::components::redis

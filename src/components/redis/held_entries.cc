#include "components/redis/held_entries.h"

#include <map>

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

bool HeldEntries::TryHold(const std::string& topic, const std::string& id) {
  std::lock_guard lock(mu_);
  return held_.emplace(topic, id).second;
}

bool HeldEntries::Holds(const std::string& topic, const std::string& id) const {
  std::lock_guard lock(mu_);
  return held_.count({topic, id}) != 0;
}

void HeldEntries::Release(const std::string& topic, const std::string& id) {
  std::lock_guard lock(mu_);
  held_.erase({topic, id});
}

}  // namespace ofn::components::redis

#include "components/kafka/partition_tracker.h"

#include <algorithm>
#include <cassert>

namespace ofn::components::kafka {

bool PartitionTracker::Add(int64_t offset, Message message) {
  if (!held_.emplace(offset, std::move(message)).second) return false;
  pending_.insert(offset);
  next_read_ = std::max(next_read_.value_or(offset), offset + 1);
  return true;
}

std::pair<int64_t, Message> PartitionTracker::TakeNext() {
  assert(!pending_.empty());
  int64_t offset = *pending_.begin();
  pending_.erase(pending_.begin());
  return {offset, held_.at(offset)};
}

void PartitionTracker::Acked(int64_t offset, Outcome outcome) {
  if (!held_.count(offset) || pending_.count(offset)) return;  // not out: nothing to do
  if (outcome == Outcome::kRetry) {
    pending_.insert(offset);
  } else {
    held_.erase(offset);
  }
}

std::optional<int64_t> PartitionTracker::CommitPoint() const {
  if (!held_.empty()) return held_.begin()->first;
  return next_read_;
}

}  // namespace ofn::components::kafka

// Change: one entry of the store's change feed.
//
// Every successful mutation of the store (create, update, status update,
// delete) takes the next store version, a global sequence 1, 2, 3... with no
// gaps, and is recorded as one Change. Controllers read the feed to reconcile:
// through Store::ChangesSince after a restart or a lag, and through
// Store::Subscribe while running. A plain value; not thread-safe to mutate
// concurrently.
#pragma once

#include <cstdint>

#include "store/object.h"

namespace ofn::store {

enum class ChangeType { kAdded, kModified, kDeleted };

// "ADDED", "MODIFIED", "DELETED" (the names Kubernetes watches use).
const char* ChangeTypeName(ChangeType type);

struct Change {
  int64_t version = 0;  // the store version this mutation took
  ChangeType type = ChangeType::kAdded;
  // The object after the change. For kDeleted, its last stored state: then
  // object.resource_version < version.
  Object object;
};

}  // namespace ofn::store

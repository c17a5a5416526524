// StateStore: the key/value contract behind Dapr's state API.
//
// A store maps keys to opaque value bytes, each with an ETag that changes on
// every write. Writes follow Dapr's optimistic-concurrency rules:
//   - no etag, last-write (or concurrency unset): the write always wins;
//   - etag + first-write (the default when an etag is given): the write or
//     delete happens only if the key exists with exactly that etag, else
//     EtagMismatch (the API answers 409). An etag on a missing key cannot
//     match, as in components-contrib's SQL stores;
//   - etag + last-write: the etag is ignored;
//   - first-write without an etag (or an empty one) is create-only: on an
//     existing key it fails with AlreadyExists (Dapr answers 500 for this,
//     since redis raises a plain error, not an ETag error);
//   - an etag the store cannot parse is EtagInvalid (the API answers 400).
// Deleting a missing key without an etag succeeds.
//
// Thread-safety: implementations must be safe to call from many threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ofn/status.h"

namespace ofn::components {

enum class Concurrency { kFirstWrite, kLastWrite };

struct StateItem {
  std::string value;  // the stored bytes, exactly as saved
  std::string etag;
};

struct SetRequest {
  std::string key;
  std::string value;
  std::optional<std::string> etag;
  // Unset: first-write when an etag is given, last-write otherwise (Dapr's default).
  std::optional<Concurrency> concurrency;
};

struct DeleteRequest {
  std::string key;
  std::optional<std::string> etag;
  std::optional<Concurrency> concurrency;
};

using StateOperation = std::variant<SetRequest, DeleteRequest>;

// The error kinds of the contract, as Status codes so they cross module
// boundaries as values; the predicates below are how callers tell them apart.
inline Status EtagMismatch(std::string_view key) {
  return Status::FailedPrecondition("possible etag mismatch: key " + std::string(key) +
                                    " does not have the given etag");
}
inline Status EtagInvalid(std::string_view etag) {
  return Status::InvalidArgument("invalid etag value " + std::string(etag));
}
inline Status FirstWriteConflict(std::string_view key) {
  return Status::AlreadyExists("key " + std::string(key) +
                               " already exists and first-write without an etag only creates");
}
inline bool IsEtagMismatch(const Status& s) { return s.code() == StatusCode::kFailedPrecondition; }
inline bool IsEtagInvalid(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The Dapr component type this implements, e.g. "state.ofn".
  virtual std::string_view type() const = 0;
  // Dapr capability names for /v1.0/metadata ("ETAG", "TRANSACTIONAL", ...).
  virtual std::vector<std::string> features() const = 0;
  bool transactional() const {
    for (const auto& f : features())
      if (f == "TRANSACTIONAL") return true;
    return false;
  }
  // Most operations one Transaction accepts; 0 means no limit.
  virtual size_t max_transaction_operations() const { return 0; }

  // nullopt when the key does not exist.
  virtual Result<std::optional<StateItem>> Get(std::string_view key) = 0;
  // One entry per key, in order; nullopt for missing keys.
  virtual Result<std::vector<std::optional<StateItem>>> BulkGet(const std::vector<std::string>& keys) = 0;
  virtual Status Set(const SetRequest& request) = 0;
  virtual Status Delete(const DeleteRequest& request) = 0;
  // All operations apply, in order, or none does (the first failure's status).
  virtual Status Transaction(const std::vector<StateOperation>& operations) = 0;
};

}  // namespace ofn::components

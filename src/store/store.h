// Store: the state of record of `ofn server`, in one SQLite database.
//
// Every resource the user applied is an Object keyed by (kind, ns, name);
// after a restart, even after kill -9, the server rebuilds everything from
// here. Each acknowledged mutation is durable when the call returns (see
// Durability), takes the next store version (a global, gap-free sequence) and
// is recorded in a change feed that controllers reconcile from: read it with
// ChangesSince, or be told in process with Subscribe.
//
//   auto store = Store::Open(data_dir + "/ofn.db");
//   if (!store.ok()) return store.status();
//   auto fn = (*store)->Put(std::move(obj), PutMode::kApply);
//
// Thread-safety: all methods may be called from any thread at once. There is
// one SQLite connection, guarded by a mutex, with every statement prepared
// once; calls are therefore serialised, which is ample for a control plane
// (the serving path must not read the store per request). Subscribers are
// called outside that mutex, so they may call back into the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ofn/status.h"
#include "store/change.h"
#include "store/object.h"

namespace ofn::store {

enum class PutMode {
  kCreate,  // the object must not exist yet (AlreadyExists otherwise)
  kApply,   // create, or update what exists
};

enum class Durability {
  // synchronous=FULL: an acknowledged write also survives an OS crash or a
  // power loss (one fsync per write; writes are control-plane rare).
  kPowerLoss,
  // synchronous=NORMAL: an acknowledged write survives kill -9 of the process
  // (it is in the WAL, in the OS's hands) but may be lost with the machine.
  kProcessCrash,
};

struct StoreOptions {
  Durability durability = Durability::kPowerLoss;
  // Changes kept for ChangesSince, counted in versions. A reader further
  // behind gets FailedPrecondition and must List again.
  int64_t change_retention = 1000;
  // How long Open waits for another process that has the database open (the
  // store holds it exclusively: one ofn server per data directory).
  int busy_timeout_ms = 5000;
};

class Store {
 public:
  // Opens or creates the database at path (the caller creates its directory;
  // a new file is made private, 0600), upgrading its schema if older. Errors
  // name the path: NotFound (no such directory), PermissionDenied,
  // FailedPrecondition (a schema newer than this ofn), Internal (not a
  // database, corrupt), Unavailable (locked by another process).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options = {});
  // A private database that lives as long as the Store (for tests).
  static Result<std::unique_ptr<Store>> OpenInMemory(const StoreOptions& options = {});

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates or updates desired.kind/ns/name and returns what is stored.
  // kind and name must not be empty; the JSON fields must be JSON objects
  // (InvalidArgument). The store assigns uid, generation, resource_version and
  // created_at and ignores them in desired. status_json is used only on
  // create: afterwards status belongs to UpdateStatus. An update that changes
  // nothing (same api_version, spec and metadata) writes nothing and returns
  // the stored object; a spec change bumps generation, a metadata or
  // api_version change only resource_version.
  // expected_resource_version, when given, makes the write conditional: 0
  // means "must not exist", n > 0 "must be at resource_version n"; otherwise
  // FailedPrecondition and nothing is written.
  Result<Object> Put(Object desired, PutMode mode, std::optional<int64_t> expected_resource_version = std::nullopt);

  // NotFound when absent.
  Result<Object> Get(const std::string& kind, const std::string& ns, const std::string& name);
  // kind "" lists every kind, ns "" every namespace; ordered by kind, ns, name.
  // as_of_version, if given, receives the store version the list reflects:
  // a controller lists, then follows ChangesSince(*as_of_version).
  Result<std::vector<Object>> List(const std::string& kind = "", const std::string& ns = "",
                                   int64_t* as_of_version = nullptr);

  // Replaces the status, keeping generation and bumping resource_version (an
  // identical status writes nothing). expected_generation >= 0 makes it
  // conditional on the spec generation the status was computed from
  // (FailedPrecondition when the spec moved on); -1 accepts any.
  Status UpdateStatus(const std::string& kind, const std::string& ns, const std::string& name,
                      const std::string& status_json, int64_t expected_generation = -1);

  // Removes the object and returns its last stored state; NotFound if absent.
  Result<Object> Delete(const std::string& kind, const std::string& ns, const std::string& name);

  // The version of the latest mutation; 0 for a new store.
  int64_t CurrentVersion() const;
  // Changes with version > `version`, oldest first. FailedPrecondition when
  // some were already discarded (see StoreOptions::change_retention) or when
  // `version` is ahead of the store (a different or restored database): List
  // again and continue from CurrentVersion().
  Result<std::vector<Change>> ChangesSince(int64_t version);

  // Calls fn with every change committed from now on, in version order,
  // exactly once, after the commit. It runs on a thread that mutated the
  // store: normally the caller whose change it is, before its call returns;
  // but when another thread is already delivering (or fn itself mutates the
  // store) that thread delivers it, in order, a little later. Keep fn short
  // (hand the change to a work queue). fn may call any Store method.
  using Subscriber = std::function<void(const Change&)>;
  uint64_t Subscribe(Subscriber fn);
  // After this returns, fn is not running and will not be called again
  // (unless called from inside a subscriber, which cannot wait for itself).
  void Unsubscribe(uint64_t id);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<Store>> OpenAt(const std::string& path, bool in_memory, const StoreOptions& options);

  std::unique_ptr<Impl> impl_;
};

}  // namespace ofn::store

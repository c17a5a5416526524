// SqliteStateStore: the embedded default state store, Dapr type "state.ofn".
//
// Keys, values and etags live in one SQLite file in WAL mode, so saved state
// survives a restart of ofn (and a kill -9: a commit is in the WAL before a
// call returns). ETags are decimal integers drawn from one counter per file
// that only grows, so an etag is never reused, even after a delete and
// re-create of the same key (no ABA). Implements every rule of StateStore,
// including atomic multi-key transactions.
//
// Thread-safety: all methods may be called concurrently; one mutex serialises
// use of the single connection (SQLite writes are serial anyway).
#pragma once

#include <memory>
#include <string>

#include "components/registry.h"
#include "components/state_store.h"

namespace ofn::components {

struct SqliteStateStoreOptions {
  // fsync at every commit (survives power loss) instead of process crashes only.
  bool sync_full = false;
  size_t max_transaction_operations = 0;  // 0: no limit
};

class SqliteStateStore final : public StateStore {
 public:
  static constexpr std::string_view kType = "state.ofn";

  // Creates the file (0600) if needed.
  static Result<std::unique_ptr<SqliteStateStore>> Open(const std::string& path,
                                                        const SqliteStateStoreOptions& options = {});
  ~SqliteStateStore() override;

  std::string_view type() const override { return kType; }
  std::vector<std::string> features() const override { return {"ETAG", "TRANSACTIONAL"}; }
  size_t max_transaction_operations() const override;

  Result<std::optional<StateItem>> Get(std::string_view key) override;
  Result<std::vector<std::optional<StateItem>>> BulkGet(const std::vector<std::string>& keys) override;
  Status Set(const SetRequest& request) override;
  Status Delete(const DeleteRequest& request) override;
  Status Transaction(const std::vector<StateOperation>& operations) override;

  class Impl;

 private:
  explicit SqliteStateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Registers "state.ofn": a store in <spec.data_dir>/state.db; metadata
// `sync: full` fsyncs every commit.
void RegisterEmbeddedState(Registry& registry);

}  // namespace ofn::components

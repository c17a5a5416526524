#include "components/sqlite_state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>

namespace ofn::components {
namespace {

enum Stmt { kGet, kUpsert, kDelete, kSaveCounter, kBegin, kCommit, kRollback, kNumStmts };

const char* const kSql[kNumStmts] = {
    "SELECT value, etag FROM state WHERE key = ?1",
    "INSERT INTO state(key, value, etag) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = excluded.etag",
    "DELETE FROM state WHERE key = ?1",
    "UPDATE meta SET value = ?1 WHERE name = 'last_etag'",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value BLOB NOT NULL, etag INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(name, value) VALUES('last_etag', 0);";

Status SqlError(sqlite3* db, int rc, std::string_view what) {
  return Status::Internal("state store: " + std::string(what) + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

std::optional<int64_t> ParseEtag(std::string_view etag) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(etag.data(), etag.data() + etag.size(), v);
  if (ec != std::errc() || end != etag.data() + etag.size() || v <= 0) return std::nullopt;
  return v;
}

// Resets a statement when the scope ends so it never holds a read lock.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

class SqliteStateStore::Impl {
 public:
  ~Impl() {
    for (auto* s : stmts) sqlite3_finalize(s);
    sqlite3_close(db);
  }

  // Everything below is called with mu held.
  Status Step(Stmt which, std::string_view what) {
    sqlite3_stmt* s = stmts[which];
    Reset r{s};
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(db, rc, what);
    return Status::Ok();
  }

  Result<std::optional<StateItem>> Lookup(std::string_view key) {
    sqlite3_stmt* s = stmts[kGet];
    Reset r{s};
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<StateItem>();
    if (rc != SQLITE_ROW) return SqlError(db, rc, "get");
    StateItem item;
    const void* blob = sqlite3_column_blob(s, 0);
    int n = sqlite3_column_bytes(s, 0);
    if (blob != nullptr) item.value.assign(static_cast<const char*>(blob), static_cast<size_t>(n));
    item.etag = std::to_string(sqlite3_column_int64(s, 1));
    return std::optional<StateItem>(std::move(item));
  }

  // Checks the concurrency rules for a write or delete of `key`. `for_delete`
  // relaxes create-only (first-write without etag means nothing for deletes).
  Result<std::optional<StateItem>> Check(std::string_view key, const std::optional<std::string>& etag,
                                         std::optional<Concurrency> concurrency, bool for_delete) {
    const bool has_etag = etag.has_value() && !etag->empty();
    const Concurrency mode = concurrency.value_or(has_etag ? Concurrency::kFirstWrite : Concurrency::kLastWrite);
    std::optional<int64_t> wanted;
    if (has_etag && mode == Concurrency::kFirstWrite) {
      wanted = ParseEtag(*etag);
      if (!wanted) return EtagInvalid(*etag);
    }
    auto cur = Lookup(key);
    if (!cur.ok()) return cur.status();
    if (mode == Concurrency::kLastWrite) return cur;
    if (wanted) {
      if (!cur->has_value() || (*cur)->etag != std::to_string(*wanted)) return EtagMismatch(key);
    } else if (!for_delete && cur->has_value()) {
      return FirstWriteConflict(key);
    }
    return cur;
  }

  Status ApplySet(const SetRequest& req) {
    if (req.key.empty()) return Status::InvalidArgument("state key is empty");
    auto cur = Check(req.key, req.etag, req.concurrency, /*for_delete=*/false);
    if (!cur.ok()) return cur.status();
    sqlite3_stmt* s = stmts[kUpsert];
    {
      Reset r{s};
      const int64_t etag = ++last_etag;
      sqlite3_bind_text(s, 1, req.key.data(), static_cast<int>(req.key.size()), SQLITE_STATIC);
      sqlite3_bind_blob(s, 2, req.value.data(), static_cast<int>(req.value.size()), SQLITE_STATIC);
      sqlite3_bind_int64(s, 3, etag);
      if (int rc = sqlite3_step(s); rc != SQLITE_DONE) return SqlError(db, rc, "set");
    }
    dirty_counter = true;
    return Status::Ok();
  }

  Status ApplyDelete(const DeleteRequest& req) {
    if (req.key.empty()) return Status::InvalidArgument("state key is empty");
    auto cur = Check(req.key, req.etag, req.concurrency, /*for_delete=*/true);
    if (!cur.ok()) return cur.status();
    if (!cur->has_value()) return Status::Ok();
    sqlite3_stmt* s = stmts[kDelete];
    Reset r{s};
    sqlite3_bind_text(s, 1, req.key.data(), static_cast<int>(req.key.size()), SQLITE_STATIC);
    if (int rc = sqlite3_step(s); rc != SQLITE_DONE) return SqlError(db, rc, "delete");
    return Status::Ok();
  }

  // Runs fn inside one write transaction; commits only if it succeeded.
  template <typename Fn>
  Status InTransaction(Fn&& fn) {
    const int64_t saved_etag = last_etag;
    if (Status s = Step(kBegin, "begin"); !s.ok()) return s;
    dirty_counter = false;
    Status result = fn();
    if (result.ok() && dirty_counter) {
      sqlite3_stmt* s = stmts[kSaveCounter];
      Reset r{s};
      sqlite3_bind_int64(s, 1, last_etag);
      if (int rc = sqlite3_step(s); rc != SQLITE_DONE) result = SqlError(db, rc, "save etag counter");
    }
    if (result.ok()) result = Step(kCommit, "commit");
    if (!result.ok()) {
      (void)Step(kRollback, "rollback");  // the status that matters is `result`
      last_etag = saved_etag;
    }
    return result;
  }

  std::mutex mu;
  sqlite3* db = nullptr;
  sqlite3_stmt* stmts[kNumStmts] = {};
  int64_t last_etag = 0;
  bool dirty_counter = false;
  SqliteStateStoreOptions options;
};

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path,
                                                                 const SqliteStateStoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("state store path is empty");
  // Create the file ourselves so it (and the WAL, which copies its mode) is private.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("state store " + path + ": " + std::strerror(errno));
  ::close(fd);

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // NOMUTEX: Impl::mu already serialises the connection.
  int rc = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqlError(impl->db, rc, "open " + path);
  sqlite3_busy_timeout(impl->db, 5000);
  // WAL + NORMAL loses nothing on a process crash; FULL also survives power loss.
  std::string script = std::string("PRAGMA journal_mode = WAL;") +
                       (options.sync_full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;") +
                       kSchema;
  char* err = nullptr;
  rc = sqlite3_exec(impl->db, script.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s = Status::Internal("state store: open " + path + ": " + (err != nullptr ? err : sqlite3_errstr(rc)));
    sqlite3_free(err);
    return s;
  }
  for (int i = 0; i < kNumStmts; ++i) {
    rc = sqlite3_prepare_v3(impl->db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &impl->stmts[i], nullptr);
    if (rc != SQLITE_OK) return SqlError(impl->db, rc, std::string("prepare ") + kSql[i]);
  }
  sqlite3_stmt* s = nullptr;
  rc = sqlite3_prepare_v2(impl->db, "SELECT value FROM meta WHERE name = 'last_etag'", -1, &s, nullptr);
  if (rc != SQLITE_OK) return SqlError(impl->db, rc, "read etag counter");
  if (sqlite3_step(s) == SQLITE_ROW) impl->last_etag = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(impl)));
}

SqliteStateStore::SqliteStateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStateStore::~SqliteStateStore() = default;

size_t SqliteStateStore::max_transaction_operations() const { return impl_->options.max_transaction_operations; }

Result<std::optional<StateItem>> SqliteStateStore::Get(std::string_view key) {
  std::lock_guard lock(impl_->mu);
  return impl_->Lookup(key);
}

Result<std::vector<std::optional<StateItem>>> SqliteStateStore::BulkGet(const std::vector<std::string>& keys) {
  std::lock_guard lock(impl_->mu);
  std::vector<std::optional<StateItem>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    auto item = impl_->Lookup(k);
    if (!item.ok()) return item.status();
    out.push_back(std::move(*item));
  }
  return out;
}

Status SqliteStateStore::Set(const SetRequest& request) {
  std::lock_guard lock(impl_->mu);
  return impl_->InTransaction([&] { return impl_->ApplySet(request); });
}

Status SqliteStateStore::Delete(const DeleteRequest& request) {
  std::lock_guard lock(impl_->mu);
  return impl_->InTransaction([&] { return impl_->ApplyDelete(request); });
}

Status SqliteStateStore::Transaction(const std::vector<StateOperation>& operations) {
  if (size_t max = max_transaction_operations(); max != 0 && operations.size() > max) {
    return Status::ResourceExhausted("transaction has " + std::to_string(operations.size()) +
                                     " operations, more than the store's limit of " + std::to_string(max));
  }
  std::lock_guard lock(impl_->mu);
  return impl_->InTransaction([&] {
    for (const auto& op : operations) {
      Status s = std::visit(
          [&](const auto& req) {
            if constexpr (std::is_same_v<std::decay_t<decltype(req)>, SetRequest>) {
              return impl_->ApplySet(req);
            } else {
              return impl_->ApplyDelete(req);
            }
          },
          op);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  });
}

void RegisterEmbeddedState(Registry& registry) {
  registry.Add(std::string(SqliteStateStore::kType), [](const ComponentSpec& spec) -> Result<Component> {
    auto sync = spec.metadata.GetOr("sync", "normal");
    if (sync != "normal" && sync != "full") {
      return Status::InvalidArgument("metadata sync: \"" + sync + "\" is not normal or full");
    }
    auto store = SqliteStateStore::Open(spec.data_dir + "/state.db", SqliteStateStoreOptions{.sync_full = sync == "full"});
    if (!store.ok()) return store.status();
    Component c;
    c.state = std::shared_ptr<StateStore>(std::move(*store));
    return c;
  });
}

}  // namespace ofn::components

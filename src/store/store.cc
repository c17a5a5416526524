#include "store/store.h"

#include "common/rfc3339.h"
#include "common/uuid.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "common/log.h"

namespace ofn::store {
namespace {

// The whole database of 100 Functions is a few hundred KiB: 1 MiB of page
// cache keeps it hot without weighing on the server's RSS budget.
constexpr int kCacheSizeKib = 1024;
// Bounds the WAL file left on disk after a checkpoint.
constexpr int64_t kJournalSizeLimit = 4 << 20;

// Schema migrations, the hook for every future change of the schema:
// kMigrations[i] takes a database from version i to i + 1 (sql, then fn if
// set), in one transaction with the version bump. Append only: never edit a
// step that has shipped, databases in the field already ran it.
struct Migration {
  const char* sql;
  Status (*fn)(sqlite3* db);  // for data rewrites SQL cannot express; may be null
};

#define OFN_OBJECT_COLUMNS \
  "api_version, kind, ns, name, uid, generation, resource_version, spec_json, status_json, metadata_json, created_at"
#define OFN_OBJECT_COLUMN_DEFS                                                                          \
  "api_version TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, "               \
  "uid TEXT NOT NULL, generation INTEGER NOT NULL, resource_version INTEGER NOT NULL, "                 \
  "spec_json TEXT NOT NULL, status_json TEXT NOT NULL, metadata_json TEXT NOT NULL, created_at TEXT NOT NULL"

constexpr Migration kMigrations[] = {
    // 0 -> 1. A change carries a full copy of the object so that the feed
    // still describes a deleted one; the feed is pruned to change_retention.
    {"CREATE TABLE objects (" OFN_OBJECT_COLUMN_DEFS ", PRIMARY KEY (kind, ns, name)) WITHOUT ROWID;"
     "CREATE TABLE changes (version INTEGER PRIMARY KEY, type TEXT NOT NULL, " OFN_OBJECT_COLUMN_DEFS ");",
     nullptr},
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

enum StmtId {
  kBegin,
  kCommit,
  kRollback,
  kGet,
  kList,
  kUpsert,
  kDelete,
  kInsertChange,
  kPruneChanges,
  kChangesSince,
  kOldestChange,
  kNewestChange,
  kNumStmts,
};

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
// fails half-way on a lock upgrade.
constexpr const char* kSql[kNumStmts] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT " OFN_OBJECT_COLUMNS " FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3",
    // A scan in primary-key order: the table holds hundreds of rows, not
    // millions, so one statement serves every filter.
    "SELECT " OFN_OBJECT_COLUMNS " FROM objects WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR ns = ?2)"
    " ORDER BY kind, ns, name",
    "INSERT OR REPLACE INTO objects (" OFN_OBJECT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "DELETE FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3",
    "INSERT INTO changes (version, type, " OFN_OBJECT_COLUMNS
    ") VALUES (?12, ?13, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "DELETE FROM changes WHERE version <= ?1",
    "SELECT version, type, " OFN_OBJECT_COLUMNS " FROM changes WHERE version > ?1 ORDER BY version",
    "SELECT MIN(version) FROM changes",
    "SELECT MAX(version) FROM changes",
};

#undef OFN_OBJECT_COLUMNS
#undef OFN_OBJECT_COLUMN_DEFS

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// An SQLite failure as a Status whose message says what was being done, to
// which store, and what to do about it when that is clear.
Status SqlStatus(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  std::string msg = std::string(what) + " (store " + Quoted(path) + "): " +
                    (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg + "; is another ofn server using this data directory?");
    case SQLITE_FULL:
      return Status::ResourceExhausted(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::PermissionDenied(msg);
    case SQLITE_CANTOPEN:
      return Status::Unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Internal(msg + "; the file is not an ofn store or is damaged: move it aside to start afresh");
    default:
      return Status::Internal(msg);
  }
}

Status ErrnoStatus(int err, const std::string& path) {
  std::string msg = "open store " + Quoted(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(msg + " (its directory must exist)");
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(msg);
    case EISDIR:
      return Status::InvalidArgument(msg);
    default:
      return Status::Unavailable(msg);
  }
}

// The JSON documents are stored canonical (compact, keys sorted: nlohmann's
// objects are ordered maps), so a re-applied manifest that differs only in
// formatting or key order is no change and does not bump generation.
Result<std::string> CanonicalJsonObject(const std::string& text, std::string_view field, const std::string& who) {
  if (text.empty()) return std::string("{}");
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      return Status::InvalidArgument(std::string(field) + " of " + who + " must be a JSON object, not " +
                                     j.type_name());
    }
    return j.dump();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(field) + " of " + who + " is not valid JSON: " + e.what());
  }
}

std::string NowRfc3339() { return FormatRfc3339(std::chrono::system_clock::now()); }

ChangeType ParseChangeType(std::string_view s) {
  if (s == "ADDED") return ChangeType::kAdded;
  if (s == "DELETED") return ChangeType::kDeleted;
  return ChangeType::kModified;
}

// A prepared statement borrowed for one use: reset and unbound on scope
// exit, so the next user finds it clean whatever path this one took.
class Use {
 public:
  explicit Use(sqlite3_stmt* s) : s_(s) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  // Text is bound without copying: it must outlive the statement's use.
  void Bind(int i, std::string_view v) {
    Check(sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  void Bind(int i, int64_t v) { Check(sqlite3_bind_int64(s_, i, v)); }
  void BindObject(const Object& o) {  // ?1..?11 in OFN_OBJECT_COLUMNS order
    Bind(1, o.api_version);
    Bind(2, o.kind);
    Bind(3, o.ns);
    Bind(4, o.name);
    Bind(5, o.uid);
    Bind(6, o.generation);
    Bind(7, o.resource_version);
    Bind(8, o.spec_json);
    Bind(9, o.status_json);
    Bind(10, o.metadata_json);
    Bind(11, o.created_at);
  }
  // SQLITE_ROW, SQLITE_DONE or an error (a failed bind reported here).
  int Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_); }

  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(s_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  Object ReadObject(int first) const {
    Object o;
    o.api_version = Text(first + 0);
    o.kind = Text(first + 1);
    o.ns = Text(first + 2);
    o.name = Text(first + 3);
    o.uid = Text(first + 4);
    o.generation = Int(first + 5);
    o.resource_version = Int(first + 6);
    o.spec_json = Text(first + 7);
    o.status_json = Text(first + 8);
    o.metadata_json = Text(first + 9);
    o.created_at = Text(first + 10);
    return o;
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

Status ExecScript(sqlite3* db, const std::string& path, const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : SqlStatus(db, rc, path, what);
}

// Brings the schema to kSchemaVersion, one step per transaction. The version
// is re-read inside each transaction, so two processes racing to create a
// new database cannot both run a step.
Status Migrate(sqlite3* db, const std::string& path) {
  for (;;) {
    if (Status s = ExecScript(db, path, "BEGIN IMMEDIATE", "open"); !s.ok()) return s;
    auto fail = [&](Status s) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    };
    if (Status s = ExecScript(db, path, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                              "create schema_version");
        !s.ok()) {
      return fail(s);
    }
    int version = 0;
    {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &raw, nullptr);
      if (rc != SQLITE_OK) return fail(SqlStatus(db, rc, path, "read schema version"));
      rc = sqlite3_step(raw);
      if (rc == SQLITE_ROW) version = sqlite3_column_int(raw, 0);
      sqlite3_finalize(raw);
      if (rc != SQLITE_ROW) return fail(SqlStatus(db, rc, path, "read schema version"));
    }
    if (version == kSchemaVersion) return ExecScript(db, path, "COMMIT", "open");
    if (version > kSchemaVersion || version < 0) {
      return fail(Status::FailedPrecondition("store " + Quoted(path) + " has schema version " +
                                             std::to_string(version) + ", newer than this ofn understands (" +
                                             std::to_string(kSchemaVersion) + "): upgrade ofn"));
    }
    const Migration& m = kMigrations[version];
    std::string what = "migrate schema to version " + std::to_string(version + 1);
    if (Status s = ExecScript(db, path, m.sql, what); !s.ok()) return fail(s);
    if (m.fn != nullptr) {
      if (Status s = m.fn(db); !s.ok()) return fail(s);
    }
    std::string bump =
        "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" + std::to_string(version + 1) + ")";
    if (Status s = ExecScript(db, path, bump.c_str(), what); !s.ok()) return fail(s);
    if (Status s = ExecScript(db, path, "COMMIT", what); !s.ok()) return fail(s);
  }
}

// The store (its Impl) whose subscribers this thread is running, so that
// Unsubscribe from inside a subscriber does not wait for itself.
thread_local const void* t_delivering = nullptr;

}  // namespace

struct Store::Impl {
  using Subscribers = std::vector<std::pair<uint64_t, Subscriber>>;

  std::string path;  // for messages; ":memory:" for OpenInMemory
  StoreOptions options;

  std::mutex mu;  // guards db and stmts
  sqlite3* db = nullptr;
  sqlite3_stmt* stmts[kNumStmts] = {};
  // Written under mu after each commit; read without it.
  std::atomic<int64_t> version{0};

  // Delivery to subscribers. Changes are queued under mu right after their
  // commit, hence in version order; whichever mutating thread finds nobody
  // delivering drains the queue outside mu, so subscribers may use the store.
  std::mutex queue_mu;  // guards the four fields below; never held while taking mu
  std::deque<Change> pending;
  bool delivering = false;
  std::shared_ptr<const Subscribers> subscribers = std::make_shared<const Subscribers>();
  uint64_t next_subscriber_id = 1;
  // Held while subscribers run, so that Unsubscribe can wait them out.
  std::mutex deliver_mu;

  ~Impl() {
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
    if (db != nullptr) sqlite3_close_v2(db);
  }

  Status Fail(int rc, std::string_view what) const { return SqlStatus(db, rc, path, what); }

  // Steps a statement that returns no rows.
  Status Run(StmtId id, std::string_view what) {
    Use u(stmts[id]);
    int rc = u.Step();
    return rc == SQLITE_DONE ? Status::Ok() : Fail(rc, what);
  }

  Result<std::optional<Object>> Find(const std::string& kind, const std::string& ns, const std::string& name) {
    Use u(stmts[kGet]);
    u.Bind(1, kind);
    u.Bind(2, ns);
    u.Bind(3, name);
    int rc = u.Step();
    if (rc == SQLITE_ROW) return std::optional<Object>(u.ReadObject(0));
    if (rc == SQLITE_DONE) return std::optional<Object>();
    return Fail(rc, "read " + DisplayName(kind, ns, name));
  }

  Result<int64_t> NewestVersion() {
    Use u(stmts[kNewestChange]);
    int rc = u.Step();
    if (rc != SQLITE_ROW) return Fail(rc, "read the store version");
    return u.IsNull(0) ? int64_t{0} : u.Int(0);
  }

  // One mutation: body runs inside a write transaction with the version the
  // change will take, fills *out (the object as stored, or as deleted) and
  // returns the change type, or nullopt when there is nothing to write.
  template <typename Body>
  Status Mutate(const std::string& who, Object* out, Body&& body) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (Status s = Run(kBegin, "write " + who); !s.ok()) return s;
      const int64_t next = version.load() + 1;
      Result<std::optional<ChangeType>> type = body(next);
      if (!type.ok() || !type->has_value()) {
        Run(kRollback, "rollback");
        return type.status();
      }
      Status s = Record(next, **type, *out, who);
      if (s.ok()) s = Run(kCommit, "commit " + who);
      if (!s.ok()) {
        Run(kRollback, "rollback");
        // Keep the cached version honest whatever state the failure left.
        if (auto v = NewestVersion(); v.ok()) version.store(*v);
        return s;
      }
      version.store(next);
      std::lock_guard<std::mutex> q(queue_mu);
      if (!subscribers->empty()) pending.push_back(Change{next, **type, *out});
    }
    Deliver();
    return Status::Ok();
  }

  // Appends the change to the feed and forgets what falls out of retention.
  Status Record(int64_t v, ChangeType type, const Object& o, const std::string& who) {
    {
      Use u(stmts[kInsertChange]);
      u.BindObject(o);
      u.Bind(12, v);
      u.Bind(13, std::string_view(ChangeTypeName(type)));
      int rc = u.Step();
      if (rc != SQLITE_DONE) return Fail(rc, "record the change of " + who);
    }
    if (v > options.change_retention) {
      Use u(stmts[kPruneChanges]);
      u.Bind(1, v - options.change_retention);
      int rc = u.Step();
      if (rc != SQLITE_DONE) return Fail(rc, "prune the change feed");
    }
    return Status::Ok();
  }

  void Deliver();
};


void Store::Impl::Deliver() {
  {
    std::lock_guard<std::mutex> q(queue_mu);
    if (delivering || pending.empty()) return;
    delivering = true;
  }
  std::lock_guard<std::mutex> d(deliver_mu);
  const void* outer = t_delivering;
  t_delivering = this;
  for (;;) {
    Change c;
    std::shared_ptr<const Subscribers> subs;
    {
      std::lock_guard<std::mutex> q(queue_mu);
      if (pending.empty()) {
        delivering = false;
        break;
      }
      c = std::move(pending.front());
      pending.pop_front();
      subs = subscribers;
    }
    for (const auto& [id, fn] : *subs) {
      // A throwing subscriber must not stop the feed for the others.
      try {
        fn(c);
      } catch (const std::exception& e) {
        log::Error("store subscriber threw", {{"error", e.what()}, {"object", DisplayName(c.object)}});
      } catch (...) {
        log::Error("store subscriber threw", {{"object", DisplayName(c.object)}});
      }
    }
  }
  t_delivering = outer;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  return OpenAt(path, /*in_memory=*/false, options);
}

Result<std::unique_ptr<Store>> Store::OpenInMemory(const StoreOptions& options) {
  return OpenAt(":memory:", /*in_memory=*/true, options);
}

Result<std::unique_ptr<Store>> Store::OpenAt(const std::string& path, bool in_memory, const StoreOptions& options) {
  if (options.change_retention < 1) {
    return Status::InvalidArgument("store change_retention must be at least 1, not " +
                                   std::to_string(options.change_retention));
  }
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  if (!in_memory) {
    // Create the file ourselves, private: SQLite gives its -wal file the
    // database's mode, and specs may carry secrets in env. This also turns
    // an unusable path into a plain errno.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus(errno, path);
    ::close(fd);
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  // NOMUTEX: Impl::mu already serialises every use of the connection.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (in_memory) flags |= SQLITE_OPEN_MEMORY;
  int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) return SqlStatus(impl->db, rc, path, "open");
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, options.busy_timeout_ms);

  // Durability. In WAL mode a commit has appended its frames to the -wal file
  // with write(2) before it returns, so kill -9 of the process loses nothing
  // acknowledged even with synchronous=NORMAL: the data is in the kernel's
  // page cache, and the next open replays the WAL. What NORMAL gives up is an
  // OS crash or power loss, where the latest commits can roll back. FULL
  // fsyncs the WAL at every commit and closes that gap too; the state of
  // record is written at control-plane rates (apply, status), so the fsync is
  // affordable and is the default. Durability::kProcessCrash opts out.
  //
  // locking_mode=EXCLUSIVE (set before WAL is entered): the first write lock
  // is kept until close. A second ofn server on the same data directory then
  // fails to open instead of writing behind this one's cached version and
  // change feed; and SQLite keeps the WAL index in heap memory, no -shm file.
  const std::string pragmas =
      std::string("PRAGMA locking_mode = EXCLUSIVE;") + "PRAGMA journal_mode = WAL;" +
      (options.durability == Durability::kPowerLoss ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;") +
      "PRAGMA cache_size = -" + std::to_string(kCacheSizeKib) + ";" +
      "PRAGMA journal_size_limit = " + std::to_string(kJournalSizeLimit) + ";" + "PRAGMA temp_store = MEMORY;";
  if (Status s = ExecScript(impl->db, path, pragmas.c_str(), "open"); !s.ok()) return s;
  if (Status s = Migrate(impl->db, path); !s.ok()) return s;

  for (int i = 0; i < kNumStmts; ++i) {
    rc = sqlite3_prepare_v3(impl->db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &impl->stmts[i], nullptr);
    if (rc != SQLITE_OK) return SqlStatus(impl->db, rc, path, std::string("prepare \"") + kSql[i] + "\"");
  }
  auto v = impl->NewestVersion();
  if (!v.ok()) return v.status();
  impl->version.store(*v);
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<Object> Store::Put(Object desired, PutMode mode, std::optional<int64_t> expected_resource_version) {
  const std::string who = DisplayName(desired);
  if (desired.kind.empty()) return Status::InvalidArgument("object " + Quoted(desired.name) + " has no kind");
  if (desired.name.empty()) return Status::InvalidArgument(desired.kind + " has no name");
  auto spec = CanonicalJsonObject(desired.spec_json, "spec_json", who);
  if (!spec.ok()) return spec.status();
  auto status = CanonicalJsonObject(desired.status_json, "status_json", who);
  if (!status.ok()) return status.status();
  auto metadata = CanonicalJsonObject(desired.metadata_json, "metadata_json", who);
  if (!metadata.ok()) return metadata.status();
  desired.spec_json = std::move(*spec);
  desired.status_json = std::move(*status);
  desired.metadata_json = std::move(*metadata);

  Object out;
  Status s = impl_->Mutate(who, &out, [&](int64_t next) -> Result<std::optional<ChangeType>> {
    auto found = impl_->Find(desired.kind, desired.ns, desired.name);
    if (!found.ok()) return found.status();
    std::optional<Object>& existing = *found;
    if (existing.has_value() && mode == PutMode::kCreate) return Status::AlreadyExists(who + " already exists");
    if (expected_resource_version.has_value()) {
      const int64_t want = *expected_resource_version;
      const int64_t have = existing.has_value() ? existing->resource_version : 0;
      if (want != have) {
        if (!existing.has_value()) {
          return Status::FailedPrecondition(who + " does not exist (expected resource_version " +
                                            std::to_string(want) + ")");
        }
        return Status::FailedPrecondition(who + " has changed: resource_version is " + std::to_string(have) +
                                          (want == 0 ? ", expected it not to exist" : ", expected " +
                                                                                          std::to_string(want)));
      }
    }
    ChangeType type;
    if (!existing.has_value()) {
      out = std::move(desired);
      out.uid = NewUuid();
      out.generation = 1;
      out.created_at = NowRfc3339();
      type = ChangeType::kAdded;
    } else {
      const bool spec_changed = existing->spec_json != desired.spec_json;
      if (!spec_changed && existing->metadata_json == desired.metadata_json &&
          existing->api_version == desired.api_version) {
        out = std::move(*existing);  // nothing to write
        return std::optional<ChangeType>();
      }
      out = std::move(*existing);
      out.api_version = std::move(desired.api_version);
      out.spec_json = std::move(desired.spec_json);
      out.metadata_json = std::move(desired.metadata_json);
      if (spec_changed) ++out.generation;
      type = ChangeType::kModified;
    }
    out.resource_version = next;
    Use u(impl_->stmts[kUpsert]);
    u.BindObject(out);
    int rc = u.Step();
    if (rc != SQLITE_DONE) return impl_->Fail(rc, "write " + who);
    return std::optional<ChangeType>(type);
  });
  if (!s.ok()) return s;
  return out;
}

Result<Object> Store::Get(const std::string& kind, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto found = impl_->Find(kind, ns, name);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return Status::NotFound(DisplayName(kind, ns, name) + " not found");
  return std::move(**found);
}

Result<std::vector<Object>> Store::List(const std::string& kind, const std::string& ns, int64_t* as_of_version) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Use u(impl_->stmts[kList]);
  u.Bind(1, kind);
  u.Bind(2, ns);
  std::vector<Object> out;
  int rc;
  while ((rc = u.Step()) == SQLITE_ROW) out.push_back(u.ReadObject(0));
  if (rc != SQLITE_DONE) return impl_->Fail(rc, "list " + (kind.empty() ? std::string("objects") : kind));
  if (as_of_version != nullptr) *as_of_version = impl_->version.load();
  return out;
}

Status Store::UpdateStatus(const std::string& kind, const std::string& ns, const std::string& name,
                           const std::string& status_json, int64_t expected_generation) {
  const std::string who = DisplayName(kind, ns, name);
  auto status = CanonicalJsonObject(status_json, "status_json", who);
  if (!status.ok()) return status.status();
  Object out;
  return impl_->Mutate(who, &out, [&](int64_t next) -> Result<std::optional<ChangeType>> {
    auto found = impl_->Find(kind, ns, name);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return Status::NotFound(who + " not found");
    out = std::move(**found);
    if (expected_generation >= 0 && out.generation != expected_generation) {
      return Status::FailedPrecondition(who + " is at generation " + std::to_string(out.generation) +
                                        ", the status was computed for generation " +
                                        std::to_string(expected_generation));
    }
    // Writing the same status again would wake every watcher for nothing,
    // and a controller that watches its own writes would never settle.
    if (out.status_json == *status) return std::optional<ChangeType>();
    out.status_json = std::move(*status);
    out.resource_version = next;
    Use u(impl_->stmts[kUpsert]);
    u.BindObject(out);
    int rc = u.Step();
    if (rc != SQLITE_DONE) return impl_->Fail(rc, "write the status of " + who);
    return std::optional<ChangeType>(ChangeType::kModified);
  });
}

Result<Object> Store::Delete(const std::string& kind, const std::string& ns, const std::string& name) {
  const std::string who = DisplayName(kind, ns, name);
  Object out;
  Status s = impl_->Mutate(who, &out, [&](int64_t) -> Result<std::optional<ChangeType>> {
    auto found = impl_->Find(kind, ns, name);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return Status::NotFound(who + " not found");
    out = std::move(**found);
    Use u(impl_->stmts[kDelete]);
    u.Bind(1, kind);
    u.Bind(2, ns);
    u.Bind(3, name);
    int rc = u.Step();
    if (rc != SQLITE_DONE) return impl_->Fail(rc, "delete " + who);
    return std::optional<ChangeType>(ChangeType::kDeleted);
  });
  if (!s.ok()) return s;
  return out;
}

int64_t Store::CurrentVersion() const { return impl_->version.load(); }

Result<std::vector<Change>> Store::ChangesSince(int64_t since) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const int64_t current = impl_->version.load();
  if (since < 0) return Status::InvalidArgument("change feed version must not be negative: " + std::to_string(since));
  if (since > current) {
    return Status::FailedPrecondition("version " + std::to_string(since) + " is ahead of the store's change feed (at " +
                                      std::to_string(current) + "; a different or restored database): list again");
  }
  std::vector<Change> out;
  if (since == current) return out;
  {
    Use u(impl_->stmts[kOldestChange]);
    int rc = u.Step();
    if (rc != SQLITE_ROW) return impl_->Fail(rc, "read the change feed");
    const int64_t oldest = u.IsNull(0) ? current + 1 : u.Int(0);
    if (since < oldest - 1) {
      return Status::FailedPrecondition("changes after version " + std::to_string(since) +
                                        " were discarded (the feed keeps versions " + std::to_string(oldest) + " to " +
                                        std::to_string(current) + "): list again");
    }
  }
  Use u(impl_->stmts[kChangesSince]);
  u.Bind(1, since);
  int rc;
  while ((rc = u.Step()) == SQLITE_ROW) {
    out.push_back(Change{u.Int(0), ParseChangeType(u.Text(1)), u.ReadObject(2)});
  }
  if (rc != SQLITE_DONE) return impl_->Fail(rc, "read the change feed");
  return out;
}

uint64_t Store::Subscribe(Subscriber fn) {
  std::lock_guard<std::mutex> q(impl_->queue_mu);
  auto next = std::make_shared<Impl::Subscribers>(*impl_->subscribers);
  const uint64_t id = impl_->next_subscriber_id++;
  next->emplace_back(id, std::move(fn));
  impl_->subscribers = std::move(next);
  return id;
}

void Store::Unsubscribe(uint64_t id) {
  {
    std::lock_guard<std::mutex> q(impl_->queue_mu);
    auto next = std::make_shared<Impl::Subscribers>();
    for (const auto& entry : *impl_->subscribers) {
      if (entry.first != id) next->push_back(entry);
    }
    impl_->subscribers = std::move(next);
  }
  // A delivery in progress may hold the old list: wait for it to finish.
  if (t_delivering != impl_.get()) {
    std::lock_guard<std::mutex> d(impl_->deliver_mu);
  }
}

}  // namespace ofn::store

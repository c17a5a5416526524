#include "components/sqlite_pubsub.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/encoding.h"
#include "common/log.h"

namespace ofn::components {
namespace {

namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;

// A message's row id packs its topic and sequence number, so each topic's log
// is one contiguous rowid range: a publish appends to a single b-tree (no
// secondary index) and reads and trims are range scans.
constexpr int kSeqBits = 40;
constexpr int64_t kMaxSeq = (int64_t{1} << kSeqBits) - 1;
constexpr int64_t kMaxTopicId = (int64_t{1} << (63 - kSeqBits)) - 1;
int64_t RowId(int64_t topic_id, int64_t seq) { return (topic_id << kSeqBits) | seq; }
int64_t SeqOf(int64_t row_id) { return row_id & kMaxSeq; }

// Rows deleted per trim step, so a big trim never holds the bus for long.
constexpr int64_t kTrimChunk = 4096;

enum Stmt {
  kBegin,
  kCommit,
  kRollback,
  kInsertMessage,
  kReadRange,
  kDeleteRange,
  kRetentionEnd,
  kInsertTopic,
  kSaveLastSeq,
  kInsertGroup,
  kSaveCursor,
  kInsertAcked,
  kDeleteAcked,
  kNumStmts
};

const char* const kSql[kNumStmts] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO messages(id, published_ms, data, metadata) VALUES(?1, ?2, ?3, ?4)",
    "SELECT id, data, metadata FROM messages WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    "DELETE FROM messages WHERE id BETWEEN ?1 AND ?2",
    // The last of the oldest ?3 messages published before ?4 (publish times
    // grow with the sequence, so everything up to it is older too).
    "SELECT max(id) FROM (SELECT id, published_ms FROM messages WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT ?3) "
    "WHERE published_ms < ?4",
    "INSERT INTO topics(name, last_seq) VALUES(?1, 0)",
    "UPDATE topics SET last_seq = ?2 WHERE id = ?1",
    "INSERT INTO consumer_groups(topic_id, name, cursor) VALUES(?1, ?2, ?3)",
    "UPDATE consumer_groups SET cursor = ?2 WHERE id = ?1",
    "INSERT OR IGNORE INTO acked(group_id, seq) VALUES(?1, ?2)",
    "DELETE FROM acked WHERE group_id = ?1 AND seq <= ?2",
};

// topics.last_seq is saved only before a trim, since the log's newest row
// otherwise tells the last sequence number.
const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, last_seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, published_ms INTEGER NOT NULL, data BLOB NOT NULL,"
    " metadata TEXT);"
    "CREATE TABLE IF NOT EXISTS consumer_groups(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, name TEXT NOT NULL,"
    " cursor INTEGER NOT NULL, UNIQUE(topic_id, name));"
    "CREATE TABLE IF NOT EXISTS acked(group_id INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(group_id, seq))"
    " WITHOUT ROWID;";

int64_t NowMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Resets a statement when the scope ends so it never holds a read lock.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

void Bind(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
void Bind(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string Text(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

std::map<std::string, std::string> ParseMetadata(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

struct BusOptions {
  bool sync_full = false;
  int64_t max_len = 0;            // 0: unlimited
  Millis retention{24 * 3600'000};  // 0: no time limit
};

struct Topic;

struct Group {
  int64_t id = 0;
  Topic* topic = nullptr;
  int64_t cursor = 0;          // every seq <= cursor is done
  std::set<int64_t> done;      // acked past the cursor (out of order)
  bool acked_rows = false;     // table `acked` may hold rows of this group
  std::set<int64_t> retry;     // answered kRetry: handed out again before fresh ones
  int64_t next_fresh = 1;      // lowest seq not handed out since the bus opened
  std::condition_variable cv;  // new messages, acks, stop
};

struct Topic {
  int64_t id = 0;
  std::string name;
  int64_t first_seq = 1;  // oldest retained; last_seq + 1 when the log is empty
  int64_t last_seq = 0;
  int64_t last_ms = 0;  // publish times never go backwards within a topic
  std::map<std::string, std::unique_ptr<Group>> groups;
};

class Bus;

// One subscription's share of its group; kept alive by every Ack it handed out.
struct Reader {
  std::shared_ptr<Bus> bus;
  Group* group = nullptr;
  size_t max_in_flight = 1;
  size_t handed_out = 0;  // guarded by the bus mutex, like `stop`
  bool stop = false;
};

struct Pending {
  int64_t seq;
  Message message;
};

// All state of one pubsub.db file in this process. Every member is guarded
// by mu_; the maintenance thread is joined by the destructor.
class Bus {
 public:
  // The process-wide bus of `path`, opened on first use.
  static Result<std::shared_ptr<Bus>> Acquire(const std::string& path, const BusOptions& options);
  ~Bus();

  Status Publish(const std::string& topic, std::string_view data, const std::string& metadata_json);
  // A new group starts at the oldest retained message, or after the newest with `newest`.
  Result<Group*> JoinGroup(const std::string& topic, const std::string& group, bool newest);
  // Blocks until the reader may take messages; false once it is stopped.
  bool NextBatch(Reader& reader, std::vector<Pending>& out);
  void Ack(Reader& reader, int64_t seq, Outcome outcome);
  void Stop(Reader& reader);
  int64_t Backlog(const Group& group);

 private:
  explicit Bus(std::string path) : path_(std::move(path)) {}
  static Result<std::unique_ptr<Bus>> Open(const std::string& path, const BusOptions& options);
  Status Configure(const BusOptions& options);
  Status Load();
  Status SqlError(std::string_view what) const {
    return Status::Internal("pubsub.ofn " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }
  template <typename... Args>
  Status Exec(Stmt which, std::string_view what, Args... args);
  template <typename Fn>
  Status InTransaction(Fn&& fn);

  Result<Topic*> TopicFor(const std::string& name);
  Status LoadMessages(Group& g, const std::vector<int64_t>& seqs, std::vector<Pending>& out);
  std::vector<int64_t> Claim(Group& g, size_t n);
  bool HasWork(Group& g);
  Status MarkDone(Group& g, int64_t seq);
  void Normalize(Topic& t);
  void MaintenanceLoop();
  Result<bool> TrimStep(Topic& t);

  const std::string path_;
  int lock_fd_ = -1;
  std::mutex mu_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmts_[kNumStmts] = {};
  int wal_frames_ = 0;  // frames in the WAL after the last commit
  BusOptions options_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  bool stopping_ = false;
  std::condition_variable trim_cv_;
  std::thread maintenance_;
};

// Open buses by path. An entry whose bus is being destroyed stays until the
// file is closed, so a new Acquire waits instead of tripping over the lock.
// Never destroyed, so a bus released during exit still finds it.
struct OpenBuses {
  std::mutex mu;
  std::condition_variable closed;
  std::map<std::string, std::weak_ptr<Bus>> by_path;
};
OpenBuses& Buses() {
  static auto* buses = new OpenBuses;
  return *buses;
}

Result<std::shared_ptr<Bus>> Bus::Acquire(const std::string& path, const BusOptions& options) {
  OpenBuses& buses = Buses();
  std::shared_ptr<Bus> bus;
  {
    std::unique_lock lock(buses.mu);
    buses.closed.wait(lock, [&] {
      auto it = buses.by_path.find(path);
      return it == buses.by_path.end() || !it->second.expired();
    });
    if (auto it = buses.by_path.find(path); it != buses.by_path.end()) {
      bus = it->second.lock();  // released outside the lock: its deleter takes the lock
    } else {
      auto opened = Open(path, options);
      if (!opened.ok()) return opened.status();
      bus = std::shared_ptr<Bus>(opened->release(), [path, &buses](Bus* b) {
        delete b;
        std::lock_guard l(buses.mu);
        buses.by_path.erase(path);
        buses.closed.notify_all();
      });
      buses.by_path[path] = bus;
      return bus;
    }
  }
  // Another component on the same file: the latest settings apply to it.
  if (Status s = bus->Configure(options); !s.ok()) return s;
  return bus;
}

Result<std::unique_ptr<Bus>> Bus::Open(const std::string& path, const BusOptions& options) {
  std::unique_ptr<Bus> bus(new Bus(path));
  // Create the file ourselves so it (and the WAL, which copies its mode) is private.
  bus->lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (bus->lock_fd_ < 0) return Status::Unavailable("pubsub.ofn " + path + ": " + std::strerror(errno));
  // The in-memory state (in-flight messages, wake-ups) is per process, so
  // two processes on one file would deliver twice; the kernel drops this
  // lock when the holder dies, kill -9 included.
  if (::flock(bus->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::Unavailable("pubsub.ofn " + path + " is in use by another process");
  }
  // NOMUTEX: Bus::mu_ serialises the connection.
  if (int rc = sqlite3_open_v2(path.c_str(), &bus->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
      rc != SQLITE_OK) {
    return bus->db_ != nullptr ? bus->SqlError("open") : Status::Internal("pubsub.ofn " + path + ": open failed");
  }
  sqlite3_busy_timeout(bus->db_, 5000);
  char* err = nullptr;
  // EXCLUSIVE: the bus is the file's only user, so SQLite may keep its WAL
  // index in memory and skip the file locks of every transaction (this halves
  // the CPU per message). Checkpoints are left to the maintenance thread,
  // which picks quiet moments for them.
  std::string script = std::string(
                           "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;"
                           "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;") +
                       (options.sync_full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;") + kSchema;
  if (sqlite3_exec(bus->db_, script.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status s = Status::Internal("pubsub.ofn " + path + ": " + (err != nullptr ? err : "schema"));
    sqlite3_free(err);
    return s;
  }
  for (int i = 0; i < kNumStmts; ++i) {
    if (sqlite3_prepare_v3(bus->db_, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &bus->stmts_[i], nullptr) != SQLITE_OK) {
      return bus->SqlError(std::string("prepare ") + kSql[i]);
    }
  }
  bus->options_ = options;
  sqlite3_wal_hook(
      bus->db_,
      [](void* arg, sqlite3*, const char*, int frames) {
        static_cast<Bus*>(arg)->wal_frames_ = frames;  // the committing thread holds mu_
        return SQLITE_OK;
      },
      bus.get());
  if (Status s = bus->Load(); !s.ok()) return s;
  bus->maintenance_ = std::thread([b = bus.get()] { b->MaintenanceLoop(); });
  return bus;
}

Bus::~Bus() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  trim_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  for (auto* s : stmts_) sqlite3_finalize(s);
  sqlite3_close(db_);  // checkpoints and removes the WAL
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Bus::Configure(const BusOptions& options) {
  std::lock_guard lock(mu_);
  const char* pragma = options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  if (sqlite3_exec(db_, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(pragma);
  options_ = options;
  trim_cv_.notify_all();  // the maintenance interval follows the retention
  return Status::Ok();
}

template <typename... Args>
Status Bus::Exec(Stmt which, std::string_view what, Args... args) {
  sqlite3_stmt* s = stmts_[which];
  Reset r{s};
  [[maybe_unused]] int i = 0;
  (Bind(s, ++i, args), ...);
  if (int rc = sqlite3_step(s); rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(what);
  return Status::Ok();
}

template <typename Fn>
Status Bus::InTransaction(Fn&& fn) {
  if (Status s = Exec(kBegin, "begin"); !s.ok()) return s;
  Status result = fn();
  if (result.ok()) result = Exec(kCommit, "commit");
  if (!result.ok()) (void)Exec(kRollback, "rollback");  // the status that matters is `result`
  return result;
}

// Reads every topic, group and out-of-order ack into memory.
Status Bus::Load() {
  std::lock_guard lock(mu_);
  auto query = [&](const char* sql, auto&& row) -> Status {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return SqlError(sql);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? Status::Ok() : SqlError(sql);
  };
  std::map<int64_t, Topic*> topic_by_id;
  std::map<int64_t, Group*> group_by_id;
  Status s = query("SELECT id, name, last_seq FROM topics", [&](sqlite3_stmt* st) {
    auto t = std::make_unique<Topic>();
    t->id = sqlite3_column_int64(st, 0);
    t->name = Text(st, 1);
    t->last_seq = sqlite3_column_int64(st, 2);
    topic_by_id[t->id] = t.get();
    topics_[t->name] = std::move(t);
  });
  if (!s.ok()) return s;
  for (auto& entry : topic_by_id) {
    // Not a structured binding: lambdas below capture `t` (clang 14 refuses that).
    const int64_t id = entry.first;
    Topic* t = entry.second;
    const std::string range = std::to_string(RowId(id, 0)) + " AND " + std::to_string(RowId(id, kMaxSeq));
    int64_t first = 0;
    s = query(("SELECT id FROM messages WHERE id BETWEEN " + range + " ORDER BY id LIMIT 1").c_str(),
              [&](sqlite3_stmt* st) { first = SeqOf(sqlite3_column_int64(st, 0)); });
    if (!s.ok()) return s;
    s = query(("SELECT id, published_ms FROM messages WHERE id BETWEEN " + range + " ORDER BY id DESC LIMIT 1").c_str(),
              [&](sqlite3_stmt* st) {
                t->last_seq = std::max(t->last_seq, SeqOf(sqlite3_column_int64(st, 0)));
                t->last_ms = sqlite3_column_int64(st, 1);
              });
    if (!s.ok()) return s;
    t->first_seq = first != 0 ? first : t->last_seq + 1;
  }
  s = query("SELECT id, topic_id, name, cursor FROM consumer_groups", [&](sqlite3_stmt* st) {
    auto it = topic_by_id.find(sqlite3_column_int64(st, 1));
    if (it == topic_by_id.end()) return;
    auto g = std::make_unique<Group>();
    g->id = sqlite3_column_int64(st, 0);
    g->topic = it->second;
    g->cursor = sqlite3_column_int64(st, 3);
    group_by_id[g->id] = g.get();
    it->second->groups[Text(st, 2)] = std::move(g);
  });
  if (!s.ok()) return s;
  s = query("SELECT group_id, seq FROM acked", [&](sqlite3_stmt* st) {
    auto it = group_by_id.find(sqlite3_column_int64(st, 0));
    if (it == group_by_id.end()) return;
    it->second->done.insert(sqlite3_column_int64(st, 1));
    it->second->acked_rows = true;
  });
  for (auto& [name, t] : topics_) Normalize(*t);
  return s;
}

// Moves the cursor over the acks that became contiguous with it.
void Advance(Group& g) {
  g.done.erase(g.done.begin(), g.done.upper_bound(g.cursor));
  while (!g.done.empty() && *g.done.begin() == g.cursor + 1) {
    ++g.cursor;
    g.done.erase(g.done.begin());
  }
}

// After a trim: what is gone counts as done for every group.
void Bus::Normalize(Topic& t) {
  for (auto& [name, g] : t.groups) {
    g->cursor = std::max(g->cursor, t.first_seq - 1);
    Advance(*g);
  }
}

Result<Topic*> Bus::TopicFor(const std::string& name) {
  if (auto it = topics_.find(name); it != topics_.end()) return it->second.get();
  if (Status s = Exec(kInsertTopic, "create topic " + name, std::string_view(name)); !s.ok()) return s;
  auto t = std::make_unique<Topic>();
  t->id = sqlite3_last_insert_rowid(db_);
  if (t->id > kMaxTopicId) return Status::ResourceExhausted("pubsub.ofn " + path_ + ": too many topics");
  t->name = name;
  Topic* raw = t.get();
  topics_[name] = std::move(t);
  return raw;
}

Status Bus::Publish(const std::string& topic, std::string_view data, const std::string& metadata_json) {
  std::lock_guard lock(mu_);
  auto found = TopicFor(topic);
  if (!found.ok()) return found.status();
  Topic& t = **found;
  const int64_t seq = t.last_seq + 1;
  if (seq > kMaxSeq) return Status::ResourceExhausted("pubsub.ofn topic " + topic + ": sequence numbers exhausted");
  const int64_t ms = std::max(NowMs(), t.last_ms);
  const int64_t drop_to = options_.max_len > 0 ? seq - options_.max_len : 0;  // maxLen: trim as we append
  Status s = InTransaction([&] {
    sqlite3_stmt* st = stmts_[kInsertMessage];
    Reset r{st};
    sqlite3_bind_int64(st, 1, RowId(t.id, seq));
    sqlite3_bind_int64(st, 2, ms);
    sqlite3_bind_blob(st, 3, data.empty() ? "" : data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
    if (!metadata_json.empty()) Bind(st, 4, std::string_view(metadata_json));
    if (sqlite3_step(st) != SQLITE_DONE) return SqlError("publish to " + topic);
    if (drop_to < t.first_seq) return Status::Ok();
    return Exec(kDeleteRange, "trim " + topic, RowId(t.id, t.first_seq), RowId(t.id, drop_to));
  });
  if (!s.ok()) return s;
  t.last_seq = seq;
  t.last_ms = ms;
  if (drop_to >= t.first_seq) {
    t.first_seq = drop_to + 1;
    Normalize(t);
  }
  for (auto& [name, g] : t.groups) g->cv.notify_all();
  return Status::Ok();
}

Result<Group*> Bus::JoinGroup(const std::string& topic, const std::string& group, bool newest) {
  std::lock_guard lock(mu_);
  auto found = TopicFor(topic);
  if (!found.ok()) return found.status();
  Topic& t = **found;
  if (auto it = t.groups.find(group); it != t.groups.end()) return it->second.get();
  // Like XGROUP CREATE ... 0 (or $ with `newest`).
  const int64_t cursor = newest ? t.last_seq : t.first_seq - 1;
  if (Status s = Exec(kInsertGroup, "create group " + group, t.id, std::string_view(group), cursor); !s.ok()) {
    return s;
  }
  auto g = std::make_unique<Group>();
  g->id = sqlite3_last_insert_rowid(db_);
  g->topic = &t;
  g->cursor = cursor;
  Group* raw = g.get();
  t.groups[group] = std::move(g);
  return raw;
}

bool Bus::HasWork(Group& g) {
  if (!g.retry.empty()) return true;
  g.next_fresh = std::max({g.next_fresh, g.cursor + 1, g.topic->first_seq});
  while (g.done.count(g.next_fresh) != 0) ++g.next_fresh;
  return g.next_fresh <= g.topic->last_seq;
}

// Takes up to n sequence numbers to hand out, ascending: retries first (they
// are older than any fresh one), so max_in_flight 1 keeps the log's order.
std::vector<int64_t> Bus::Claim(Group& g, size_t n) {
  std::vector<int64_t> seqs;
  while (seqs.size() < n && !g.retry.empty()) {
    const int64_t seq = *g.retry.begin();
    g.retry.erase(g.retry.begin());
    if (seq > g.cursor) seqs.push_back(seq);  // otherwise trimmed meanwhile
  }
  while (seqs.size() < n && HasWork(g)) seqs.push_back(g.next_fresh++);
  return seqs;
}

Status Bus::LoadMessages(Group& g, const std::vector<int64_t>& seqs, std::vector<Pending>& out) {
  sqlite3_stmt* st = stmts_[kReadRange];
  // One range read per run of consecutive numbers.
  for (size_t i = 0; i < seqs.size();) {
    size_t j = i + 1;
    while (j < seqs.size() && seqs[j] == seqs[j - 1] + 1) ++j;
    Reset r{st};
    sqlite3_bind_int64(st, 1, RowId(g.topic->id, seqs[i]));
    sqlite3_bind_int64(st, 2, RowId(g.topic->id, seqs[j - 1]));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Pending p{SeqOf(sqlite3_column_int64(st, 0)), {}};
      p.message.topic = g.topic->name;
      const void* blob = sqlite3_column_blob(st, 1);
      if (blob != nullptr) {
        p.message.data.assign(static_cast<const char*>(blob), static_cast<size_t>(sqlite3_column_bytes(st, 1)));
      }
      p.message.metadata = ParseMetadata(Text(st, 2));
      out.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE) return SqlError("read " + g.topic->name);
    i = j;
  }
  return Status::Ok();
}

bool Bus::NextBatch(Reader& reader, std::vector<Pending>& out) {
  std::unique_lock lock(mu_);
  Group& g = *reader.group;
  for (;;) {
    g.cv.wait(lock, [&] { return reader.stop || (reader.handed_out < reader.max_in_flight && HasWork(g)); });
    if (reader.stop) return false;
    std::vector<int64_t> seqs = Claim(g, reader.max_in_flight - reader.handed_out);
    out.clear();
    if (Status s = LoadMessages(g, seqs, out); !s.ok()) {
      g.retry.insert(seqs.begin(), seqs.end());
      log::Warn("pubsub.ofn: read failed, retrying in 1s", {{"error", s.message()}});
      g.cv.wait_for(lock, std::chrono::seconds(1), [&] { return reader.stop; });
      continue;
    }
    // A claimed number without a row cannot be delivered: count it as done.
    for (size_t i = 0, k = 0; i < seqs.size(); ++i) {
      if (k < out.size() && out[k].seq == seqs[i]) {
        ++k;
      } else if (Status s = MarkDone(g, seqs[i]); !s.ok()) {
        log::Warn("pubsub.ofn: ack failed", {{"error", s.message()}});
      }
    }
    reader.handed_out += out.size();
    if (!out.empty()) return true;
  }
}

Status Bus::MarkDone(Group& g, int64_t seq) {
  if (seq <= g.cursor || !g.done.insert(seq).second) return Status::Ok();
  if (seq != g.cursor + 1) {
    g.acked_rows = true;
    return Exec(kInsertAcked, "ack", g.id, seq);
  }
  Advance(g);
  Status s = Exec(kSaveCursor, "ack", g.id, g.cursor);
  if (s.ok() && g.acked_rows) {
    s = Exec(kDeleteAcked, "ack", g.id, g.cursor);
    g.acked_rows = !g.done.empty();
  }
  return s;
}

void Bus::Ack(Reader& reader, int64_t seq, Outcome outcome) {
  std::lock_guard lock(mu_);
  Group& g = *reader.group;
  --reader.handed_out;
  if (outcome == Outcome::kRetry) {
    g.retry.insert(seq);
  } else if (Status s = MarkDone(g, seq); !s.ok()) {
    // Not fatal: the message comes again after a restart (at-least-once).
    log::Warn("pubsub.ofn: ack failed", {{"topic", g.topic->name}, {"error", s.message()}});
  }
  g.cv.notify_all();
}

void Bus::Stop(Reader& reader) {
  std::lock_guard lock(mu_);
  reader.stop = true;
  reader.group->cv.notify_all();
}

int64_t Bus::Backlog(const Group& g) {
  std::lock_guard lock(mu_);
  return g.topic->last_seq - g.cursor - static_cast<int64_t>(g.done.size());
}

// Trims every topic every quarter of the retention (at most 250ms apart, so
// acked messages go soon) and checkpoints the WAL. A checkpoint costs two
// fsyncs with the bus locked, so it runs once the WAL has stopped growing for
// a while (nobody is waiting then) or has grown large.
void Bus::MaintenanceLoop() {
  constexpr Millis kCheckpointInterval(250);
  constexpr int kLargeWalFrames = 8192;  // 32 MiB of 4 KiB pages
  auto last_check = std::chrono::steady_clock::now();
  int frames_at_last_check = 0;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const Millis interval = options_.retention.count() > 0
                                ? std::clamp(options_.retention / 4, Millis(10), kCheckpointInterval)
                                : kCheckpointInterval;
    trim_cv_.wait_for(lock, interval, [&] { return stopping_; });
    for (auto it = topics_.begin(); it != topics_.end() && !stopping_; ++it) {
      for (;;) {
        auto more = TrimStep(*it->second);
        if (!more.ok()) log::Warn("pubsub.ofn: trim failed", {{"error", more.status().message()}});
        if (!more.ok() || !*more) break;
        lock.unlock();  // let publishers in between chunks
        lock.lock();
      }
    }
    if (stopping_ || std::chrono::steady_clock::now() - last_check < kCheckpointInterval) continue;
    last_check = std::chrono::steady_clock::now();
    const bool idle = wal_frames_ == frames_at_last_check;
    frames_at_last_check = wal_frames_;
    if (wal_frames_ == 0 || (!idle && wal_frames_ < kLargeWalFrames)) continue;
    int log_frames = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied) != SQLITE_OK) {
      log::Warn("pubsub.ofn: checkpoint failed", {{"path", path_}, {"error", sqlite3_errmsg(db_)}});
    } else if (copied == log_frames) {
      wal_frames_ = frames_at_last_check = 0;  // the next commit starts the WAL over
    }
  }
}

// Drops one chunk of the oldest messages that every group has acked, that
// are older than the retention or that exceed maxLen. True if more may remain.
Result<bool> Bus::TrimStep(Topic& t) {
  if (t.first_seq > t.last_seq) return false;
  int64_t upto = t.first_seq - 1;
  if (!t.groups.empty()) {
    int64_t all_acked = t.last_seq;
    for (const auto& [name, g] : t.groups) all_acked = std::min(all_acked, g->cursor);
    upto = std::max(upto, all_acked);
  }
  if (options_.max_len > 0) upto = std::max(upto, t.last_seq - options_.max_len);
  if (options_.retention.count() > 0) {
    sqlite3_stmt* st = stmts_[kRetentionEnd];
    Reset r{st};
    sqlite3_bind_int64(st, 1, RowId(t.id, t.first_seq));
    sqlite3_bind_int64(st, 2, RowId(t.id, t.last_seq));
    sqlite3_bind_int64(st, 3, kTrimChunk);
    sqlite3_bind_int64(st, 4, NowMs() - options_.retention.count());
    if (sqlite3_step(st) != SQLITE_ROW) return SqlError("trim " + t.name);
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) upto = std::max(upto, SeqOf(sqlite3_column_int64(st, 0)));
  }
  const int64_t chunk_end = t.first_seq + kTrimChunk - 1;
  upto = std::min(upto, chunk_end);
  if (upto < t.first_seq) return false;
  Status s = InTransaction([&] {
    // Remember the sequence in case the log becomes empty.
    if (Status saved = Exec(kSaveLastSeq, "trim " + t.name, t.id, t.last_seq); !saved.ok()) return saved;
    return Exec(kDeleteRange, "trim " + t.name, RowId(t.id, t.first_seq), RowId(t.id, upto));
  });
  if (!s.ok()) return s;
  t.first_seq = upto + 1;
  Normalize(t);
  return upto == chunk_end;
}

// Answers kRetry for an Ack destroyed without being called, so a lost
// callback cannot hold a message in flight forever; ignores repeat calls.
class AckOnce {
 public:
  AckOnce(std::shared_ptr<Reader> reader, int64_t seq) : reader_(std::move(reader)), seq_(seq) {}
  AckOnce(const AckOnce&) = delete;
  AckOnce& operator=(const AckOnce&) = delete;
  ~AckOnce() { Answer(Outcome::kRetry); }
  void Answer(Outcome outcome) {
    if (!answered_.exchange(true)) reader_->bus->Ack(*reader_, seq_, outcome);
  }

 private:
  std::shared_ptr<Reader> reader_;
  int64_t seq_;
  std::atomic<bool> answered_{false};
};

class EmbeddedSubscription final : public Subscription {
 public:
  EmbeddedSubscription(std::shared_ptr<Reader> reader, MessageHandler handler)
      : reader_(std::move(reader)), handler_(std::move(handler)), thread_([this] { Run(); }) {}
  ~EmbeddedSubscription() override {
    reader_->bus->Stop(*reader_);
    thread_.join();
  }
  Result<int64_t> Backlog() override { return reader_->bus->Backlog(*reader_->group); }

 private:
  void Run() {
    std::vector<Pending> batch;
    while (reader_->bus->NextBatch(*reader_, batch)) {
      for (auto& p : batch) {
        auto once = std::make_shared<AckOnce>(reader_, p.seq);
        handler_(std::move(p.message), [once](Outcome outcome) { once->Answer(outcome); });
      }
    }
  }

  std::shared_ptr<Reader> reader_;
  MessageHandler handler_;
  std::thread thread_;  // last: starts once the members it uses exist
};

std::optional<std::string> FindCaseInsensitive(const std::map<std::string, std::string>& m, std::string_view key) {
  for (const auto& [k, v] : m) {
    if (!CaseInsensitiveLess()(k, key) && !CaseInsensitiveLess()(key, k)) return v;
  }
  return std::nullopt;
}

class EmbeddedPubSub final : public PubSub {
 public:
  EmbeddedPubSub(std::string describe, std::string consumer_id, std::string initial_offset, std::shared_ptr<Bus> bus)
      : describe_(std::move(describe)),
        consumer_id_(std::move(consumer_id)),
        initial_offset_(std::move(initial_offset)),
        bus_(std::move(bus)) {}

  Status Publish(const PublishRequest& request) override {
    if (request.topic.empty()) return Status::InvalidArgument(describe_ + ": topic is empty");
    const std::string metadata = request.metadata.empty() ? "" : nlohmann::json(request.metadata).dump();
    return Named(bus_->Publish(request.topic, request.data, metadata));
  }

  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeRequest& request, MessageHandler handler) override {
    if (request.topic.empty()) return Status::InvalidArgument(describe_ + ": topic is empty");
    const std::string group = FindCaseInsensitive(request.metadata, "consumerID").value_or(consumer_id_);
    if (group.empty()) {
      return Status::InvalidArgument(describe_ + ": metadata consumerID is empty and there is no app id to default to");
    }
    // initialOffset (Dapr's Kafka key), per subscription or per component: where a new group starts.
    std::string offset = enc::ToLower(FindCaseInsensitive(request.metadata, "initialOffset").value_or(initial_offset_));
    if (offset != "oldest" && offset != "newest") {
      return Status::InvalidArgument(describe_ + ": metadata initialOffset: \"" + offset + "\" is not oldest or newest");
    }
    auto joined = bus_->JoinGroup(request.topic, group, offset == "newest");
    if (!joined.ok()) return Named(joined.status());
    auto reader = std::make_shared<Reader>();
    reader->bus = bus_;
    reader->group = *joined;
    reader->max_in_flight = std::max<size_t>(1, request.max_in_flight);
    return std::unique_ptr<Subscription>(new EmbeddedSubscription(std::move(reader), std::move(handler)));
  }

 private:
  Status Named(Status s) const { return s.ok() ? s : Status(s.code(), describe_ + ": " + s.message()); }

  std::string describe_;
  std::string consumer_id_;
  std::string initial_offset_;
  std::shared_ptr<Bus> bus_;
};

Result<BusOptions> ParseOptions(const Metadata& metadata) {
  BusOptions o;
  auto max_len = metadata.GetInt("maxLen", 0);
  if (!max_len.ok()) return max_len.status();
  if (*max_len < 0) return Status::InvalidArgument("metadata maxLen: must not be negative");
  o.max_len = *max_len;
  auto retention = metadata.GetDuration("retention", o.retention);
  if (!retention.ok()) return retention.status();
  if (retention->count() < 0) return Status::InvalidArgument("metadata retention: must not be negative");
  o.retention = *retention;
  const std::string sync = enc::ToLower(metadata.GetOr("sync", "normal"));
  if (sync != "normal" && sync != "full") {
    return Status::InvalidArgument("metadata sync: \"" + sync + "\" is not normal or full");
  }
  o.sync_full = sync == "full";
  return o;
}

Result<Component> CreateEmbeddedPubSub(const ComponentSpec& spec) {
  auto options = ParseOptions(spec.metadata);
  if (!options.ok()) return options.status();
  if (spec.data_dir.empty()) return Status::InvalidArgument("no data directory to keep pubsub.db in");
  std::error_code ec;
  if (fs::create_directories(spec.data_dir, ec)) fs::permissions(spec.data_dir, fs::perms::owner_all, ec);
  // One bus per file, whatever path leads to it.
  const fs::path dir = fs::canonical(spec.data_dir, ec);
  if (ec) return Status::Unavailable("data directory " + spec.data_dir + ": " + ec.message());
  auto bus = Bus::Acquire((dir / "pubsub.db").string(), *options);
  if (!bus.ok()) return bus.status();
  Component c;
  c.pubsub = std::make_shared<EmbeddedPubSub>(spec.Describe(), spec.metadata.GetOr("consumerID", spec.app_id),
                                              enc::ToLower(spec.metadata.GetOr("initialOffset", "oldest")),
                                              std::move(*bus));
  return c;
}

}  // namespace

void RegisterEmbeddedPubSub(Registry& registry) {
  registry.Add(std::string(kEmbeddedPubSubType), CreateEmbeddedPubSub);
}

}  // namespace ofn::components

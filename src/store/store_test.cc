#include "store/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include "support/process.h"  // TempDir

namespace ofn::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using ofn::testing::TempDir;

Object Fn(const std::string& name, const std::string& spec = R"({"image":"hello"})",
          const std::string& ns = "default") {
  Object o;
  o.api_version = "core.openfunction.io/v1beta2";
  o.kind = "Function";
  o.ns = ns;
  o.name = name;
  o.spec_json = spec;
  return o;
}

std::unique_ptr<Store> MustOpen(const std::string& path, const StoreOptions& options = {}) {
  auto s = Store::Open(path, options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::unique_ptr<Store> MustOpenInMemory(const StoreOptions& options = {}) {
  auto s = Store::OpenInMemory(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::vector<std::string> Keys(const std::vector<Object>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.kind + "/" + o.ns + "/" + o.name);
  return out;
}

// What `sqlite3 FILE 'PRAGMA integrity_check'` says, read with a connection
// of our own so that the store's code is not the judge of itself.
std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string err = db != nullptr ? sqlite3_errmsg(db) : "open failed";
    sqlite3_close(db);
    return err;
  }
  std::string out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  } else {
    out = sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

void ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// ---------------------------------------------------------------------------
// Basic operations

TEST(Store, CreateGetListDelete) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->CurrentVersion(), 0);

  Object in = Fn("hello", R"({ "image": "hello",  "port": 8080 })");
  in.metadata_json = R"({"labels":{"app":"hello"}})";
  in.uid = "ignored";
  in.generation = 42;
  auto created = store->Put(in, PutMode::kCreate);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(std::regex_match(created->uid,
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << created->uid;
  EXPECT_EQ(created->generation, 1);
  EXPECT_EQ(created->resource_version, 1);
  EXPECT_EQ(created->spec_json, R"({"image":"hello","port":8080})");  // canonical
  EXPECT_EQ(created->status_json, "{}");
  EXPECT_EQ(created->metadata_json, R"({"labels":{"app":"hello"}})");
  EXPECT_TRUE(std::regex_match(created->created_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << created->created_at;
  EXPECT_EQ(store->CurrentVersion(), 1);

  auto got = store->Get("Function", "default", "hello");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->uid, created->uid);
  EXPECT_EQ(got->api_version, "core.openfunction.io/v1beta2");
  EXPECT_EQ(got->spec_json, created->spec_json);
  EXPECT_EQ(got->created_at, created->created_at);

  auto again = store->Put(Fn("hello"), PutMode::kCreate);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), R"(Function "default/hello" already exists)");
  EXPECT_EQ(store->CurrentVersion(), 1);

  // A second uid differs from the first.
  auto other = store->Put(Fn("other"), PutMode::kCreate);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->uid, created->uid);

  auto deleted = store->Delete("Function", "default", "hello");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->uid, created->uid);
  EXPECT_EQ(deleted->spec_json, created->spec_json);
  auto gone = store->Get("Function", "default", "hello");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), R"(Function "default/hello" not found)");
  auto twice = store->Delete("Function", "default", "hello");
  EXPECT_EQ(twice.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->CurrentVersion(), 3);

  // Created again: a new object, with a new uid and generation 1.
  auto reborn = store->Put(Fn("hello", R"({"image":"v2"})"), PutMode::kCreate);
  ASSERT_TRUE(reborn.ok());
  EXPECT_NE(reborn->uid, created->uid);
  EXPECT_EQ(reborn->generation, 1);
}

TEST(Store, ListFiltersAndOrdersByKindNamespaceName) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  Object gw;
  gw.api_version = "networking.openfunction.io/v1alpha1";
  gw.kind = "Gateway";
  gw.ns = "ofn";
  gw.name = "gateway";
  for (const Object& o : {Fn("zeta", "{}", "b"), Fn("beta", "{}", "a"), gw, Fn("alpha", "{}", "b"),
                          Fn("alpha", "{}", "a")}) {
    ASSERT_TRUE(store->Put(o, PutMode::kApply).ok());
  }
  Object cluster;
  cluster.kind = "ClusterEventBus";
  cluster.name = "default";
  ASSERT_TRUE(store->Put(cluster, PutMode::kApply).ok());

  auto all = store->List();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"ClusterEventBus//default", "Function/a/alpha", "Function/a/beta",
                                                   "Function/b/alpha", "Function/b/zeta", "Gateway/ofn/gateway"}));
  EXPECT_EQ(Keys(*store->List("Function")),
            (std::vector<std::string>{"Function/a/alpha", "Function/a/beta", "Function/b/alpha", "Function/b/zeta"}));
  EXPECT_EQ(Keys(*store->List("", "b")), (std::vector<std::string>{"Function/b/alpha", "Function/b/zeta"}));
  EXPECT_EQ(Keys(*store->List("Function", "a")), (std::vector<std::string>{"Function/a/alpha", "Function/a/beta"}));
  EXPECT_TRUE(store->List("EventSource")->empty());

  int64_t as_of = -1;
  ASSERT_TRUE(store->List("", "", &as_of).ok());
  EXPECT_EQ(as_of, 6);

  auto missing = store->Get("ClusterEventBus", "", "nope");
  EXPECT_EQ(missing.status().message(), R"(ClusterEventBus "nope" not found)");
}

TEST(Store, RejectsMalformedObjectsNamingThem) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  Object no_kind = Fn("x");
  no_kind.kind = "";
  EXPECT_EQ(store->Put(no_kind, PutMode::kApply).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put(Fn(""), PutMode::kApply).status().code(), StatusCode::kInvalidArgument);

  auto bad = store->Put(Fn("hello", R"({"image":)"), PutMode::kApply);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(R"(spec_json of Function "default/hello" is not valid JSON)"),
            std::string::npos)
      << bad.status().message();
  auto array = store->Put(Fn("hello", "[1,2]"), PutMode::kApply);
  EXPECT_EQ(array.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(array.status().message().find("must be a JSON object"), std::string::npos);
  Object bad_meta = Fn("hello");
  bad_meta.metadata_json = "labels";
  EXPECT_EQ(store->Put(bad_meta, PutMode::kApply).status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store->Put(Fn("hello"), PutMode::kApply).ok());
  auto bad_status = store->UpdateStatus("Function", "default", "hello", "{", -1);
  EXPECT_EQ(bad_status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CurrentVersion(), 1);  // nothing invalid was written
}

// ---------------------------------------------------------------------------
// Apply, status and optimistic concurrency

TEST(Store, ApplyBumpsGenerationOnlyWhenSpecChanges) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  auto v1 = store->Put(Fn("hello", R"({"image":"a","port":8080})"), PutMode::kApply);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->generation, 1);
  EXPECT_EQ(v1->resource_version, 1);

  // Same spec, other formatting and key order: nothing is written.
  auto same = store->Put(Fn("hello", "{\n  \"port\": 8080,\n  \"image\": \"a\"\n}"), PutMode::kApply);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->generation, 1);
  EXPECT_EQ(same->resource_version, 1);
  EXPECT_EQ(same->uid, v1->uid);
  EXPECT_EQ(store->CurrentVersion(), 1);

  // Metadata only: a new resource_version, same generation.
  Object labelled = Fn("hello", R"({"image":"a","port":8080})");
  labelled.metadata_json = R"({"labels":{"tier":"web"}})";
  auto meta = store->Put(labelled, PutMode::kApply);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->generation, 1);
  EXPECT_EQ(meta->resource_version, 2);
  EXPECT_EQ(meta->created_at, v1->created_at);

  // The spec: generation 2.
  Object changed = labelled;
  changed.spec_json = R"({"image":"b","port":8080})";
  auto v2 = store->Put(changed, PutMode::kApply);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->generation, 2);
  EXPECT_EQ(v2->resource_version, 3);
  EXPECT_EQ(v2->uid, v1->uid);

  // Status is the controllers': it keeps generation, bumps resource_version,
  // and an identical status is no write.
  ASSERT_TRUE(store->UpdateStatus("Function", "default", "hello", R"({"phase":"Running"})", 2).ok());
  auto after_status = store->Get("Function", "default", "hello");
  ASSERT_TRUE(after_status.ok());
  EXPECT_EQ(after_status->generation, 2);
  EXPECT_EQ(after_status->resource_version, 4);
  EXPECT_EQ(after_status->status_json, R"({"phase":"Running"})");
  ASSERT_TRUE(store->UpdateStatus("Function", "default", "hello", R"({ "phase" : "Running" })", -1).ok());
  EXPECT_EQ(store->CurrentVersion(), 4);

  // A status computed for an older generation is refused.
  Status stale = store->UpdateStatus("Function", "default", "hello", R"({"phase":"Failed"})", 1);
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.message().find(R"(Function "default/hello" is at generation 2)"), std::string::npos)
      << stale.message();
  EXPECT_EQ(store->Get("Function", "default", "hello")->status_json, R"({"phase":"Running"})");

  // Apply does not touch status, even when desired carries one.
  Object with_status = changed;
  with_status.spec_json = R"({"image":"c","port":8080})";
  with_status.status_json = R"({"phase":"Bogus"})";
  auto v3 = store->Put(with_status, PutMode::kApply);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->generation, 3);
  EXPECT_EQ(v3->status_json, R"({"phase":"Running"})");

  EXPECT_EQ(store->UpdateStatus("Function", "default", "nope", "{}", -1).code(), StatusCode::kNotFound);
}

TEST(Store, OptimisticConcurrencyOnResourceVersion) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  // 0: "must not exist".
  auto first = store->Put(Fn("hello"), PutMode::kApply, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto exists = store->Put(Fn("hello", R"({"image":"x"})"), PutMode::kApply, 0);
  EXPECT_EQ(exists.status().code(), StatusCode::kFailedPrecondition);

  auto a = store->Get("Function", "default", "hello");
  ASSERT_TRUE(a.ok());
  // Two writers read the same version; the first wins, the second is told.
  auto w1 = store->Put(Fn("hello", R"({"image":"one"})"), PutMode::kApply, a->resource_version);
  ASSERT_TRUE(w1.ok()) << w1.status().ToString();
  auto w2 = store->Put(Fn("hello", R"({"image":"two"})"), PutMode::kApply, a->resource_version);
  ASSERT_FALSE(w2.ok());
  EXPECT_EQ(w2.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(w2.status().message(), R"(Function "default/hello" has changed: resource_version is 2, expected 1)");
  EXPECT_EQ(store->Get("Function", "default", "hello")->spec_json, R"({"image":"one"})");
  // Retried with the fresh version, it goes through.
  auto w3 = store->Put(Fn("hello", R"({"image":"two"})"), PutMode::kApply, w1->resource_version);
  ASSERT_TRUE(w3.ok()) << w3.status().ToString();
  EXPECT_EQ(w3->generation, 3);

  auto absent = store->Put(Fn("nope"), PutMode::kApply, 7);
  EXPECT_EQ(absent.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(absent.status().message(), R"(Function "default/nope" does not exist (expected resource_version 7))");
  EXPECT_EQ(store->CurrentVersion(), 3);
}

// ---------------------------------------------------------------------------
// Change feed

TEST(Store, ChangeFeedRecordsEveryMutationInOrder) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Put(Fn("a"), PutMode::kCreate).ok());                          // 1
  ASSERT_TRUE(store->Put(Fn("b"), PutMode::kCreate).ok());                          // 2
  ASSERT_TRUE(store->Put(Fn("a", R"({"image":"a2"})"), PutMode::kApply).ok());      // 3
  ASSERT_TRUE(store->Put(Fn("a", R"({"image":"a2"})"), PutMode::kApply).ok());      // no-op
  ASSERT_TRUE(store->UpdateStatus("Function", "default", "b", R"({"s":1})").ok());  // 4
  ASSERT_TRUE(store->Delete("Function", "default", "a").ok());                      // 5
  EXPECT_EQ(store->CurrentVersion(), 5);

  auto all = store->ChangesSince(0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  struct Want {
    int64_t version;
    ChangeType type;
    const char* name;
  };
  const Want want[] = {{1, ChangeType::kAdded, "a"},
                       {2, ChangeType::kAdded, "b"},
                       {3, ChangeType::kModified, "a"},
                       {4, ChangeType::kModified, "b"},
                       {5, ChangeType::kDeleted, "a"}};
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ((*all)[i].version, want[i].version);
    EXPECT_EQ((*all)[i].type, want[i].type);
    EXPECT_EQ((*all)[i].object.name, want[i].name);
  }
  EXPECT_EQ((*all)[2].object.generation, 2);
  EXPECT_EQ((*all)[2].object.resource_version, 3);
  EXPECT_EQ((*all)[3].object.status_json, R"({"s":1})");
  EXPECT_EQ((*all)[3].object.generation, 1);
  // A deletion carries the object's last state.
  EXPECT_EQ((*all)[4].object.spec_json, R"({"image":"a2"})");
  EXPECT_EQ((*all)[4].object.resource_version, 3);
  EXPECT_EQ(std::string(ChangeTypeName((*all)[4].type)), "DELETED");

  auto tail = store->ChangesSince(3);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].version, 4);
  EXPECT_TRUE(store->ChangesSince(5)->empty());

  auto ahead = store->ChangesSince(6);
  EXPECT_EQ(ahead.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->ChangesSince(-1).status().code(), StatusCode::kInvalidArgument);

  // Failed mutations take no version: the sequence has no gaps.
  EXPECT_FALSE(store->Put(Fn("b"), PutMode::kCreate).ok());
  EXPECT_FALSE(store->Delete("Function", "default", "a").ok());
  ASSERT_TRUE(store->Put(Fn("c"), PutMode::kCreate).ok());
  EXPECT_EQ(store->ChangesSince(5)->at(0).version, 6);
}

TEST(Store, ChangeFeedKeepsItsRetentionAndSaysWhenTooFarBehind) {
  StoreOptions options;
  options.change_retention = 3;
  auto store = MustOpenInMemory(options);
  ASSERT_TRUE(store);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->Put(Fn("f" + std::to_string(i)), PutMode::kCreate).ok());
  EXPECT_EQ(store->CurrentVersion(), 10);
  auto kept = store->ChangesSince(7);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->size(), 3u);
  EXPECT_EQ(kept->front().version, 8);
  EXPECT_EQ(kept->back().version, 10);
  auto lost = store->ChangesSince(6);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(lost.status().message().find("list again"), std::string::npos);
  EXPECT_FALSE(store->ChangesSince(0).ok());

  options.change_retention = 0;
  EXPECT_EQ(Store::OpenInMemory(options).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Subscriptions

TEST(Store, SubscribersHearCommittedChangesOnTheMutatingThread) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  std::vector<Change> heard;
  std::vector<bool> visible;
  std::vector<std::thread::id> threads;
  uint64_t id = store->Subscribe([&](const Change& c) {
    heard.push_back(c);
    threads.push_back(std::this_thread::get_id());
    // After the commit: the store already shows it (and may be used here).
    auto now = store->Get(c.object.kind, c.object.ns, c.object.name);
    visible.push_back(c.type == ChangeType::kDeleted ? !now.ok() : now.ok() && now->resource_version == c.version);
  });
  ASSERT_TRUE(store->Put(Fn("a"), PutMode::kCreate).ok());
  ASSERT_EQ(heard.size(), 1u);  // before Put returned
  ASSERT_TRUE(store->Put(Fn("a"), PutMode::kApply).ok());  // no-op: no change
  ASSERT_TRUE(store->UpdateStatus("Function", "default", "a", R"({"x":1})").ok());
  ASSERT_FALSE(store->Put(Fn("a"), PutMode::kCreate).ok());  // failed: no change
  ASSERT_TRUE(store->Delete("Function", "default", "a").ok());
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].type, ChangeType::kAdded);
  EXPECT_EQ(heard[1].type, ChangeType::kModified);
  EXPECT_EQ(heard[1].object.status_json, R"({"x":1})");
  EXPECT_EQ(heard[2].type, ChangeType::kDeleted);
  EXPECT_EQ(heard[2].version, 3);
  for (bool v : visible) EXPECT_TRUE(v);
  for (auto t : threads) EXPECT_EQ(t, std::this_thread::get_id());

  store->Unsubscribe(id);
  ASSERT_TRUE(store->Put(Fn("b"), PutMode::kCreate).ok());
  EXPECT_EQ(heard.size(), 3u);
}

TEST(Store, SubscriberMayMutateTheStoreAndOrderIsKept) {
  auto store = MustOpenInMemory();
  ASSERT_TRUE(store);
  std::vector<int64_t> versions;
  // A controller-like subscriber: writes a status for every spec change.
  store->Subscribe([&](const Change& c) {
    versions.push_back(c.version);
    if (c.type != ChangeType::kDeleted && c.object.status_json == "{}") {
      Status s = store->UpdateStatus(c.object.kind, c.object.ns, c.object.name,
                                     R"({"observedGeneration":)" + std::to_string(c.object.generation) + "}",
                                     c.object.generation);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  });
  std::vector<int64_t> second;
  store->Subscribe([&](const Change& c) { second.push_back(c.version); });
  ASSERT_TRUE(store->Put(Fn("a"), PutMode::kCreate).ok());
  ASSERT_TRUE(store->Put(Fn("b"), PutMode::kCreate).ok());
  // The nested status writes were delivered too, after the change that caused them.
  EXPECT_EQ(versions, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(second, versions);
  EXPECT_EQ(store->Get("Function", "default", "b")->status_json, R"({"observedGeneration":1})");
}

TEST(Store, ConcurrentWritersDeliverEveryChangeOnceInVersionOrder) {
  auto store = MustOpenInMemory(StoreOptions{Durability::kProcessCrash});
  ASSERT_TRUE(store);
  std::mutex mu;
  std::vector<int64_t> heard;
  store->Subscribe([&](const Change& c) {
    std::lock_guard<std::mutex> l(mu);
    heard.push_back(c.version);
  });
  std::atomic<int> late_calls{0};
  std::atomic<bool> unsubscribed{false};
  uint64_t doomed = store->Subscribe([&](const Change&) {
    if (unsubscribed.load()) late_calls.fetch_add(1);
  });

  constexpr int kThreads = 4, kEach = 100;
  std::vector<std::thread> writers;
  std::vector<std::vector<int64_t>> returned(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store->Put(Fn("t" + std::to_string(t) + "-" + std::to_string(i)), PutMode::kCreate);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
        returned[t].push_back(r->resource_version);
        if (t == 0 && i == kEach / 2) {
          store->Unsubscribe(doomed);
          unsubscribed.store(true);
        }
      }
    });
  }
  for (auto& w : writers) w.join();

  std::vector<int64_t> want(kThreads * kEach);
  for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(heard, want);
  std::vector<int64_t> all;
  for (const auto& r : returned) all.insert(all.end(), r.begin(), r.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, want);  // every write took a distinct version, no gaps
  EXPECT_EQ(late_calls.load(), 0);
  EXPECT_EQ(store->CurrentVersion(), kThreads * kEach);
}

// ---------------------------------------------------------------------------
// Persistence

TEST(Store, ReopenKeepsEverything) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  std::vector<Object> before;
  std::vector<Change> feed;
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->Put(Fn("f" + std::to_string(i)), PutMode::kCreate).ok());
    ASSERT_TRUE(store->Put(Fn("f1", R"({"image":"new"})"), PutMode::kApply).ok());
    ASSERT_TRUE(store->UpdateStatus("Function", "default", "f2", R"({"phase":"Running"})").ok());
    ASSERT_TRUE(store->Delete("Function", "default", "f3").ok());
    before = *store->List();
    feed = *store->ChangesSince(0);
    EXPECT_EQ(store->CurrentVersion(), 8);
  }
  EXPECT_EQ((fs::status(path).permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(path + "-shm"));  // exclusive locking: the WAL index lives in memory
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");  // persistent in the file
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->CurrentVersion(), 8);
  auto after = store->List();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    SCOPED_TRACE(before[i].name);
    const Object& a = (*after)[i];
    const Object& b = before[i];
    EXPECT_EQ(a.api_version, b.api_version);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.ns, b.ns);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.uid, b.uid);
    EXPECT_EQ(a.generation, b.generation);
    EXPECT_EQ(a.resource_version, b.resource_version);
    EXPECT_EQ(a.spec_json, b.spec_json);
    EXPECT_EQ(a.status_json, b.status_json);
    EXPECT_EQ(a.metadata_json, b.metadata_json);
    EXPECT_EQ(a.created_at, b.created_at);
  }
  auto feed_after = store->ChangesSince(0);
  ASSERT_TRUE(feed_after.ok());
  ASSERT_EQ(feed_after->size(), feed.size());
  for (size_t i = 0; i < feed.size(); ++i) {
    EXPECT_EQ((*feed_after)[i].version, feed[i].version);
    EXPECT_EQ((*feed_after)[i].type, feed[i].type);
    EXPECT_EQ((*feed_after)[i].object.name, feed[i].object.name);
  }
  // The sequence continues where it was.
  auto next = store->Put(Fn("f9"), PutMode::kCreate);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->resource_version, 9);
}

// Crash safety. A child process writes and acknowledges each write through a
// pipe once the call has returned; it is then killed with SIGKILL mid-stream
// (or _exits without closing the store). Every acknowledged write must be in
// the reopened store, and the file must pass integrity_check.

// What op i of the child does, all before it acknowledges i: create "<p>i",
// give it a status, and on every fifth op delete the previous object.
void ChildOp(Store& store, const std::string& prefix, int i) {
  auto name = [&](int n) { return prefix + std::to_string(n); };
  auto put = store.Put(Fn(name(i), R"({"image":"img-)" + std::to_string(i) + R"("})"), PutMode::kCreate);
  if (!put.ok()) _exit(10);
  if (!store.UpdateStatus("Function", "default", name(i), R"({"op":)" + std::to_string(i) + "}", 1).ok()) _exit(11);
  if (i % 5 == 4 && !store.Delete("Function", "default", name(i - 1)).ok()) _exit(12);
}

bool DeletedBy(int op, int j) { return op == j + 1 && op % 5 == 4; }

struct ChildRun {
  int acked = 0;  // ops 0..acked-1 were acknowledged
  int exit_status = 0;
};

// Forks a child that opens path and runs ops [0, ops); the parent SIGKILLs it
// once kill_after ops are acknowledged (never, if kill_after < 0).
ChildRun RunChild(const std::string& path, const std::string& prefix, int ops, int kill_after,
                  Durability durability) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(p[0]);
    StoreOptions options;
    options.durability = durability;
    auto store = Store::Open(path, options);
    if (!store.ok()) _exit(9);
    for (int i = 0; i < ops; ++i) {
      ChildOp(**store, prefix, i);
      if (write(p[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(13);
    }
    _exit(0);  // abruptly: no destructor, no checkpoint, WAL left behind
  }
  close(p[1]);
  ChildRun run;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string buf;
  bool killed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "child made no progress before the deadline";
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{p[0], POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char chunk[4096];
    ssize_t n = read(p[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    buf.append(chunk, static_cast<size_t>(n));
    while (buf.size() >= sizeof(int)) {
      int i;
      std::memcpy(&i, buf.data(), sizeof i);
      buf.erase(0, sizeof i);
      EXPECT_EQ(i, run.acked);
      run.acked = i + 1;
    }
    if (!killed && kill_after >= 0 && run.acked >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;  // keep reading: acks already in the pipe count too
    }
  }
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_status = status;
  return run;
}

void ExpectAcknowledgedOpsPresent(Store& store, const std::string& prefix, int acked) {
  for (int j = 0; j < acked; ++j) {
    SCOPED_TRACE(prefix + std::to_string(j));
    const bool deleted = DeletedBy(j + 1, j) && j + 1 < acked;
    const bool maybe_deleted = DeletedBy(j + 1, j) && j + 1 == acked;  // by an unacknowledged op
    auto got = store.Get("Function", "default", prefix + std::to_string(j));
    if (deleted) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    } else if (!maybe_deleted || got.ok()) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->spec_json, R"({"image":"img-)" + std::to_string(j) + R"("})");
      EXPECT_EQ(got->status_json, R"({"op":)" + std::to_string(j) + "}");
    }
  }
}

class StoreCrash : public ::testing::TestWithParam<Durability> {};

TEST_P(StoreCrash, SigkillLosesNoAcknowledgedWrite) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  // Several rounds on one file: each crash recovers on top of the last.
  const int kill_points[] = {1, 23, 57, 40};
  for (size_t round = 0; round < std::size(kill_points); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string prefix = "r" + std::to_string(round) + "-";
    ChildRun run = RunChild(path, prefix, 2000, kill_points[round], GetParam());
    ASSERT_TRUE(WIFSIGNALED(run.exit_status) || (WIFEXITED(run.exit_status) && WEXITSTATUS(run.exit_status) == 0))
        << "child failed with status " << run.exit_status;
    ASSERT_GE(run.acked, kill_points[round]);
    EXPECT_EQ(IntegrityCheck(path), "ok");
    auto store = MustOpen(path);
    ASSERT_TRUE(store);
    ExpectAcknowledgedOpsPresent(*store, prefix, run.acked);
    // The feed is contiguous up to the version the store reports.
    auto feed = store->ChangesSince(std::max<int64_t>(0, store->CurrentVersion() - 50));
    ASSERT_TRUE(feed.ok()) << feed.status().ToString();
    for (size_t i = 1; i < feed->size(); ++i) EXPECT_EQ((*feed)[i].version, (*feed)[i - 1].version + 1);
    if (!feed->empty()) {
      EXPECT_EQ(feed->back().version, store->CurrentVersion());
    }
  }
}

TEST_P(StoreCrash, AbruptExitWithoutCloseLosesNothing) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  ChildRun run = RunChild(path, "f", 60, -1, GetParam());
  ASSERT_TRUE(WIFEXITED(run.exit_status) && WEXITSTATUS(run.exit_status) == 0) << run.exit_status;
  ASSERT_EQ(run.acked, 60);
  EXPECT_TRUE(fs::exists(path + "-wal"));  // not checkpointed: recovery must replay it
  EXPECT_EQ(IntegrityCheck(path), "ok");
  auto store = MustOpen(path);
  ASSERT_TRUE(store);
  ExpectAcknowledgedOpsPresent(*store, "f", 60);
  EXPECT_EQ(store->CurrentVersion(), 60 * 2 + 60 / 5);
}

INSTANTIATE_TEST_SUITE_P(Durability, StoreCrash, ::testing::Values(Durability::kPowerLoss, Durability::kProcessCrash),
                         [](const auto& info) {
                           return info.param == Durability::kPowerLoss ? std::string("PowerLoss")
                                                                       : std::string("ProcessCrash");
                         });

// ---------------------------------------------------------------------------
// Bad paths and files: a clear Status, never a crash.

TEST(StoreOpen, MissingDirectoryIsNotFound) {
  TempDir dir;
  auto s = Store::Open(dir.Sub("no/such/dir/ofn.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find(dir.Sub("no/such/dir/ofn.db")), std::string::npos) << s.status().message();
}

TEST(StoreOpen, PathUnderAFileOrADirectoryIsRefused) {
  TempDir dir;
  std::ofstream(dir.Sub("plain")) << "x";
  EXPECT_EQ(Store::Open(dir.Sub("plain/ofn.db")).status().code(), StatusCode::kNotFound);
  fs::create_directory(dir.Sub("adir"));
  auto s = Store::Open(dir.Sub("adir"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("Is a directory"), std::string::npos) << s.status().message();
  EXPECT_EQ(Store::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreOpen, UnwritableLocationIsAnError) {
  // Running as root bypasses file modes; /proc refuses new files to anyone.
  auto s = Store::Open("/proc/ofn-store-test.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/proc/ofn-store-test.db"), std::string::npos) << s.status().message();
}

TEST(StoreOpen, NotADatabaseIsInternalWithAHint) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) f << "this is not an SQLite database. ";
  }
  auto s = Store::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
  EXPECT_NE(s.status().message().find("move it aside"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().message();
}

TEST(StoreOpen, DamagedPagesGiveErrorsNotCrashes) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(store->Put(Fn("f" + std::to_string(i)), PutMode::kCreate).ok());
  }
  ASSERT_FALSE(fs::exists(path + "-wal"));  // checkpointed on close
  {
    // Keep page 1 (header and schema), scribble over every other page.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<size_t>(f.tellg());
    ASSERT_GT(size, 4096u);
    f.seekp(4096);
    f << std::string(size - 4096, '\xab');
  }
  auto store = Store::Open(path);
  if (!store.ok()) {
    EXPECT_EQ(store.status().code(), StatusCode::kInternal) << store.status().ToString();
    return;
  }
  auto list = (*store)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kInternal) << list.status().ToString();
}

TEST(StoreOpen, SecondOpenOfTheSameFileIsUnavailable) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  auto first = MustOpen(path);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->Put(Fn("a"), PutMode::kCreate).ok());
  StoreOptions quick;
  quick.busy_timeout_ms = 20;
  auto second = Store::Open(path, quick);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("another ofn server"), std::string::npos) << second.status().message();
  first.reset();
  EXPECT_TRUE(Store::Open(path, quick).ok());
}

TEST(StoreOpen, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.Sub("ofn.db");
  ASSERT_TRUE(MustOpen(path));
  ExecSql(path, "UPDATE schema_version SET version = 999");
  auto s = Store::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("schema version 999"), std::string::npos) << s.status().message();
}

// ---------------------------------------------------------------------------
// Footprint: 100 Functions must leave ofn server far under its 30 MB budget.

TEST(Store, HundredFunctionsUseLittleMemory) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("ofn.db"), StoreOptions{Durability::kProcessCrash});
  ASSERT_TRUE(store);
  std::string big = R"({"image":"registry.example.com/fn:latest","serving":{"params":{)";
  for (int k = 0; k < 60; ++k) big += (k ? "," : "") + std::string(R"("PARAM_)") + std::to_string(k) + R"(":"value")";
  big += "}}}";
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->Put(Fn("fn-" + std::to_string(i), big), PutMode::kCreate).ok());
    ASSERT_TRUE(store->UpdateStatus("Function", "default", "fn-" + std::to_string(i), R"({"phase":"Running"})").ok());
  }
  ASSERT_EQ(store->List()->size(), 100u);
  ASSERT_TRUE(store->ChangesSince(0).ok());
  const sqlite3_int64 used = sqlite3_memory_used();
  EXPECT_LT(used, 3 << 20) << "SQLite holds " << used << " bytes";
}

}  // namespace
}  // namespace ofn::store

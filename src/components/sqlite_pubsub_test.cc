#include "components/sqlite_pubsub.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "support/process.h"  // TempDir

namespace ofn::components {
namespace {

using namespace std::chrono_literals;
using ofn::testing::TempDir;

// Collects deliveries. `decide` answers each message at once, or keeps its
// Ack for the test to answer later when it returns nullopt.
class Inbox {
 public:
  std::function<std::optional<Outcome>(const Message&)> decide = [](const Message&) { return Outcome::kSuccess; };

  MessageHandler Handler() {
    return [this](Message m, Ack ack) {
      std::optional<Outcome> outcome = decide(m);
      {
        std::lock_guard lock(mu_);
        got_.push_back(m);
        if (!outcome) held_.push_back(std::move(ack));
      }
      cv_.notify_all();
      if (outcome) ack(*outcome);
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  std::vector<std::string> Data() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& m : got_) out.push_back(m.data);
    return out;
  }
  Message At(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i);
  }
  // Removes the i-th held ack (in delivery order of the held ones).
  Ack TakeHeld(size_t i) {
    std::lock_guard lock(mu_);
    Ack a = std::move(held_.at(i));
    held_.at(i) = nullptr;
    return a;
  }
  void AnswerAllHeld(Outcome outcome) {
    std::vector<Ack> acks;
    {
      std::lock_guard lock(mu_);
      acks.swap(held_);
    }
    for (auto& a : acks)
      if (a) a(outcome);
  }
  void DropHeld() {
    std::lock_guard lock(mu_);
    held_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> got_;
  std::vector<Ack> held_;
};

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::vector<std::string> Numbers(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(std::to_string(i));
  return out;
}

class SqlitePubSubTest : public ::testing::Test {
 protected:
  SqlitePubSubTest() { RegisterEmbeddedPubSub(registry_); }

  Result<Component> Create(std::map<std::string, std::string> metadata = {}, std::string app_id = "app") {
    ComponentSpec spec;
    spec.name = "bus";
    spec.type = "pubsub.ofn";
    spec.app_id = std::move(app_id);
    spec.data_dir = dir_.Sub("bus");
    for (auto& [k, v] : metadata) spec.metadata.Set(k, v);
    return registry_.Create(spec);
  }
  std::shared_ptr<PubSub> Open(std::map<std::string, std::string> metadata = {}, std::string app_id = "app") {
    auto c = Create(std::move(metadata), std::move(app_id));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->pubsub : nullptr;
  }
  static void Publish(PubSub& ps, const std::string& data, std::string topic = "orders",
                      std::map<std::string, std::string> metadata = {}) {
    Status s = ps.Publish(PublishRequest{std::move(topic), data, std::move(metadata)});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static std::unique_ptr<Subscription> Subscribe(PubSub& ps, Inbox& inbox, size_t max_in_flight = 1,
                                                 std::string group = "", std::string topic = "orders") {
    SubscribeRequest req{std::move(topic), {}, max_in_flight};
    if (!group.empty()) req.metadata["consumerID"] = group;
    auto sub = ps.Subscribe(req, inbox.Handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return sub.ok() ? std::move(*sub) : nullptr;
  }
  static int64_t Backlog(Subscription& sub) {
    auto b = sub.Backlog();
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : -1;
  }
  std::string DbPath() const { return dir_.Sub("bus") + "/pubsub.db"; }
  // True while some bus in this process (or another) has the file open.
  bool FileInUse() const {
    int fd = ::open(DbPath().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool busy = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);
    return busy;
  }
  // Whether a group created now starts with nothing to read: true once
  // every message of `topic` has been trimmed. The probe group acks what it
  // gets, so it never holds messages back itself.
  static bool NewGroupFindsNothing(PubSub& ps, const std::string& topic = "orders") {
    static int probes = 0;
    Inbox inbox;
    inbox.decide = [](const Message&) { return std::nullopt; };
    auto sub = Subscribe(ps, inbox, 100, "probe" + std::to_string(++probes), topic);
    const int64_t backlog = Backlog(*sub);
    if (backlog == 0) return true;
    EXPECT_TRUE(inbox.WaitFor(static_cast<size_t>(backlog)));
    inbox.AnswerAllHeld(Outcome::kSuccess);
    EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
    return false;
  }

  TempDir dir_;
  Registry registry_;
};

TEST_F(SqlitePubSubTest, RoundTripKeepsBytesAndMetadata) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, std::string("a\0b", 3), "orders", {{"k", "v"}, {"ttlInSeconds", "5"}});
  ASSERT_TRUE(inbox.WaitFor(1));
  Message m = inbox.At(0);
  EXPECT_EQ(m.topic, "orders");
  EXPECT_EQ(m.data, std::string("a\0b", 3));
  EXPECT_EQ(m.metadata, (std::map<std::string, std::string>{{"k", "v"}, {"ttlInSeconds", "5"}}));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  struct stat st {};
  ASSERT_EQ(::stat(DbPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(SqlitePubSubTest, SyncFullDelivers) {
  auto ps = Open({{"sync", "full"}});
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox);
  Publish(*ps, "x");
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.Data(), std::vector<std::string>{"x"});
}

TEST_F(SqlitePubSubTest, TwoGroupsEachGetEveryMessageInOrder) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox a, b;
  auto sa = Subscribe(*ps, a);              // group "app", the app id
  auto sb = Subscribe(*ps, b, 4, "other");  // the subscription's consumerID
  for (const auto& n : Numbers(1, 20)) Publish(*ps, n);
  ASSERT_TRUE(a.WaitFor(20));
  ASSERT_TRUE(b.WaitFor(20));
  EXPECT_EQ(a.Data(), Numbers(1, 20));
  EXPECT_EQ(b.Data(), Numbers(1, 20));
}

TEST_F(SqlitePubSubTest, InitialOffsetNewestSkipsWhatIsRetained) {
  auto ps = Open();
  Publish(*ps, "before");
  Inbox newest, oldest;
  SubscribeRequest req{"orders", {{"consumerID", "tail"}, {"initialOffset", "newest"}}, 1};
  auto sub = ps->Subscribe(req, newest.Handler());
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  auto all = Subscribe(*ps, oldest, 1, "all");
  Publish(*ps, "after");
  ASSERT_TRUE(newest.WaitFor(1));
  ASSERT_TRUE(oldest.WaitFor(2));
  EXPECT_EQ(newest.Data(), std::vector<std::string>{"after"});
  EXPECT_EQ(oldest.Data(), (std::vector<std::string>{"before", "after"}));
  req.metadata["initialOffset"] = "latest";
  auto bad = ps->Subscribe(req, newest.Handler());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("initialOffset"), std::string::npos);
}

TEST_F(SqlitePubSubTest, SameGroupSharesMessages) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox a, b;
  a.decide = b.decide = [](const Message&) { return std::nullopt; };
  auto sa = Subscribe(*ps, a, 3);
  auto sb = Subscribe(*ps, b, 3);
  for (const auto& n : Numbers(1, 6)) Publish(*ps, n);
  // Each may hold only 3 unacked, so each must get 3 of the 6.
  ASSERT_TRUE(a.WaitFor(3));
  ASSERT_TRUE(b.WaitFor(3));
  std::set<std::string> all;
  for (const auto& d : a.Data()) all.insert(d);
  for (const auto& d : b.Data()) all.insert(d);
  EXPECT_EQ(all.size(), 6u);
  a.AnswerAllHeld(Outcome::kSuccess);
  b.AnswerAllHeld(Outcome::kDrop);
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sa) == 0 && Backlog(*sb) == 0; }));
  EXPECT_EQ(a.Data().size() + b.Data().size(), 6u);
}

TEST_F(SqlitePubSubTest, RetryRedeliversBeforeLaterMessages) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  for (const auto& n : Numbers(1, 3)) Publish(*ps, n);
  Inbox inbox;
  bool retried = false;
  inbox.decide = [&](const Message& m) {
    if (m.data == "2" && !retried) {
      retried = true;
      return Outcome::kRetry;
    }
    return Outcome::kSuccess;
  };
  auto sub = Subscribe(*ps, inbox, 1);
  ASSERT_TRUE(inbox.WaitFor(4));
  EXPECT_EQ(inbox.Data(), (std::vector<std::string>{"1", "2", "2", "3"}));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
}

TEST_F(SqlitePubSubTest, MaxInFlightBoundsUnackedMessages) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  inbox.decide = [](const Message&) { return std::nullopt; };
  auto sub = Subscribe(*ps, inbox, 2);
  for (const auto& n : Numbers(1, 5)) Publish(*ps, n);
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_FALSE(inbox.WaitFor(3, 200ms)) << "a third message was handed out with two unacked";
  EXPECT_EQ(Backlog(*sub), 5);
  inbox.TakeHeld(0)(Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.Data(), Numbers(1, 3));
  EXPECT_EQ(Backlog(*sub), 4);
  inbox.AnswerAllHeld(Outcome::kSuccess);
  ASSERT_TRUE(inbox.WaitFor(5));
  inbox.AnswerAllHeld(Outcome::kSuccess);
  EXPECT_EQ(inbox.Data(), Numbers(1, 5));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
}

TEST_F(SqlitePubSubTest, RestartRedeliversWhatWasNotAcked) {
  {
    auto ps = Open();
    ASSERT_TRUE(ps);
    Inbox inbox;
    inbox.decide = [](const Message&) { return std::nullopt; };
    auto sub = Subscribe(*ps, inbox, 3);
    for (const auto& n : Numbers(1, 8)) Publish(*ps, n);
    ASSERT_TRUE(inbox.WaitFor(3));
    inbox.TakeHeld(0)(Outcome::kSuccess);  // 1
    inbox.TakeHeld(2)(Outcome::kSuccess);  // 3, out of order
    ASSERT_TRUE(inbox.WaitFor(5));
    inbox.TakeHeld(4)(Outcome::kDrop);  // 5
    ASSERT_TRUE(inbox.WaitFor(6));
    EXPECT_EQ(inbox.Data(), Numbers(1, 6));
    EXPECT_EQ(Backlog(*sub), 5);  // 2, 4, 6 unacked; 7, 8 unread
    sub.reset();
    inbox.DropHeld();
  }
  ASSERT_FALSE(FileInUse()) << "the bus should be closed once nothing uses it";
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 10);
  ASSERT_TRUE(inbox.WaitFor(5));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  EXPECT_EQ(inbox.Data(), (std::vector<std::string>{"2", "4", "6", "7", "8"}));
}

TEST_F(SqlitePubSubTest, LateSubscriberGetsEarlierMessages) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  for (const auto& n : Numbers(1, 3)) Publish(*ps, n);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox);
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.Data(), Numbers(1, 3));
}

TEST_F(SqlitePubSubTest, BacklogCountsUnreadAndUnacked) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  inbox.decide = [](const Message&) { return std::nullopt; };
  auto sub = Subscribe(*ps, inbox, 2);
  EXPECT_EQ(Backlog(*sub), 0);
  for (const auto& n : Numbers(1, 5)) Publish(*ps, n);
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(Backlog(*sub), 5);
  inbox.TakeHeld(1)(Outcome::kSuccess);  // "2", past the cursor
  EXPECT_EQ(Backlog(*sub), 4);
  ASSERT_TRUE(inbox.WaitFor(3));
  inbox.TakeHeld(0)(Outcome::kRetry);  // "1" stays counted
  EXPECT_EQ(Backlog(*sub), 4);
  ASSERT_TRUE(inbox.WaitFor(4));
  EXPECT_EQ(inbox.Data(), (std::vector<std::string>{"1", "2", "3", "1"}));
  inbox.AnswerAllHeld(Outcome::kSuccess);  // "3" and "1": "4" and "5" are left
  EXPECT_EQ(Backlog(*sub), 2);
}

TEST_F(SqlitePubSubTest, MaxLenKeepsTheNewestMessages) {
  auto ps = Open({{"maxLen", "3"}});
  ASSERT_TRUE(ps);
  for (const auto& n : Numbers(1, 10)) Publish(*ps, n);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 5);
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  EXPECT_EQ(inbox.Data(), Numbers(8, 10));
}

TEST_F(SqlitePubSubTest, RetentionDropsOldMessagesEvenUnacked) {
  auto ps = Open({{"retention", "300ms"}});
  ASSERT_TRUE(ps);
  Inbox inbox;
  inbox.decide = [](const Message& m) { return m.data == "1" ? std::nullopt : std::optional(Outcome::kSuccess); };
  auto sub = Subscribe(*ps, inbox, 1);
  for (const auto& n : Numbers(1, 3)) Publish(*ps, n);
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(Backlog(*sub), 3);
  ASSERT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; })) << "expired messages were not trimmed";
  Publish(*ps, "4");
  inbox.TakeHeld(0)(Outcome::kRetry);  // "1" is gone: not redelivered
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(inbox.Data(), (std::vector<std::string>{"1", "4"}));
}

TEST_F(SqlitePubSubTest, MessagesAckedByEveryGroupAreDroppedAndNumberingGoesOn) {
  {
    auto ps = Open();
    ASSERT_TRUE(ps);
    Inbox a, b;
    auto sa = Subscribe(*ps, a);
    auto sb = Subscribe(*ps, b, 1, "other");
    for (const auto& n : Numbers(1, 5)) Publish(*ps, n);
    ASSERT_TRUE(a.WaitFor(5));
    ASSERT_TRUE(b.WaitFor(5));
    ASSERT_TRUE(WaitUntil([&] { return NewGroupFindsNothing(*ps); })) << "acked messages were kept";
  }
  // The numbering survives a restart with an empty log: the groups' cursors
  // must not hide the next message.
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox a;
  auto sa = Subscribe(*ps, a);
  Publish(*ps, "6");
  ASSERT_TRUE(a.WaitFor(1));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sa) == 0; }));
  EXPECT_EQ(a.Data(), std::vector<std::string>{"6"});
}

TEST_F(SqlitePubSubTest, ConcurrentPublishersLoseNothing) {
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 16);
  constexpr int kThreads = 4, kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) Publish(*ps, std::to_string(t) + ":" + std::to_string(i));
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(inbox.WaitFor(kThreads * kEach));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  auto data = inbox.Data();
  EXPECT_EQ(data.size(), size_t{kThreads * kEach});
  EXPECT_EQ(std::set<std::string>(data.begin(), data.end()).size(), size_t{kThreads * kEach});
  std::vector<int> next(kThreads, 0);  // each publisher's messages arrive in its order
  for (const auto& d : data) {
    int t = std::stoi(d.substr(0, d.find(':')));
    EXPECT_EQ(std::stoi(d.substr(d.find(':') + 1)), next[t]++) << d;
  }
}

TEST_F(SqlitePubSubTest, TwoObjectsOnOneFileSeeEachOther) {
  auto one = Open({}, "one");
  auto two = Open({}, "two");
  ASSERT_TRUE(one && two);
  Inbox in_one, in_two;
  auto s1 = Subscribe(*one, in_one);
  auto s2 = Subscribe(*two, in_two);
  Publish(*one, "from one");
  Publish(*two, "from two");
  ASSERT_TRUE(in_one.WaitFor(2));
  ASSERT_TRUE(in_two.WaitFor(2));
  EXPECT_EQ(in_one.Data(), (std::vector<std::string>{"from one", "from two"}));
  EXPECT_EQ(in_two.Data(), (std::vector<std::string>{"from one", "from two"}));

  // One group across both objects: its consumers compete.
  Inbox c1, c2;
  c1.decide = c2.decide = [](const Message&) { return std::nullopt; };
  auto g1 = Subscribe(*one, c1, 1, "shared", "jobs");
  auto g2 = Subscribe(*two, c2, 1, "shared", "jobs");
  Publish(*one, "j1", "jobs");
  Publish(*two, "j2", "jobs");
  ASSERT_TRUE(c1.WaitFor(1));
  ASSERT_TRUE(c2.WaitFor(1));
  EXPECT_NE(c1.Data(), c2.Data());
  c1.AnswerAllHeld(Outcome::kSuccess);
  c2.AnswerAllHeld(Outcome::kSuccess);
}

TEST_F(SqlitePubSubTest, AckAfterSubscriptionAndPubSubAreGoneStillCounts) {
  Ack late_ack;
  {
    auto ps = Open();
    ASSERT_TRUE(ps);
    Inbox inbox;
    inbox.decide = [](const Message&) { return std::nullopt; };
    auto sub = Subscribe(*ps, inbox);
    Publish(*ps, "1");
    Publish(*ps, "2");
    ASSERT_TRUE(inbox.WaitFor(1));
    late_ack = inbox.TakeHeld(0);
  }
  late_ack(Outcome::kSuccess);
  late_ack = nullptr;
  ASSERT_FALSE(FileInUse());
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox);
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  EXPECT_EQ(inbox.Data(), std::vector<std::string>{"2"});
}

// A child process publishes, acks part, and is killed with SIGKILL while it
// holds the bus; the parent is locked out until then, and afterwards gets
// every message the child had not acked.
TEST_F(SqlitePubSubTest, SurvivesKill9AndLocksOutOtherProcesses) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto c = Create();
    if (!c.ok()) ::_exit(1);
    Inbox inbox;
    inbox.decide = [](const Message& m) {
      return std::stoi(m.data) <= 4 ? std::optional(Outcome::kSuccess) : std::nullopt;
    };
    auto sub = c->pubsub->Subscribe(SubscribeRequest{"orders", {}, 10}, inbox.Handler());
    if (!sub.ok()) ::_exit(2);
    for (const auto& n : Numbers(1, 10)) {
      if (!c->pubsub->Publish(PublishRequest{"orders", n, {}}).ok()) ::_exit(3);
    }
    if (!inbox.WaitFor(10) || !WaitUntil([&] { return *(*sub)->Backlog() == 6; })) ::_exit(4);
    if (::write(ready[1], "k", 1) != 1) ::_exit(5);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  char byte = 0;
  const bool child_ready = ::poll(&p, 1, 10000) == 1 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (child_ready) {
    auto locked_out = Create();
    EXPECT_FALSE(locked_out.ok());
    if (!locked_out.ok()) {
      EXPECT_EQ(locked_out.status().code(), StatusCode::kUnavailable);
      EXPECT_NE(locked_out.status().message().find("in use by another process"), std::string::npos);
    }
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(child_ready) << "child failed: " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
  auto ps = Open();
  ASSERT_TRUE(ps);
  Inbox inbox;
  auto sub = Subscribe(*ps, inbox, 10);
  ASSERT_TRUE(inbox.WaitFor(6));
  EXPECT_TRUE(WaitUntil([&] { return Backlog(*sub) == 0; }));
  EXPECT_EQ(inbox.Data(), Numbers(5, 10));
}

TEST_F(SqlitePubSubTest, BadMetadataAndRequestsAreNamed) {
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"maxLen", "-1"}, {"maxLen", "many"}, {"retention", "soon"}, {"sync", "sometimes"}}) {
    auto c = Create({{key, value}});
    ASSERT_FALSE(c.ok()) << key << "=" << value;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
  }
  ComponentSpec no_dir;
  no_dir.name = "bus";
  no_dir.type = "pubsub.ofn";
  auto c = registry_.Create(no_dir);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("data directory"), std::string::npos);

  auto ps = Open({}, /*app_id=*/"");
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->Publish(PublishRequest{"", "x", {}}).code(), StatusCode::kInvalidArgument);
  Inbox inbox;
  auto sub = ps->Subscribe(SubscribeRequest{"orders", {}, 1}, inbox.Handler());
  ASSERT_FALSE(sub.ok());
  EXPECT_NE(sub.status().message().find("consumerID"), std::string::npos);
}

}  // namespace
}  // namespace ofn::components

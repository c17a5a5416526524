#include "components/kafka/partition_tracker.h"

#include <gtest/gtest.h>

namespace ofn::components::kafka {
namespace {

Message Msg(std::string data) { return Message{"t", std::move(data), {}}; }

TEST(PartitionTrackerTest, CommitPointIsTheStartUntilSomethingIsRead) {
  PartitionTracker t(7);
  EXPECT_EQ(t.CommitPoint(), 7);
  EXPECT_FALSE(t.HasPending());
  PartitionTracker unknown(std::nullopt);
  EXPECT_EQ(unknown.CommitPoint(), std::nullopt);
  unknown.Add(12, Msg("a"));
  EXPECT_EQ(unknown.CommitPoint(), 12);
}

TEST(PartitionTrackerTest, CommitsOnlyPastContiguouslyCompletedMessages) {
  PartitionTracker t(0);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(t.Add(i, Msg(std::to_string(i))));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t.TakeNext().first, i);
  t.Acked(1, Outcome::kSuccess);
  t.Acked(3, Outcome::kDrop);
  EXPECT_EQ(t.CommitPoint(), 0);  // 0 is still out
  t.Acked(0, Outcome::kSuccess);
  EXPECT_EQ(t.CommitPoint(), 2);
  t.Acked(2, Outcome::kSuccess);
  EXPECT_EQ(t.CommitPoint(), 4);
}

TEST(PartitionTrackerTest, RetryComesBackBeforeLaterMessagesWithItsContent) {
  PartitionTracker t(10);
  t.Add(10, Msg("first"));
  t.Add(11, Msg("second"));
  auto [offset, msg] = t.TakeNext();
  ASSERT_EQ(offset, 10);
  t.Acked(10, Outcome::kRetry);
  EXPECT_EQ(t.CommitPoint(), 10);
  auto again = t.TakeNext();
  EXPECT_EQ(again.first, 10);
  EXPECT_EQ(again.second.data, "first");
  EXPECT_EQ(t.TakeNext().first, 11);
}

TEST(PartitionTrackerTest, DuplicateReadsAndStrayAcksAreIgnored) {
  PartitionTracker t(0);
  EXPECT_TRUE(t.Add(0, Msg("a")));
  EXPECT_FALSE(t.Add(0, Msg("again")));
  EXPECT_EQ(t.pending(), 1u);
  t.Acked(0, Outcome::kSuccess);  // still pending, never handed out
  EXPECT_EQ(t.CommitPoint(), 0);
  t.TakeNext();
  t.Acked(0, Outcome::kSuccess);
  t.Acked(0, Outcome::kSuccess);
  EXPECT_EQ(t.CommitPoint(), 1);
}

}  // namespace
}  // namespace ofn::components::kafka

#include "components/mqtt/inbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace ofn::components::mqtt {
namespace {

struct Handed {
  std::string data;
  Ack ack;
};

Message Msg(std::string data) {
  Message m;
  m.topic = "t";
  m.data = std::move(data);
  return m;
}

TEST(Inbox, HandsOutAtMostMaxInFlightAndAsksForMoreOnlyWithRoom) {
  std::vector<Handed> handed;
  auto inbox = std::make_shared<Inbox>(2, [&](Message m, Ack a) { handed.push_back({m.data, std::move(a)}); });
  int wakes = 0;
  inbox->SetWake([&] { ++wakes; });

  EXPECT_TRUE(inbox->Dispatch());
  inbox->Add(Msg("a"));
  EXPECT_TRUE(inbox->Dispatch());  // one out, room for one more
  inbox->Add(Msg("b"));
  EXPECT_FALSE(inbox->Dispatch());
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_EQ(inbox->Held(), 2);

  handed[0].ack(Outcome::kSuccess);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(inbox->Held(), 1);
  EXPECT_TRUE(inbox->Dispatch());
  handed[1].ack(Outcome::kDrop);
  EXPECT_EQ(inbox->Held(), 0);
}

TEST(Inbox, RetryHandsTheSameMessageOutAgainBeforeLaterOnes) {
  std::vector<Handed> handed;
  auto inbox = std::make_shared<Inbox>(1, [&](Message m, Ack a) { handed.push_back({m.data, std::move(a)}); });
  inbox->Add(Msg("first"));
  inbox->Add(Msg("second"));
  EXPECT_FALSE(inbox->Dispatch());
  ASSERT_EQ(handed.size(), 1u);
  handed[0].ack(Outcome::kRetry);
  EXPECT_EQ(inbox->Held(), 2);  // the retried one is held again
  inbox->Dispatch();
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_EQ(handed[1].data, "first");
  handed[1].ack(Outcome::kSuccess);
  inbox->Dispatch();
  ASSERT_EQ(handed.size(), 3u);
  EXPECT_EQ(handed[2].data, "second");
}

TEST(Inbox, AckInsideTheHandlerAndAfterCloseAreSafe) {
  std::vector<Handed> kept;
  std::shared_ptr<Inbox> inbox;
  inbox = std::make_shared<Inbox>(1, [&](Message m, Ack a) {
    if (m.data == "now") {
      a(Outcome::kSuccess);  // synchronous ack: must not deadlock
    } else {
      kept.push_back({m.data, std::move(a)});
    }
  });
  inbox->Add(Msg("now"));
  inbox->Add(Msg("later"));
  EXPECT_FALSE(inbox->Dispatch());
  ASSERT_EQ(kept.size(), 1u);
  inbox->Close();
  inbox.reset();                 // the Ack keeps what it needs alive
  kept[0].ack(Outcome::kRetry);  // no-op, no crash
}

}  // namespace
}  // namespace ofn::components::mqtt

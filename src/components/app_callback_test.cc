#include "components/app_callback.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ofn::components {
namespace {

using nlohmann::json;

TEST(JudgeTest, PubSubAnswersFollowDapr) {
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, ""), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kPubSub, 204, "not json"), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, R"({"status":"SUCCESS"})"), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, R"({"status":""})"), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, R"({"status":"RETRY"})"), Verdict::kRetry);
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, R"({"status":"DROP"})"), Verdict::kDrop);
  EXPECT_EQ(Judge(EventKind::kPubSub, 200, R"({"status":"WHATEVER"})"), Verdict::kRetry);
  EXPECT_EQ(Judge(EventKind::kPubSub, 404, ""), Verdict::kDrop);
  EXPECT_EQ(Judge(EventKind::kPubSub, 500, R"({"status":"SUCCESS"})"), Verdict::kRetry);
  EXPECT_EQ(Judge(EventKind::kPubSub, 303, ""), Verdict::kRetry);
}

TEST(JudgeTest, BindingsSucceedOnlyOn2xx) {
  EXPECT_EQ(Judge(EventKind::kBinding, 200, "whatever"), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kBinding, 204, ""), Verdict::kSuccess);
  EXPECT_EQ(Judge(EventKind::kBinding, 404, ""), Verdict::kRetry);
  EXPECT_EQ(Judge(EventKind::kBinding, 500, ""), Verdict::kRetry);
}

TEST(BulkTest, IsJsonObjectAcceptsOnlyOneWholeObject) {
  EXPECT_TRUE(IsJsonObject(R"({"a":[1,{"b":null}]})"));
  EXPECT_TRUE(IsJsonObject(" \n{} "));
  EXPECT_FALSE(IsJsonObject(R"({"a":1} {"b":2})"));
  EXPECT_FALSE(IsJsonObject(R"({"a":1})" "\"]}"));
  EXPECT_FALSE(IsJsonObject("[1]"));
  EXPECT_FALSE(IsJsonObject("\"s\""));
  EXPECT_FALSE(IsJsonObject(""));
  EXPECT_FALSE(IsJsonObject("{\"a\":"));
}

TEST(BulkTest, BodyFollowsDaprsBulkFormat) {
  Message ce{"orders", R"({"specversion":"1.0","id":"1"})", {{"pubsubName", "bus"}, {"bad", "\xff"}}};
  Message raw{"orders", "\x01\x02", {}};
  std::string body = BulkBody("call-1", "orders", "bus", {{"a", &ce, false}, {"b", &raw, true}});
  auto j = json::parse(body);
  EXPECT_EQ(j, json::parse(R"({"id":"call-1","type":"com.dapr.event.sent.bulk","topic":"orders","pubsubname":"bus",
      "metadata":{},"entries":[
        {"entryId":"a","event":{"specversion":"1.0","id":"1"},"contentType":"application/cloudevents+json",
         "metadata":{"pubsubName":"bus","bad":"\ufffd"}},
        {"entryId":"b","event":"AQI=","contentType":"application/octet-stream","metadata":{}}]})"));
}

TEST(BulkTest, EachEntryGetsItsStatusAndAMissingOneIsRetried) {
  Message m;
  std::vector<BulkEntry> e = {{"1", &m, false}, {"2", &m, false}, {"3", &m, false}, {"4", &m, false}};
  auto v = JudgeBulk(200, R"({"statuses":[{"entryId":"3","status":"drop"},{"entryId":"1","status":"SUCCESS"},
                                           {"entryId":"2","status":"RETRY"},{"entryId":"9","status":"SUCCESS"}]})",
                     e);
  EXPECT_EQ(v, (std::vector<Verdict>{Verdict::kSuccess, Verdict::kRetry, Verdict::kDrop, Verdict::kRetry}));
  EXPECT_EQ(JudgeBulk(404, "", e), std::vector<Verdict>(4, Verdict::kDrop));
  EXPECT_EQ(JudgeBulk(500, R"({"statuses":[{"entryId":"1","status":"SUCCESS"}]})", e),
            std::vector<Verdict>(4, Verdict::kRetry));
  EXPECT_EQ(JudgeBulk(200, "not json", e), std::vector<Verdict>(4, Verdict::kRetry));
  EXPECT_EQ(JudgeBulk(200, R"({"statuses":{}})", e), std::vector<Verdict>(4, Verdict::kRetry));
}

}  // namespace
}  // namespace ofn::components

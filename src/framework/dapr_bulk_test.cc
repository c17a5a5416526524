#include "framework/dapr_bulk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ofn::dapr {
namespace {

using json = nlohmann::json;

// EntryEventTexts must agree with the DOM: each text parses to the entry's event.
void ExpectTextsMatchTheDom(const std::string& body) {
  json doc = json::parse(body);
  std::vector<std::string_view> texts = EntryEventTexts(body);
  const json& entries = doc["entries"];
  ASSERT_EQ(texts.size(), entries.size()) << body;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!entries[i].is_object() || !entries[i].contains("event")) {
      EXPECT_EQ(texts[i], "") << body << " [" << i << "]";
      continue;
    }
    EXPECT_EQ(json::parse(texts[i]), entries[i]["event"]) << body << " [" << i << "]";
  }
}

TEST(DaprBulk, EventTextsAreTheEventsAsSent) {
  std::string body = R"({"id":"x","entries":[{"entryId":"1","event":{"id":"a","data":{"s":"}]\"{["}}},
      {"event" : "aGk=" , "entryId":"2"},{"entryId":"3"},7,"s",[{"event":1}],
      {"event":-1.5e3},{"event":null},{"event":true},{"metadata":{"event":2},"event":[1,{"a":[]}]}],"metadata":{}})";
  ExpectTextsMatchTheDom(body);
  std::vector<std::string_view> texts = EntryEventTexts(body);
  ASSERT_EQ(texts.size(), 10u);
  EXPECT_EQ(texts[0], R"({"id":"a","data":{"s":"}]\"{["}})");
  EXPECT_EQ(texts[1], R"("aGk=")");
}

TEST(DaprBulk, EventTextsFollowTheDomOnDuplicatesAndEscapes) {
  // The last duplicate wins, as in nlohmann's DOM; escaped names are names.
  ExpectTextsMatchTheDom(R"({"entries":[{"event":1}],"entries":[{"event":2,"event":3},{"ev\u0065nt":4}]})");
  ExpectTextsMatchTheDom(R"({"entr\u0069es":[{"event":{"a":"\\"}}],"x":"entries"})");
  ExpectTextsMatchTheDom(" {\n\t\"entries\" :\r [ ] } ");
  ExpectTextsMatchTheDom(R"({"entries":[{}, {"event":{}}, {"event":[]}, {"event":""}]})");
  EXPECT_TRUE(EntryEventTexts(R"({"entries":{}})").empty());
  EXPECT_TRUE(EntryEventTexts("[]").empty());
}

TEST(DaprBulk, EventTextsStayInBoundsOnAnyText) {
  for (std::string_view text : {"", "{", "{\"entries\"", "{\"entries\":[", "{\"entries\":[{\"event\":\"\\",
                                "{\"entries\":[{\"event\"", "{\"entries\":[1,", "{]", "\"", "{\"a\"}"}) {
    (void)EntryEventTexts(text);  // what matters: no crash, no out-of-bounds read (ASan, fuzz/dapr_bulk_fuzz)
  }
}

TEST(DaprBulk, DecodesCloudEventAndRawEntries) {
  json body = json::parse(R"({"topic":"t","pubsubname":"p","entries":[
      {"entryId":"e1","event":{"specversion":"1.0","id":"c1","source":"s","type":"x","data":"d",
                               "datacontenttype":"text/plain"}},
      {"entryId":"e2","event":"AAEC","contentType":"application/json","metadata":{"traceparent":"00-a-b-01"}},
      {"entryId":"e3","event":{"id":"c3"}},
      {"entryId":"e4","event":"not base64!"}]})");
  const json& entries = body["entries"];
  auto ce = DecodeEntryEvent(body, entries[0], {});
  ASSERT_TRUE(ce.ok()) << ce.status().message();
  EXPECT_EQ(ce->id(), "c1");
  EXPECT_EQ(ce->data(), "d");
  EXPECT_FALSE(IsRawEntry(entries[0]));

  auto raw = DecodeEntryEvent(body, entries[1], {});
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_TRUE(IsRawEntry(entries[1]));
  EXPECT_EQ(raw->id(), "e2");
  EXPECT_EQ(raw->source(), "Dapr");
  EXPECT_EQ(raw->type(), "com.dapr.event.sent");
  EXPECT_EQ(raw->data_content_type(), "application/octet-stream") << "as Dapr's single raw event, whatever contentType";
  EXPECT_EQ(raw->data(), std::string("\0\1\2", 3));
  EXPECT_EQ(raw->extensions().at("topic").text, "t");
  EXPECT_EQ(raw->extensions().at("pubsubname").text, "p");
  EXPECT_EQ(raw->extensions().at("traceparent").text, "00-a-b-01");
  EXPECT_EQ(raw->extensions().count("traceid"), 0u);

  EXPECT_FALSE(DecodeEntryEvent(body, entries[2], {}).ok());
  EXPECT_FALSE(DecodeEntryEvent(body, entries[3], {}).ok());
  EXPECT_FALSE(DecodeEntryEvent(body, json::array(), {}).ok());
}

TEST(DaprBulk, EntryIdsAreNonEmptyStrings) {
  EXPECT_EQ(EntryId(json::parse(R"({"entryId":"a"})")), "a");
  EXPECT_EQ(EntryId(json::parse(R"({"entryId":""})")), "");
  EXPECT_EQ(EntryId(json::parse(R"({"entryId":1})")), "");
  EXPECT_EQ(EntryId(json::parse(R"(["entryId"])")), "");
}

TEST(DaprBulk, EntryRequestCarriesTheEntryMetadataFirst) {
  json body = json::parse(R"({"metadata":{"pubsubName":"p","k":"bulk"},"entries":[
      {"entryId":"e1","contentType":"application/cloudevents+json","metadata":{"k":"entry","n":1}}]})");
  HttpRequest req;
  req.set_method("POST");
  req.set_target("/orders?x=1");
  HttpRequest r = EntryRequest(req, body, body["entries"][0], "the body");
  EXPECT_EQ(r.method(), "POST");
  EXPECT_EQ(r.path(), "/orders");
  EXPECT_EQ(r.body(), "the body");
  EXPECT_EQ(r.header("content-type"), "application/cloudevents+json");
  EXPECT_EQ(r.header("k"), "entry");
  EXPECT_EQ(r.header("pubsubName"), "p");
  EXPECT_EQ(r.header("n"), std::nullopt) << "only string values are headers";
}

TEST(DaprBulk, StatusesJson) {
  EXPECT_EQ(StatusesJson({}), R"({"statuses":[]})");
  EXPECT_EQ(StatusesJson({{"a\"", "SUCCESS"}, {"b", "DROP"}}),
            R"({"statuses":[{"entryId":"a\"","status":"SUCCESS"},{"entryId":"b","status":"DROP"}]})");
}

}  // namespace
}  // namespace ofn::dapr

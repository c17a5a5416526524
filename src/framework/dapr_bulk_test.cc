#include "framework/dapr_bulk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ofn::dapr {
namespace {

using json = nlohmann::json;

// ReadBulk and ReadEntry must agree with a DOM of the same text: the same
// entries, each event's text parsing to the entry's event.
void ExpectEntriesMatchTheDom(const std::string& body) {
  ASSERT_TRUE(ce::CheckJson(body).ok()) << body;
  json doc = json::parse(body);
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk) << body;
  const json& entries = doc["entries"];
  ASSERT_EQ(bulk->entries.size(), entries.size()) << body;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry entry = ReadEntry(bulk->entries[i]);
    if (!entries[i].is_object() || !entries[i].contains("event")) {
      EXPECT_EQ(entry.event, "") << body << " [" << i << "]";
      continue;
    }
    EXPECT_EQ(json::parse(entry.event), entries[i]["event"]) << body << " [" << i << "]";
    const json& id = entries[i].contains("entryId") ? entries[i]["entryId"] : json();
    EXPECT_EQ(entry.id, id.is_string() ? id.get<std::string>() : "") << body << " [" << i << "]";
  }
}

TEST(DaprBulk, EventsAreTheTextsAsSent) {
  std::string body = R"({"id":"x","entries":[{"entryId":"1","event":{"id":"a","data":{"s":"}]\"{["}}},
      {"event" : "aGk=" , "entryId":"2"},{"entryId":"3"},7,"s",[{"event":1}],
      {"event":-1.5e3},{"event":null},{"event":true},{"metadata":{"event":2},"event":[1,{"a":[]}]}],"metadata":{}})";
  ExpectEntriesMatchTheDom(body);
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk);
  ASSERT_EQ(bulk->entries.size(), 10u);
  EXPECT_EQ(ReadEntry(bulk->entries[0]).event, R"({"id":"a","data":{"s":"}]\"{["}})");
  EXPECT_EQ(ReadEntry(bulk->entries[1]).event, R"("aGk=")");
  EXPECT_EQ(ReadEntry(bulk->entries[1]).id, "2");
}

TEST(DaprBulk, MembersFollowTheDomOnDuplicatesAndEscapes) {
  // The last duplicate wins, as in nlohmann's DOM; escaped names are names.
  ExpectEntriesMatchTheDom(R"({"entries":[{"event":1}],"entries":[{"event":2,"event":3},{"ev\u0065nt":4}]})");
  ExpectEntriesMatchTheDom(R"({"entr\u0069es":[{"event":{"a":"\\"}}],"x":"entries"})");
  ExpectEntriesMatchTheDom(" {\n\t\"entries\" :\r [ ] } ");
  ExpectEntriesMatchTheDom(R"({"entries":[{}, {"event":{}}, {"event":[]}, {"event":""}]})");
  ExpectEntriesMatchTheDom(R"({"entries":[{"entryId":"a\u00e9","entryId":"b"},{"entryId":"x","entryId":5}]})");
}

TEST(DaprBulk, OnlyAnObjectWithAnEntriesArrayIsABulk) {
  EXPECT_FALSE(ReadBulk(R"({"entries":{}})"));
  EXPECT_FALSE(ReadBulk(R"({"entries":[]," entries":null,"entries":null})")) << "the last one counts";
  EXPECT_FALSE(ReadBulk(R"({"specversion":"1.0","entries":"3"})"));
  EXPECT_FALSE(ReadBulk("[]"));
  EXPECT_FALSE(ReadBulk(R"([{"entries":[]}])"));
  EXPECT_FALSE(ReadBulk(R"("entries")"));
  std::optional<Bulk> empty = ReadBulk(R"({"entries":[]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->entries.empty());
}

TEST(DaprBulk, DecodesCloudEventAndRawEntries) {
  std::string body = R"({"topic":"t","pubsubname":"p","entries":[
      {"entryId":"e1","event":{"specversion":"1.0","id":"c1","source":"s","type":"x","data":"d",
                               "datacontenttype":"text/plain"}},
      {"entryId":"e2","event":"AAEC","contentType":"application/json","metadata":{"traceparent":"00-a-b-01"}},
      {"entryId":"e3","event":{"id":"c3"}},
      {"entryId":"e4","event":"not base64!"},
      {"entryId":"e5","event":7},
      {"entryId":"e6"},
      {"entryId":"e7","event":{"specversion":"1.0","id":"c7","source":"s","type":"x","data":{ "a" : [1, 2.50] }}}]})";
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk);
  ASSERT_EQ(bulk->entries.size(), 7u);
  std::vector<Entry> entries;
  for (std::string_view text : bulk->entries) entries.push_back(ReadEntry(text));

  auto ce = DecodeEntryEvent(*bulk, entries[0], {});
  ASSERT_TRUE(ce.ok()) << ce.status().message();
  EXPECT_EQ(ce->id(), "c1");
  EXPECT_EQ(ce->data(), "d");
  EXPECT_FALSE(IsRawEntry(entries[0]));

  auto raw = DecodeEntryEvent(*bulk, entries[1], {});
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

  EXPECT_FALSE(DecodeEntryEvent(*bulk, entries[2], {}).ok());
  EXPECT_FALSE(DecodeEntryEvent(*bulk, entries[3], {}).ok());
  EXPECT_EQ(DecodeEntryEvent(*bulk, entries[4], {}).status().message(),
            "event is neither a CloudEvent object nor Base64 raw data, got number");
  EXPECT_EQ(DecodeEntryEvent(*bulk, entries[5], {}).status().message(), "entry has no event");
  EXPECT_FALSE(DecodeEntryEvent(*bulk, ReadEntry("[]"), {}).ok());

  // JSON data is the value's text as sent (not re-serialized).
  auto sent = DecodeEntryEvent(*bulk, entries[6], {});
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  EXPECT_EQ(sent->data(), R"({ "a" : [1, 2.50] })");
}

TEST(DaprBulk, EntryIdsAreNonEmptyStrings) {
  EXPECT_EQ(ReadEntry(R"({"entryId":"a"})").id, "a");
  EXPECT_EQ(ReadEntry(R"({"entryId":"a\"\u00e9"})").id, "a\"\xC3\xA9");
  EXPECT_EQ(ReadEntry(R"({"entryId":""})").id, "");
  EXPECT_EQ(ReadEntry(R"({"entryId":1})").id, "");
  EXPECT_EQ(ReadEntry(R"(["entryId"])").id, "");
}

TEST(DaprBulk, EntryRequestCarriesTheEntryMetadataFirst) {
  std::string body = R"({"metadata":{"pubsubName":"p","k":"bulk"},"entries":[
      {"entryId":"e1","contentType":"application/cloudevents+json",
       "metadata":{"k":"entry","n":1,"d":"first","d":"last","e\u0073c":"a\tb"}}]})";
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk);
  HttpRequest req;
  req.set_method("POST");
  req.set_target("/orders?x=1");
  Entry entry = ReadEntry(bulk->entries[0]);
  EntryRequest entry_req(req, *bulk, entry, "the body");
  const HttpRequest& r = entry_req.request();
  EXPECT_EQ(r.method(), "POST");
  EXPECT_EQ(r.path(), "/orders");
  EXPECT_EQ(r.body(), "the body");
  EXPECT_EQ(r.header("content-type"), "application/cloudevents+json");
  EXPECT_EQ(r.header("k"), "entry");
  EXPECT_EQ(r.header("pubsubName"), "p");
  EXPECT_EQ(r.header("n"), std::nullopt) << "only string values are headers";
  EXPECT_EQ(r.header("d"), "last") << "the last of a name, as in a DOM";
  EXPECT_EQ(r.header("esc"), "a\tb") << "names and values unescaped";
}

TEST(DaprBulk, StatusesJson) {
  EXPECT_EQ(StatusesJson({}), R"({"statuses":[]})");
  EXPECT_EQ(StatusesJson({{"a\"", "SUCCESS"}, {"b", "DROP"}}),
            R"({"statuses":[{"entryId":"a\"","status":"SUCCESS"},{"entryId":"b","status":"DROP"}]})");
}

}  // namespace
}  // namespace ofn::dapr

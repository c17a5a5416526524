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

// ReadBulk must agree with a DOM of the same text: the same
// entries, each event's text parsing to the entry's event.
void ExpectEntriesMatchTheDom(const std::string& body) {
  ASSERT_TRUE(ce::CheckJson(body).ok()) << body;
  json doc = json::parse(body);
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk) << body;
  const json& entries = doc["entries"];
  ASSERT_EQ(bulk->entries.size(), entries.size()) << body;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = bulk->entries[i];
    // The event's members, found in the same pass, are jsontext's.
    std::vector<jsontext::Member> members;
    if (!entry.event.empty() && entry.event[0] == '{') members = jsontext::Members(entry.event);
    ASSERT_EQ(entry.event_members.size(), members.size()) << body << " [" << i << "]";
    for (size_t k = 0; k < members.size(); ++k) {
      EXPECT_EQ(entry.event_members[k].key, members[k].key) << body << " [" << i << "]";
      EXPECT_EQ(entry.event_members[k].value, members[k].value) << body << " [" << i << "]";
    }
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
  EXPECT_EQ(bulk->entries[0].event, R"({"id":"a","data":{"s":"}]\"{["}})");
  EXPECT_EQ(bulk->entries[1].event, R"("aGk=")");
  EXPECT_EQ(bulk->entries[1].id, "2");
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
  const std::vector<Entry>& entries = bulk->entries;

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
  EXPECT_FALSE(DecodeEntryEvent(*bulk, Entry{}, {}).ok());

  // JSON data is the value's text as sent (not re-serialized).
  auto sent = DecodeEntryEvent(*bulk, entries[6], {});
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  EXPECT_EQ(sent->data(), R"({ "a" : [1, 2.50] })");
}

TEST(DaprBulk, EntryIdsAreNonEmptyStrings) {
  auto id = [](const std::string& entry) { return ReadBulk(R"({"entries":[)" + entry + "]}").value().entries.at(0).id; };
  EXPECT_EQ(id(R"({"entryId":"a"})"), "a");
  EXPECT_EQ(id(R"({"entryId":"a\"\u00e9"})"), "a\"\xC3\xA9");
  EXPECT_EQ(id(R"({"entryId":""})"), "");
  EXPECT_EQ(id(R"({"entryId":1})"), "");
  EXPECT_EQ(id(R"(["entryId"])"), "");
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
  EntryRequest entry_req(req, *bulk);
  entry_req.Set(bulk->entries[0], "the body");
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

TEST(DaprBulk, EntryRequestIsReusedAcrossEntries) {
  std::string body = R"({"metadata":{"pubsubName":"p","\u006b":"bulk"},"entries":[
      {"entryId":"e1","contentType":"a/b","metadata":{"k":"one","x":"\u0078"}},
      {"entryId":"e2","metadata":{"y":"two"}},
      {"entryId":"e3","contentType":"c\/d"}]})";
  std::optional<Bulk> bulk = ReadBulk(body);
  ASSERT_TRUE(bulk);
  HttpRequest req;
  req.set_method("POST");
  req.set_target("/orders");
  EntryRequest reused(req, *bulk);
  auto headers = [](const HttpRequest& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Header& h : r.headers()) out.emplace_back(h.name, h.value);
    return out;
  };
  for (size_t i = 0; i < bulk->entries.size(); ++i) {
    const Entry& entry = bulk->entries[i];
    std::string entry_body = "body " + entry.id;
    reused.Set(entry, entry_body);
    EntryRequest fresh(req, *bulk);
    fresh.Set(entry, entry_body);
    EXPECT_EQ(headers(reused.request()), headers(fresh.request())) << i;
    EXPECT_EQ(reused.request().body(), entry_body);
    EXPECT_EQ(reused.request().target(), "/orders");
  }
  reused.Set(bulk->entries[1], "b");
  using H = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(headers(reused.request()), (H{{"y", "two"}, {"k", "bulk"}, {"pubsubName", "p"}}));
}

TEST(DaprBulk, StatusesJson) {
  EXPECT_EQ(StatusesJson({}), R"({"statuses":[]})");
  EXPECT_EQ(StatusesJson({{"a\"", "SUCCESS"}, {"b", "DROP"}}),
            R"({"statuses":[{"entryId":"a\"","status":"SUCCESS"},{"entryId":"b","status":"DROP"}]})");
  // Written as nlohmann's dump wrote it, escapes included.
  std::vector<EntryStatus> statuses = {{"\\ \n\t\x01\x1f\x7f/\xC3\xA9\xF0\x9F\x98\x80", "RETRY"}, {"x", "SUCCESS"}};
  json want = json::object();
  want["statuses"] = json::array();
  for (const auto& st : statuses) want["statuses"].push_back({{"entryId", st.entry_id}, {"status", st.status}});
  EXPECT_EQ(StatusesJson(statuses), want.dump());
}

}  // namespace
}  // namespace ofn::dapr

#include "framework/cloudevent_http.h"

#include <gtest/gtest.h>

#include <forward_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ofn::ce {
namespace {

using json = nlohmann::json;

// Owns the strings an HttpRequest views.
struct FakeRequest {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  HttpRequest Build() const {
    HttpRequest r;
    r.set_method("POST");
    r.set_target("/");
    for (const auto& [n, v] : headers) r.add_header(n, v);
    r.set_body(body);
    return r;
  }
};

FakeRequest BinaryRequest(std::vector<std::pair<std::string, std::string>> extra = {}, std::string body = "") {
  FakeRequest f;
  f.headers = {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}};
  for (auto& h : extra) f.headers.push_back(std::move(h));
  f.body = std::move(body);
  return f;
}

FakeRequest StructuredRequest(std::string body, std::string content_type = "application/cloudevents+json") {
  FakeRequest f;
  f.headers = {{"Content-Type", std::move(content_type)}};
  f.body = std::move(body);
  return f;
}

Result<CloudEvent> Decode(const FakeRequest& f, DecodeOptions opts = {}) { return DecodeRequest(f.Build(), opts); }

std::string Error(const Result<CloudEvent>& r) { return r.ok() ? "<ok>" : r.status().message(); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const std::string* FindHeader(const HttpResponse& resp, std::string_view name) {
  for (const auto& [n, v] : resp.headers()) {
    if (EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

// A request carrying what a response holds, as the receiving side would see it.
FakeRequest FromResponse(const HttpResponse& resp) {
  FakeRequest f;
  for (const auto& [n, v] : resp.headers()) f.headers.emplace_back(n, v);
  f.body = resp.body();
  return f;
}

constexpr const char* kEventJson = R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})";

// --- DetectMode

TEST(CeDetectMode, ByContentTypeThenCeSpecversion) {
  EXPECT_EQ(DetectMode(StructuredRequest("{}").Build()), Mode::kStructured);
  EXPECT_EQ(DetectMode(StructuredRequest("{}", "Application/CloudEvents+JSON; charset=UTF-8").Build()),
            Mode::kStructured);
  EXPECT_EQ(DetectMode(StructuredRequest("{}", " application/cloudevents+json ;x=1").Build()), Mode::kStructured);
  EXPECT_EQ(DetectMode(StructuredRequest("[]", "application/cloudevents-batch+json").Build()), Mode::kBatch);
  EXPECT_EQ(DetectMode(BinaryRequest().Build()), Mode::kBinary);
  FakeRequest upper;
  upper.headers = {{"CE-SpecVersion", "1.0"}};
  EXPECT_EQ(DetectMode(upper.Build()), Mode::kBinary);
  EXPECT_EQ(DetectMode(StructuredRequest("{}", "application/json").Build()), Mode::kNone);
  EXPECT_EQ(DetectMode(FakeRequest{}.Build()), Mode::kNone);
  FakeRequest other;
  other.headers = {{"ce-id", "1"}, {"content-type", "application/cloudevents+xml"}};
  EXPECT_EQ(DetectMode(other.Build()), Mode::kNone);
}

TEST(CeDecodeRequest, RejectsNonEventsAndBatches) {
  EXPECT_TRUE(Contains(Error(Decode(FakeRequest{})), "specversion"));
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest("[]", "application/cloudevents-batch+json"))), "batch"));
  EXPECT_EQ(Decode(FakeRequest{}).status().code(), StatusCode::kInvalidArgument);
}

// --- Binary mode

TEST(CeBinary, ConformanceStyleEvent) {
  auto r = Decode(BinaryRequest({{"ce-time", "2020-09-29T11:32:00.000Z"}, {"Content-Type", "application/json"}},
                                R"({"some":"data"})"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->id(), "1");
  EXPECT_EQ(r->source(), "/s");
  EXPECT_EQ(r->type(), "t");
  EXPECT_EQ(r->time(), "2020-09-29T11:32:00.000Z");
  EXPECT_EQ(r->data_content_type(), "application/json");
  EXPECT_EQ(json::parse(r->ToJson()), json::parse(R"({"specversion":"1.0","id":"1","source":"/s","type":"t",
      "time":"2020-09-29T11:32:00.000Z","datacontenttype":"application/json","data":{"some":"data"}})"));
}

TEST(CeBinary, HeaderNamesAreCaseInsensitive) {
  FakeRequest f;
  f.headers = {{"CE-SPECVERSION", "1.0"}, {"Ce-Id", "1"}, {"cE-sOuRcE", "/s"}, {"ce-TYPE", "t"}, {"CE-MyExt", "v"}};
  auto r = Decode(f);
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->id(), "1");
  EXPECT_EQ(r->extensions().at("myext"), ExtensionValue::String("v"));
}

TEST(CeBinary, ContentTypeBecomesDataContentType) {
  auto r = Decode(BinaryRequest({{"content-type", "text/plain; charset=UTF-8"}}, "hello"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data_content_type(), "text/plain; charset=UTF-8");  // as received
  EXPECT_EQ(r->data(), "hello");
  EXPECT_EQ(json::parse(r->ToJson())["data"], "hello");
}

TEST(CeBinary, NoContentTypeMeansOpaqueBytes) {
  auto r = Decode(BinaryRequest({}, "{\"a\":1}"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data_content_type(), std::nullopt);
  EXPECT_FALSE(r->data_is_json());
  json j = json::parse(r->ToJson());
  EXPECT_EQ(j["data_base64"], "eyJhIjoxfQ==");
  EXPECT_FALSE(j.contains("datacontenttype"));
  EXPECT_FALSE(j.contains("data"));
}

TEST(CeBinary, EmptyBodyMeansNoData) {
  auto r = Decode(BinaryRequest({{"Content-Type", "application/json"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data(), std::nullopt);
  json j = json::parse(r->ToJson());
  EXPECT_FALSE(j.contains("data"));
  EXPECT_FALSE(j.contains("data_base64"));
}

TEST(CeBinary, PercentDecodesValuesOnce) {
  auto r = Decode(BinaryRequest({{"ce-subject", "Euro%20%E2%82%AC%20%F0%9F%98%80"}, {"ce-ext", "100%2541"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->subject(), "Euro \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(r->extensions().at("ext").text, "100%41");
}

TEST(CeBinary, AcceptsLowerCaseHexAndUnnecessaryEscapes) {
  auto r = Decode(BinaryRequest({{"ce-subject", "%e2%82%ac%41%62c"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->subject(),
            "\xE2\x82\xAC"
            "Abc");
}

TEST(CeBinary, UnquotesQuotedStrings) {
  auto r = Decode(BinaryRequest({{"ce-subject", R"("a \"quoted\" value \\ here")"},
                                 {"ce-ext", R"("hello%20world")"},
                                 {"ce-plain", R"(not"quoted")"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->subject(), R"(a "quoted" value \ here)");
  EXPECT_EQ(r->extensions().at("ext").text, "hello world");  // unquoted, then percent-decoded
  EXPECT_EQ(r->extensions().at("plain").text, R"(not"quoted")");
  // Quoted core attributes: the binding's older spelling.
  FakeRequest f;
  f.headers = {{"ce-specversion", "\"1.0\""}, {"ce-id", "\"my id\""}, {"ce-source", "\"/s\""}, {"ce-type", "t"}};
  auto s = Decode(f);
  ASSERT_TRUE(s.ok()) << Error(s);
  EXPECT_EQ(s->id(), "my id");
}

TEST(CeBinary, RejectsInvalidUtf8) {
  for (const char* v : {"%C0%A0", "%c0%a0", "%E0%80%A0", "%ED%A0%80", "%F4%90%80%80", "%FF", "%E2%82"}) {
    std::string err = Error(Decode(BinaryRequest({{"ce-subject", v}})));
    EXPECT_TRUE(Contains(err, "attribute \"subject\" is not valid UTF-8")) << v << ": " << err;
  }
  EXPECT_FALSE(Decode(BinaryRequest({{"ce-ext", "%C0%A0"}})).ok());
}

TEST(CeBinary, RejectsBadPercentEncoding) {
  std::string err = Error(Decode(BinaryRequest({{"ce-subject", "50%"}})));
  EXPECT_TRUE(Contains(err, "\"subject\"")) << err;
  EXPECT_FALSE(Decode(BinaryRequest({{"ce-subject", "%zz"}})).ok());
}

TEST(CeBinary, UnknownHeadersBecomeStringExtensions) {
  auto r = Decode(BinaryRequest({{"ce-comexampleextension1", "value"}, {"ce-count", "5"}, {"ce-flag", "true"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->extensions().at("comexampleextension1"), ExtensionValue::String("value"));
  EXPECT_EQ(r->extensions().at("count"), ExtensionValue::String("5"));
  EXPECT_EQ(r->extensions().at("flag"), ExtensionValue::String("true"));
  EXPECT_EQ(r->extensions().size(), 3u);
}

TEST(CeBinary, ExtensionNamesMustBeAlphanumeric) {
  for (const char* name : {"ce-my-ext", "ce-my_ext", "ce-caf\xC3\xA9"}) {
    std::string err = Error(Decode(BinaryRequest({{name, "v"}})));
    EXPECT_TRUE(Contains(err, "invalid attribute name")) << name << ": " << err;
  }
  // Other headers are not attributes.
  EXPECT_TRUE(Decode(BinaryRequest({{"X-Custom_Header", "v"}, {"ce-", "v"}, {"cex", "v"}})).ok());
}

TEST(CeBinary, ValidatesRequiredAttributes) {
  FakeRequest f;
  f.headers = {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-type", "t"}};
  EXPECT_EQ(Error(Decode(f)), "missing required attribute \"source\"");
  f.headers.push_back({"ce-source", ""});
  EXPECT_EQ(Error(Decode(f)), "missing required attribute \"source\"");
  FakeRequest v;
  v.headers = {{"ce-specversion", "1.1"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}};
  EXPECT_TRUE(Contains(Error(Decode(v)), "\"specversion\" must be \"1.0\""));
}

TEST(CeBinary, ValidatesTime) {
  std::string err = Error(Decode(BinaryRequest({{"ce-time", "yesterday"}})));
  EXPECT_TRUE(Contains(err, "attribute \"time\" is not RFC 3339")) << err;
  auto r = Decode(BinaryRequest({{"ce-time", "2018-04-05T17%3A31%3A00.123456789%2B02%3A00"}}));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->time(), "2018-04-05T17:31:00.123456789+02:00");
}

TEST(CeBinary, RejectsDuplicateAttributes) {
  std::string err = Error(Decode(BinaryRequest({{"CE-ID", "2"}})));
  EXPECT_TRUE(Contains(err, "duplicate")) << err;
}

TEST(CeBinary, V03IsUpgradedWhenAccepted) {
  FakeRequest f;
  f.headers = {{"ce-specversion", "0.3"},
               {"ce-id", "1"},
               {"ce-source", "/s"},
               {"ce-type", "t"},
               {"ce-schemaurl", "https://x/schema"},
               {"ce-datacontentencoding", "base64"},
               {"Content-Type", "text/plain"}};
  f.body = "aGVsbG8=";
  EXPECT_TRUE(Contains(Error(Decode(f)), "\"specversion\" must be \"1.0\""));
  auto r = Decode(f, {.accept_v03 = true});
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->spec_version(), "1.0");
  EXPECT_EQ(r->data_schema(), "https://x/schema");
  EXPECT_EQ(r->data(), "hello");
  EXPECT_TRUE(r->extensions().empty());
  f.body = "not base64";
  EXPECT_FALSE(Decode(f, {.accept_v03 = true}).ok());
}

// --- Structured mode

TEST(CeStructured, DecodesTheBody) {
  auto r = Decode(StructuredRequest(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data":{"x":1}})",
      "application/cloudevents+json; charset=utf-8"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(json::parse(*r->data()), json::parse(R"({"x":1})"));
}

TEST(CeStructured, BodyWinsOverCeHeaders) {
  FakeRequest f = StructuredRequest(kEventJson);
  f.headers.push_back({"ce-specversion", "1.0"});
  f.headers.push_back({"ce-id", "from-header"});
  f.headers.push_back({"ce-subject", "from-header"});
  f.headers.push_back({"ce-bad_name", "%C0%A0"});  // not even looked at
  auto r = Decode(f);
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->id(), "1");
  EXPECT_EQ(r->subject(), std::nullopt);
  EXPECT_TRUE(r->extensions().empty());
  // And the headers cannot complete an incomplete body.
  FakeRequest g = StructuredRequest(R"({"specversion":"1.0","id":"1","type":"t"})");
  g.headers.push_back({"ce-source", "/s"});
  EXPECT_EQ(Error(Decode(g)), "missing required attribute \"source\"");
}

TEST(CeStructured, NullMembersAreAbsent) {
  auto r = Decode(StructuredRequest(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null,"data":null,"data_base64":"eA=="})"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->subject(), std::nullopt);
  EXPECT_EQ(r->data(), "x");
}

TEST(CeStructured, RejectsInvalidBodies) {
  EXPECT_EQ(Error(Decode(StructuredRequest("not json"))), "body is not valid JSON");
  EXPECT_EQ(Error(Decode(StructuredRequest(""))), "body is not valid JSON");
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest("[]"))), "not a JSON object"));
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest("\xFF{}"))), "UTF-8"));
  EXPECT_TRUE(
      Contains(Error(Decode(StructuredRequest(
                   R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="})"))),
               "data_base64"));
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest(
                           R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"%%%"})"))),
                       "not valid Base64"));
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest(R"({"specversion":"1.0","id":1,"source":"/s","type":"t"})"))),
                       "attribute \"id\" must be a JSON string"));
}

TEST(CeStructured, V03IsUpgradedWhenAccepted) {
  std::string body = R"({"specversion":"0.3","id":"1","source":"/s","type":"t","schemaurl":"https://x/s",
      "datacontenttype":"application/json","datacontentencoding":"base64","data":"eyJhIjoxfQ=="})";
  EXPECT_FALSE(Decode(StructuredRequest(body)).ok());
  auto r = Decode(StructuredRequest(body), {.accept_v03 = true});
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->spec_version(), "1.0");
  EXPECT_EQ(r->data_schema(), "https://x/s");
  EXPECT_EQ(r->data(), R"({"a":1})");
  EXPECT_TRUE(r->data_is_json());
  EXPECT_TRUE(r->extensions().empty());
  // schemaurl must be a string in 0.3, like any core attribute.
  std::string bad = R"({"specversion":"0.3","id":"1","source":"/s","type":"t","schemaurl":5})";
  EXPECT_TRUE(Contains(Error(Decode(StructuredRequest(bad), {.accept_v03 = true})), "\"schemaurl\""));
  // In 1.0, schemaurl is just an extension.
  auto e = Decode(StructuredRequest(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","schemaurl":"u"})"),
                  {.accept_v03 = true});
  ASSERT_TRUE(e.ok()) << Error(e);
  EXPECT_EQ(e->extensions().at("schemaurl").text, "u");
}

TEST(CeJson, DecodesCheckedTextAsDecodeStructuredDoes) {
  std::string event = R"( {"specversion":"1.0","id":"1","source":"/s","type":"t",
      "datacontenttype":"application/json","data":{"a":[1,2]},"ext":5} )";
  ASSERT_TRUE(CheckJson(event).ok());
  auto e = DecodeCheckedJson(event);
  auto same = DecodeStructured(event);
  ASSERT_TRUE(e.ok()) << Error(e);
  ASSERT_TRUE(same.ok()) << Error(same);
  EXPECT_EQ(*e, *same);
  EXPECT_EQ(e->data(), R"({"a":[1,2]})");
  EXPECT_EQ(e->extensions().at("ext").text, "5");
  EXPECT_TRUE(Contains(Error(DecodeCheckedJson(R"({"id":1})")), "attribute \"id\" must be a JSON string"));
  EXPECT_EQ(Error(DecodeCheckedJson("[]")), "body is not a JSON object, got array");
  // From members found beforehand (a bulk entry's event): the same event.
  auto from_members = DecodeCheckedMembers(jsontext::Members(event));
  ASSERT_TRUE(from_members.ok()) << Error(from_members);
  EXPECT_EQ(*from_members, *e);
  EXPECT_EQ(Error(DecodeCheckedMembers(jsontext::Members(R"({"id":"1","id":2})"))),
            "attribute \"id\" must be a JSON string, got number");
}

TEST(CeJson, CheckJsonChecksTheBodyOnce) {
  EXPECT_EQ(CheckJson("not json").message(), "body is not valid JSON");
  EXPECT_EQ(CheckJson(std::string("{}\0", 3)).message(), "body is not valid JSON");
  EXPECT_EQ(CheckJson("{\"a\":\"\x01\"}").message(), "body is not valid JSON") << "raw control character";
  EXPECT_EQ(CheckJson("\xFF{}").message(), "body is not valid UTF-8");
  EXPECT_EQ(CheckJson("{\"a\":\"\xC3\"}").message(), "body is not valid UTF-8");
  std::string deep = R"({"entries":[{"event":)" + std::string(600, '[') + std::string(600, ']') + "}]}";
  EXPECT_EQ(CheckJson(deep).message(), "body nests JSON deeper than 512 levels");
  EXPECT_TRUE(CheckJson(std::string(511, '[') + std::string(511, ']')).ok());
  EXPECT_TRUE(CheckJson(std::string(512, '[') + std::string(512, ']')).ok());
  EXPECT_FALSE(CheckJson(std::string(513, '[') + std::string(513, ']')).ok());
  EXPECT_TRUE(CheckJson("[1]").ok());
  EXPECT_TRUE(CheckJson(" {} ").ok());
}

TEST(CeJson, MembersAreWhatADomHolds) {
  std::forward_list<std::string> unescaped;
  std::vector<JsonMember> m = DomMembers(R"({"b":1,"a":[2],"b":3,"\u0061":"x","c":{"b":4}})", unescaped);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].name, "a");
  EXPECT_EQ(m[0].value, R"("x")") << "the last of a name, escaped or not";
  EXPECT_EQ(m[1].name, "b");
  EXPECT_EQ(m[1].value, "3");
  EXPECT_EQ(m[2].name, "c");
  EXPECT_EQ(m[2].value, R"({"b":4})");
  EXPECT_TRUE(DomMembers("{}", unescaped).empty());
  // Sorted by bytes (as std::map), first bytes above 0x7F and empty names included.
  m = DomMembers("{\"\xC3\xA9\":1,\"ab\":2,\"\":3,\"a\":4,\"B\":5,\"ab\":6}", unescaped);
  std::vector<std::pair<std::string_view, std::string_view>> got;
  for (const auto& member : m) got.emplace_back(member.name, member.value);
  EXPECT_EQ(got, (std::vector<std::pair<std::string_view, std::string_view>>{
                     {"", "3"}, {"B", "5"}, {"a", "4"}, {"ab", "6"}, {"\xC3\xA9", "1"}}));
  // Objects larger than an event's: the same order and choice.
  std::string big = "{";
  for (int i = 0; i < 100; ++i) big += "\"k" + std::to_string((i * 37) % 41) + "\":" + std::to_string(i) + ",";
  big.back() = '}';
  std::map<std::string, std::string> dom;
  for (const auto& member : jsontext::Members(big)) dom[jsontext::Unquote(member.key)] = std::string(member.value);
  m = DomMembers(big, unescaped);
  ASSERT_EQ(m.size(), dom.size());
  size_t i = 0;
  for (const auto& [name, value] : dom) {
    EXPECT_EQ(m[i].name, name);
    EXPECT_EQ(m[i].value, value);
    ++i;
  }
  EXPECT_EQ(JsonString(R"("plain")", unescaped), "plain");
  EXPECT_EQ(JsonString(R"("t\u00e9\n")", unescaped), "t\xC3\xA9\n");
}

TEST(CeJson, ExtensionNumbersAreIntegersAsTheDomHeldThem) {
  auto decode = [](std::string_view value) {
    return DecodeStructured(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","n":)" + std::string(value) +
                            "}");
  };
  for (auto [value, text] : {std::pair{"5", "5"}, std::pair{"-0", "0"}, std::pair{"-9223372036854775808",
                                                                                  "-9223372036854775808"},
                             std::pair{"9223372036854775807", "9223372036854775807"}}) {
    auto e = decode(value);
    ASSERT_TRUE(e.ok()) << value << ": " << Error(e);
    EXPECT_EQ(e->extensions().at("n"), ExtensionValue::Integer(std::stoll(text))) << value;
  }
  EXPECT_TRUE(Contains(Error(decode("9223372036854775808")), "integer out of range"));
  EXPECT_TRUE(Contains(Error(decode("18446744073709551615")), "integer out of range"));
  for (std::string_view value : {"18446744073709551616", "-9223372036854775809", "1.0", "1e2", "1E-2"}) {
    EXPECT_TRUE(Contains(Error(decode(value)), "got a non-integer number")) << value;
  }
  EXPECT_TRUE(Contains(Error(decode("[1]")), "got array"));
  EXPECT_TRUE(Contains(Error(decode("{}")), "got object"));
  auto b = decode("true");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->extensions().at("n"), ExtensionValue::Bool(true));
}

TEST(CeJson, JsonDataIsTheValueAsSent) {
  // Not parsed and re-serialized: the bytes the publisher wrote (as the Go
  // SDK's json.RawMessage), spaces, escapes and number spellings included.
  auto e = DecodeStructured(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data": { "b" : 1.50, "a" : "\u00e9\/" } })");
  ASSERT_TRUE(e.ok()) << Error(e);
  EXPECT_EQ(e->data(), R"({ "b" : 1.50, "a" : "\u00e9\/" })");
  EXPECT_TRUE(e->data_is_json());
  auto s = DecodeStructured(R"({"specversion":"1.0","id":"1","source":"/s","type":"t",)"
                            R"("datacontenttype":"application/json","data":"\u0041"})");
  ASSERT_TRUE(s.ok()) << Error(s);
  EXPECT_EQ(s->data(), R"("\u0041")") << "a JSON string of a JSON type stays JSON text, as sent";
  // The last data member wins, as in a DOM.
  auto d = DecodeStructured(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":[1],"data":[2]})");
  ASSERT_TRUE(d.ok()) << Error(d);
  EXPECT_EQ(d->data(), "[2]");
}

// --- Batch

TEST(CeBatch, DecodesEveryEvent) {
  auto r = DecodeBatch(std::string("[") + kEventJson + R"(,{"specversion":"1.0","id":"2","source":"/s","type":"t"}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].id(), "2");
  auto empty = DecodeBatch("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(CeBatch, ErrorsNameTheElement) {
  auto r = DecodeBatch(std::string("[") + kEventJson + "," + kEventJson +
                       R"(,{"specversion":"1.0","source":"/s","type":"t"}])");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "[2].id: missing required attribute \"id\"");
  auto t = DecodeBatch(R"([{"specversion":"1.0","id":"1","source":"/s","type":"t","time":5}])");
  EXPECT_TRUE(Contains(t.status().message(), "[0].time:")) << t.status().message();
  auto n = DecodeBatch(std::string("[") + kEventJson + ",7]");
  EXPECT_TRUE(Contains(n.status().message(), "[1]: ")) << n.status().message();
  EXPECT_TRUE(Contains(DecodeBatch(kEventJson).status().message(), "not a JSON array"));
  EXPECT_EQ(DecodeBatch("[").status().message(), "body is not valid JSON");
}

// --- Encoding

TEST(CeEncodeBinary, WritesHeadersAndBody) {
  CloudEvent e("id 1", "https://example.com/a?b=c", "t");
  e.set_subject("Euro \xE2\x82\xAC \xF0\x9F\x98\x80")
      .set_time("2018-04-05T17:31:00Z")
      .set_extension("quote", ExtensionValue::String("say \"hi\" 100%"))
      .set_extension("num", ExtensionValue::Integer(5))
      .set_data_content_type("text/plain")
      .set_data("body");
  HttpResponse resp;
  EncodeBinary(e, resp);
  ASSERT_NE(FindHeader(resp, "ce-specversion"), nullptr);
  EXPECT_EQ(*FindHeader(resp, "ce-specversion"), "1.0");
  EXPECT_EQ(*FindHeader(resp, "ce-id"), "id%201");
  EXPECT_EQ(*FindHeader(resp, "ce-source"), "https://example.com/a?b=c");  // only what the binding requires
  EXPECT_EQ(*FindHeader(resp, "ce-subject"), "Euro%20%E2%82%AC%20%F0%9F%98%80");
  EXPECT_EQ(*FindHeader(resp, "ce-quote"), "say%20%22hi%22%20100%25");
  EXPECT_EQ(*FindHeader(resp, "ce-num"), "5");
  EXPECT_EQ(*FindHeader(resp, "ce-time"), "2018-04-05T17:31:00Z");
  EXPECT_EQ(*FindHeader(resp, "Content-Type"), "text/plain");
  EXPECT_EQ(FindHeader(resp, "ce-datacontenttype"), nullptr);
  EXPECT_EQ(FindHeader(resp, "ce-dataschema"), nullptr);
  EXPECT_EQ(resp.body(), "body");
}

TEST(CeEncodeBinary, JsonDataWithoutTypeIsLabelledJson) {
  HttpResponse resp;
  EncodeBinary(CloudEvent("1", "/s", "t").set_json_data("{}"), resp);
  EXPECT_EQ(*FindHeader(resp, "Content-Type"), "application/json");
  HttpResponse opaque;
  EncodeBinary(CloudEvent("1", "/s", "t").set_data("xyz"), opaque);
  EXPECT_EQ(FindHeader(opaque, "Content-Type"), nullptr);
}

TEST(CeEncodeBinary, NeverForgesHeaders) {
  CloudEvent e("1", "/s", "t");
  e.set_subject("a\r\nX-Evil: 1").set_extension("bad\r\nname", ExtensionValue::String("v"));
  e.set_data_content_type("text/plain\r\nX-Evil: 2");
  HttpResponse resp;
  EncodeBinary(e, resp);
  for (const auto& [n, v] : resp.headers()) {
    EXPECT_EQ(n.find_first_of("\r\n"), std::string::npos) << n;
    EXPECT_EQ(v.find_first_of("\r\n"), std::string::npos) << v;
  }
  EXPECT_EQ(*FindHeader(resp, "ce-subject"), "a%0D%0AX-Evil:%201");
}

TEST(CeEncodeBinary, RoundTripsThroughDecode) {
  CloudEvent e("A 234", "/s", "t");
  e.set_data_content_type("application/octet-stream")
      .set_data_schema("https://x/schema")
      .set_subject("s\xE2\x82\xAC \"q\" %")
      .set_time("2018-04-05T17:31:00.000000001+01:00")
      .set_extension("ext", ExtensionValue::String("v a l"))
      .set_data(std::string("\0\x01\xFF", 3));
  HttpResponse resp;
  EncodeBinary(e, resp);
  FakeRequest f = FromResponse(resp);
  auto r = Decode(f);
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(*r, e);
  // Binary extensions come back as strings, with the same text.
  CloudEvent typed("1", "/s", "t");
  typed.set_extension("n", ExtensionValue::Integer(5)).set_extension("b", ExtensionValue::Bool(false));
  HttpResponse resp2;
  EncodeBinary(typed, resp2);
  FakeRequest f2 = FromResponse(resp2);
  auto r2 = Decode(f2);
  ASSERT_TRUE(r2.ok()) << Error(r2);
  EXPECT_EQ(r2->extensions().at("n").text, "5");
  EXPECT_EQ(r2->extensions().at("b").text, "false");
}

TEST(CeEncodeStructured, WritesTheJsonFormat) {
  CloudEvent e("1", "/s", "t");
  e.set_data_content_type("application/json").set_data(R"({"k":"v"})").set_extension("x", ExtensionValue::Bool(true));
  HttpResponse resp;
  EncodeStructured(e, resp);
  EXPECT_EQ(*FindHeader(resp, "Content-Type"), "application/cloudevents+json; charset=utf-8");
  EXPECT_EQ(json::parse(resp.body()), json::parse(R"({"specversion":"1.0","id":"1","source":"/s","type":"t",
      "datacontenttype":"application/json","x":true,"data":{"k":"v"}})"));
  FakeRequest f = FromResponse(resp);
  auto r = Decode(f);
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(*r, e);
}

// --- Helpers

TEST(CeMediaType, ParsesContentTypes) {
  EXPECT_EQ(MediaType(" Text/Plain ; charset=x"), "text/plain");
  EXPECT_EQ(MediaType(""), "");
  EXPECT_TRUE(IsTextMediaType("text/csv"));
  EXPECT_TRUE(IsTextMediaType("application/problem+json"));
  EXPECT_TRUE(IsTextMediaType("application/soap+xml"));
  EXPECT_TRUE(IsTextMediaType("application/x-thing; foo=bar; Charset=latin1"));
  EXPECT_FALSE(IsTextMediaType("application/octet-stream"));
  EXPECT_FALSE(IsTextMediaType("image/png; name=charset"));
  EXPECT_FALSE(IsTextMediaType(""));
}

}  // namespace
}  // namespace ofn::ce

#include "ofn/cloud_event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "framework/cloudevent_http.h"

namespace ofn {
namespace {

using json = nlohmann::json;

CloudEvent Minimal() { return CloudEvent("1", "/src", "t"); }

// The message of a failed Result/Status, for EXPECT_THAT-free matching.
std::string Error(const Result<CloudEvent>& r) { return r.ok() ? "<ok>" : r.status().message(); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// --- Validate

TEST(CloudEventValidate, MinimalEventIsValid) { EXPECT_TRUE(Minimal().Validate().ok()); }

TEST(CloudEventValidate, RequiredAttributesMissingOrEmpty) {
  Status s = CloudEvent("", "/s", "t").Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "missing required attribute \"id\"");
  EXPECT_EQ(CloudEvent("1", "", "t").Validate().message(), "missing required attribute \"source\"");
  EXPECT_EQ(CloudEvent("1", "/s", "").Validate().message(), "missing required attribute \"type\"");
  EXPECT_EQ(Minimal().set_spec_version("").Validate().message(), "missing required attribute \"specversion\"");
}

TEST(CloudEventValidate, SpecVersionMustBeExactly10) {
  for (const char* v : {"0.3", "1", "1.0 ", "1.00", "2.0"}) {
    Status s = Minimal().set_spec_version(v).Validate();
    EXPECT_FALSE(s.ok()) << v;
    EXPECT_TRUE(Contains(s.message(), "\"specversion\"")) << s.message();
  }
}

TEST(CloudEventValidate, AcceptsRfc3339Times) {
  for (const char* t :
       {"2018-04-05T17:31:00Z", "2018-04-05t17:31:00z", "2018-04-05T17:31:00.1Z", "2020-09-29T11:32:00.000Z",
        "2018-04-05T17:31:00.123456789012Z", "2018-04-05T17:31:00+05:30", "2018-04-05T17:31:00.5-23:59",
        "2016-12-31T23:59:60Z", "2020-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_TRUE(ce::IsRfc3339(t)) << t;
    EXPECT_TRUE(Minimal().set_time(t).Validate().ok()) << t;
  }
}

TEST(CloudEventValidate, RejectsNonRfc3339Times) {
  for (const char* t : {"",
                        "2018-04-05",
                        "2018-04-05T17:31:00",
                        "2018-04-05 17:31:00Z",
                        "2018-04-05T17:31Z",
                        "2018-4-05T17:31:00Z",
                        "18-04-05T17:31:00Z",
                        "2018-04-05T17:31:00.Z",
                        "2018-13-05T17:31:00Z",
                        "2018-00-05T17:31:00Z",
                        "2018-04-31T17:31:00Z",
                        "2019-02-29T00:00:00Z",
                        "1900-02-29T00:00:00Z",
                        "2018-04-00T00:00:00Z",
                        "2018-04-05T24:00:00Z",
                        "2018-04-05T23:60:00Z",
                        "2018-04-05T23:59:61Z",
                        "2018-04-05T17:31:00+0530",
                        "2018-04-05T17:31:00+24:00",
                        "2018-04-05T17:31:00+05:60",
                        "2018-04-05T17:31:00Zjunk",
                        "2018-04-05T17:31:00ZZ",
                        "2018-04-05T17:31:00 Z",
                        "Thu, 05 Apr 2018 17:31:00 GMT",
                        "2018-04-05T17:31:00.1e3Z",
                        "+2018-04-05T17:31:00Z"}) {
    EXPECT_FALSE(ce::IsRfc3339(t)) << t;
    Status s = Minimal().set_time(t).Validate();
    EXPECT_FALSE(s.ok()) << t;
    EXPECT_TRUE(Contains(s.message(), "attribute \"time\" is not RFC 3339")) << s.message();
  }
}

TEST(CloudEventValidate, ExtensionNamesAreLowercaseAlphanumeric) {
  EXPECT_TRUE(Minimal().set_extension("abc123", ExtensionValue::String("x")).Validate().ok());
  for (const char* name : {"Abc", "a-b", "a_b", "", "caf\xC3\xA9", "a b"}) {
    Status s = Minimal().set_extension(name, ExtensionValue::String("x")).Validate();
    EXPECT_FALSE(s.ok()) << name;
    EXPECT_TRUE(Contains(s.message(), "invalid attribute name")) << s.message();
  }
}

TEST(CloudEventValidate, ExtensionsMustNotShadowCoreAttributes) {
  Status s = Minimal().set_extension("id", ExtensionValue::String("x")).Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "\"id\"")) << s.message();
  EXPECT_FALSE(Minimal().set_extension("data", ExtensionValue::String("x")).Validate().ok());
}

TEST(CloudEventValidate, RejectsMalformedValues) {
  EXPECT_FALSE(Minimal().set_subject("bad \xC0\xA0").Validate().ok());
  EXPECT_FALSE(Minimal().set_data_content_type("text/plain\r\nX-Evil: 1").Validate().ok());
  EXPECT_FALSE(Minimal().set_extension("n", {ExtensionValue::Kind::kInteger, "12x"}).Validate().ok());
  EXPECT_FALSE(Minimal().set_extension("b", {ExtensionValue::Kind::kBool, "yes"}).Validate().ok());
}

// --- data_is_json

TEST(CloudEventDataIsJson, FollowsContentTypeOrHint) {
  EXPECT_FALSE(Minimal().set_data("x").data_is_json());
  EXPECT_TRUE(Minimal().set_json_data("1").data_is_json());
  for (const char* ct : {"application/json", "Application/JSON", "text/json", "application/cloudevents+json",
                         "application/vnd.api+json; charset=utf-8", " application/json ;x=y"}) {
    EXPECT_TRUE(Minimal().set_data_content_type(ct).data_is_json()) << ct;
  }
  for (const char* ct : {"text/plain", "application/jsonx", "application/json-seq", "json", "application/+json",
                         "application/xml", "application/octet-stream"}) {
    EXPECT_FALSE(Minimal().set_data_content_type(ct).data_is_json()) << ct;
  }
  // set_data clears the hint set by set_json_data.
  EXPECT_FALSE(Minimal().set_json_data("1").set_data("1").data_is_json());
}

// --- ToJson

TEST(CloudEventToJson, WritesEverySetAttribute) {
  CloudEvent e = Minimal();
  e.set_data_content_type("text/plain")
      .set_data_schema("https://x/s")
      .set_subject("sub")
      .set_time("2020-09-29T11:32:00.123456789+01:00");
  json j = json::parse(e.ToJson());
  EXPECT_EQ(j, json::parse(R"({"specversion":"1.0","id":"1","source":"/src","type":"t",
      "datacontenttype":"text/plain","dataschema":"https://x/s","subject":"sub",
      "time":"2020-09-29T11:32:00.123456789+01:00"})"));
}

TEST(CloudEventToJson, KeepsTimeExactly) {
  const char* t = "2018-04-05t17:31:00.000000001z";
  EXPECT_EQ(json::parse(Minimal().set_time(t).ToJson())["time"], t);
}

TEST(CloudEventToJson, ExtensionsAsNativeValues) {
  CloudEvent e = Minimal();
  e.set_extension("s", ExtensionValue::String("5"))
      .set_extension("b", ExtensionValue::Bool(true))
      .set_extension("i", ExtensionValue::Integer(-42))
      .set_extension("big", ExtensionValue::Integer(9007199254740993));
  json j = json::parse(e.ToJson());
  EXPECT_EQ(j["s"], "5");
  EXPECT_EQ(j["b"], true);
  EXPECT_EQ(j["i"], -42);
  EXPECT_EQ(j["big"].get<std::int64_t>(), 9007199254740993);
}

TEST(CloudEventToJson, NoDataMeansNoDataMember) {
  json j = json::parse(Minimal().set_data_content_type("application/json").ToJson());
  EXPECT_FALSE(j.contains("data"));
  EXPECT_FALSE(j.contains("data_base64"));
}

TEST(CloudEventToJson, JsonDataAsJsonValue) {
  json j = json::parse(Minimal().set_data_content_type("application/json").set_data(R"({"a": [1, 2]})").ToJson());
  EXPECT_EQ(j["data"], json::parse(R"({"a":[1,2]})"));
  EXPECT_FALSE(j.contains("data_base64"));
  // Structured data without datacontenttype: JSON, and no datacontenttype is invented.
  json k = json::parse(Minimal().set_json_data("\"hi\"").ToJson());
  EXPECT_EQ(k["data"], "hi");
  EXPECT_FALSE(k.contains("datacontenttype"));
}

TEST(CloudEventToJson, JsonDataKeptVerbatim) {
  // Spliced, not re-serialized: member order and number spelling survive.
  std::string out = Minimal().set_json_data(R"({"z":1.50,"a":2})").ToJson();
  EXPECT_TRUE(Contains(out, R"("data":{"z":1.50,"a":2})")) << out;
}

TEST(CloudEventToJson, TextDataAsString) {
  for (const char* ct : {"text/plain", "text/html; charset=utf-8", "application/xml", "application/atom+xml",
                         "application/octet-stream; charset=utf-8"}) {
    json j = json::parse(Minimal().set_data_content_type(ct).set_data("h\xC3\xA9llo <x/>").ToJson());
    EXPECT_EQ(j["data"], "h\xC3\xA9llo <x/>") << ct;
    EXPECT_FALSE(j.contains("data_base64")) << ct;
  }
}

TEST(CloudEventToJson, BinaryDataAsBase64) {
  // Binary mode without Content-Type: opaque bytes, and no datacontenttype.
  json j = json::parse(Minimal().set_data("hello").ToJson());
  EXPECT_EQ(j["data_base64"], "aGVsbG8=");
  EXPECT_FALSE(j.contains("data"));
  EXPECT_FALSE(j.contains("datacontenttype"));
  // Non-text type.
  json k = json::parse(Minimal().set_data_content_type("image/png").set_data(std::string("\x89PNG\0", 5)).ToJson());
  EXPECT_EQ(k["data_base64"], "iVBORwA=");
  // Text type but not UTF-8.
  json l = json::parse(Minimal().set_data_content_type("text/plain").set_data("\xFF\xFE").ToJson());
  EXPECT_EQ(l["data_base64"], "//4=");
}

TEST(CloudEventToJson, JsonTypedDataThatIsNotJsonStaysByteExact) {
  CloudEvent e = Minimal();
  e.set_data_content_type("application/json").set_data("not json");
  json j = json::parse(e.ToJson());
  EXPECT_EQ(j["data_base64"], "bm90IGpzb24=");
  auto back = CloudEvent::FromJson(e.ToJson());
  ASSERT_TRUE(back.ok()) << Error(back);
  EXPECT_EQ(back->data(), "not json");
}

TEST(CloudEventToJson, JsonTypedDataWithNulIsNotJson) {
  std::string bytes("4\0]", 3);
  json j = json::parse(Minimal().set_data_content_type("application/json").set_data(bytes).ToJson());
  EXPECT_EQ(j["data_base64"], "NABd");
}

TEST(CloudEventToJson, EmptyStringData) {
  json j = json::parse(Minimal().set_data_content_type("text/plain").set_data("").ToJson());
  EXPECT_EQ(j["data"], "");
}

TEST(CloudEventToJson, NeverThrowsOnInvalidUtf8) {
  CloudEvent e = Minimal();
  e.set_subject("\xFF").set_extension("x", ExtensionValue::String("\xC0"));
  std::string text;
  EXPECT_NO_THROW(text = e.ToJson());
  EXPECT_TRUE(json::accept(text)) << text;
}

// --- FromJson

TEST(CloudEventFromJson, ParsesAllAttributes) {
  auto r = CloudEvent::FromJson(R"({"specversion":"1.0","id":"A234-1234-1234","source":"https://example.com/s",
      "type":"com.example.t","datacontenttype":"application/xml","dataschema":"https://x/schema",
      "subject":"s1","time":"2018-04-05T17:31:00.123456789Z","comexampleextension1":"value",
      "comexampleothervalue":5,"flag":true,"data":"<much wow=\"xml\"/>"})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->spec_version(), "1.0");
  EXPECT_EQ(r->id(), "A234-1234-1234");
  EXPECT_EQ(r->source(), "https://example.com/s");
  EXPECT_EQ(r->type(), "com.example.t");
  EXPECT_EQ(r->data_content_type(), "application/xml");
  EXPECT_EQ(r->data_schema(), "https://x/schema");
  EXPECT_EQ(r->subject(), "s1");
  EXPECT_EQ(r->time(), "2018-04-05T17:31:00.123456789Z");
  EXPECT_EQ(r->extensions().at("comexampleextension1"), ExtensionValue::String("value"));
  EXPECT_EQ(r->extensions().at("comexampleothervalue"), ExtensionValue::Integer(5));
  EXPECT_EQ(r->extensions().at("flag"), ExtensionValue::Bool(true));
  EXPECT_EQ(r->data(), "<much wow=\"xml\"/>");
  EXPECT_FALSE(r->data_is_json());
}

TEST(CloudEventFromJson, NullMembersAreAbsent) {
  auto r = CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null,
      "time":null,"ext":null,"data":null,"data_base64":null,"datacontenttype":null})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->subject(), std::nullopt);
  EXPECT_EQ(r->time(), std::nullopt);
  EXPECT_EQ(r->data_content_type(), std::nullopt);
  EXPECT_TRUE(r->extensions().empty());
  EXPECT_EQ(r->data(), std::nullopt);
  // A null required attribute is a missing one.
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":null,"type":"t"})")),
            "missing required attribute \"source\"");
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"specversion":null,"id":"1","source":"/s","type":"t"})")),
            "missing required attribute \"specversion\"");
}

TEST(CloudEventFromJson, RequiredAttributes) {
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"specversion":"1.0","source":"/s","type":"t"})")),
            "missing required attribute \"id\"");
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"specversion":"1.0","id":"","source":"/s","type":"t"})")),
            "missing required attribute \"id\"");
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":""})")),
            "missing required attribute \"type\"");
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"id":"1","source":"/s","type":"t"})")),
            "missing required attribute \"specversion\"");
}

TEST(CloudEventFromJson, SpecVersionMustBeTheString10) {
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson(R"({"specversion":"0.3","id":"1","source":"/s","type":"t"})")),
                       "\"specversion\" must be \"1.0\""));
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson(R"({"specversion":"1.1","id":"1","source":"/s","type":"t"})")),
                       "\"specversion\""));
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson(R"({"specversion":1.0,"id":"1","source":"/s","type":"t"})")),
                       "attribute \"specversion\" must be a JSON string"));
}

TEST(CloudEventFromJson, CoreAttributesMustBeStrings) {
  for (const char* attr : {"id", "source", "type", "datacontenttype", "dataschema", "subject", "time"}) {
    for (const char* value : {"1", "true", "{}", "[\"a\"]", "1.5"}) {
      json j = json::parse(R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})");
      j[attr] = json::parse(value);
      std::string err = Error(CloudEvent::FromJson(j.dump()));
      EXPECT_TRUE(Contains(err, std::string("attribute \"") + attr + "\" must be a JSON string"))
          << attr << ": " << err;
    }
  }
}

TEST(CloudEventFromJson, BadTimeIsRejected) {
  std::string err = Error(
      CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2018-04-05 17:31"})"));
  EXPECT_TRUE(Contains(err, "attribute \"time\" is not RFC 3339")) << err;
}

TEST(CloudEventFromJson, ExtensionKinds) {
  for (const char* value : {"1.5", "1e3", "{}", "[]", "18446744073709551615"}) {
    json j = json::parse(R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})");
    j["myext"] = json::parse(value);
    std::string err = Error(CloudEvent::FromJson(j.dump()));
    EXPECT_TRUE(Contains(err, "extension attribute \"myext\"")) << value << ": " << err;
  }
  auto r = CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","neg":-9223372036854775808,"f":false})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->extensions().at("neg").text, "-9223372036854775808");
  EXPECT_EQ(r->extensions().at("f"), ExtensionValue::Bool(false));
}

TEST(CloudEventFromJson, InvalidExtensionNames) {
  for (const char* name : {"MyExt", "my_ext", "my-ext", "\xC3\xA9"}) {
    json j = json::parse(R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})");
    j[name] = "v";
    std::string err = Error(CloudEvent::FromJson(j.dump()));
    EXPECT_TRUE(Contains(err, "invalid attribute name")) << err;
    EXPECT_TRUE(Contains(err, json(name).dump())) << err;
  }
}

TEST(CloudEventFromJson, DataAndDataBase64AreExclusive) {
  std::string err = Error(CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":"x","data_base64":"eA=="})"));
  EXPECT_TRUE(Contains(err, "\"data\" and \"data_base64\"")) << err;
}

TEST(CloudEventFromJson, DataBase64MustBeBase64) {
  for (const char* b64 : {"\"not base64!\"", "\"eA\"", "\"eA==\\n\"", "5"}) {
    std::string err = Error(CloudEvent::FromJson(
        std::string(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":)") + b64 + "}"));
    EXPECT_TRUE(Contains(err, "\"data_base64\"")) << b64 << ": " << err;
  }
  auto r = CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AP8="})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data(), std::string("\0\xFF", 2));
  EXPECT_FALSE(r->data_is_json());
}

TEST(CloudEventFromJson, BodyMustBeUtf8JsonObject) {
  EXPECT_EQ(Error(CloudEvent::FromJson("")), "body is not valid JSON");
  EXPECT_EQ(Error(CloudEvent::FromJson("{")), "body is not valid JSON");
  EXPECT_EQ(Error(CloudEvent::FromJson(R"({"id":"1",})")), "body is not valid JSON");
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson("[1]")), "not a JSON object"));
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson("\"x\"")), "not a JSON object"));
  EXPECT_EQ(
      Error(CloudEvent::FromJson("{\"specversion\":\"1.0\",\"id\":\"\xC0\xA0\",\"source\":\"/s\",\"type\":\"t\"}")),
      "body is not valid UTF-8");
  // nlohmann would stop at a NUL as if the text ended there.
  EXPECT_EQ(Error(CloudEvent::FromJson(std::string(R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})") +
                                       std::string("\0garbage", 8))),
            "body is not valid JSON");
  // A lone surrogate escape is not UTF-8 either.
  EXPECT_FALSE(CloudEvent::FromJson(R"({"specversion":"1.0","id":"\ud800","source":"/s","type":"t"})").ok());
}

TEST(CloudEventFromJson, RejectsDeepNestingWithoutCrashing) {
  std::string deep = R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":)" + std::string(100000, '[') +
                     std::string(100000, ']') + "}";
  EXPECT_TRUE(Contains(Error(CloudEvent::FromJson(deep)), "deeper"));
  // Brackets inside strings do not count.
  std::string in_string =
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":")" + std::string(1000, '[') + "\\\"\"}";
  EXPECT_TRUE(CloudEvent::FromJson(in_string).ok());
}

TEST(CloudEventFromJson, JsonDataKeepsTheJsonValue) {
  // No datacontenttype: the data member is JSON.
  auto r = CloudEvent::FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_TRUE(r->data_is_json());
  EXPECT_EQ(json::parse(*r->data()), json::parse(R"({"a":1})"));
  EXPECT_EQ(r->data_content_type(), std::nullopt);
  // JSON datacontenttype: a JSON string stays a JSON string.
  auto s = CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"Application/JSON; charset=utf-8","data":"hi"})");
  ASSERT_TRUE(s.ok()) << Error(s);
  EXPECT_EQ(s->data(), "\"hi\"");
  EXPECT_TRUE(s->data_is_json());
  auto t = CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/cloudevents+json","data":[true]})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data(), "[true]");
}

TEST(CloudEventFromJson, StringDataWithTextTypeIsTheBytes) {
  auto r = CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":"h\u00e9"})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data(), "h\xC3\xA9");
  EXPECT_FALSE(r->data_is_json());
}

TEST(CloudEventFromJson, NonStringDataWithNonJsonTypeKeepsTheJsonValue) {
  auto r = CloudEvent::FromJson(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":{"a":[1]}})");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->data(), R"({"a":[1]})");
  EXPECT_EQ(json::parse(r->ToJson())["data"], json::parse(R"({"a":[1]})"));
}

// --- Round trip

TEST(CloudEventRoundTrip, ToJsonFromJsonKeepsEverything) {
  CloudEvent base = Minimal();
  base.set_data_schema("https://x/schema")
      .set_subject("s\xE2\x82\xAC")
      .set_time("2018-04-05T17:31:00.000000001-07:00")
      .set_extension("str", ExtensionValue::String("a \"q\""))
      .set_extension("num", ExtensionValue::Integer(7))
      .set_extension("yes", ExtensionValue::Bool(true));
  std::vector<CloudEvent> cases;
  cases.push_back(base);                                                     // no data
  cases.push_back(CloudEvent(base).set_data(std::string("\0\x01\xFF", 3)));  // data_base64, no type
  cases.push_back(CloudEvent(base).set_data_content_type("image/png").set_data("\x89PNG"));
  cases.push_back(CloudEvent(base).set_data_content_type("text/plain; charset=utf-8").set_data("text"));
  cases.push_back(CloudEvent(base).set_data_content_type("application/json").set_data(R"({"a":[1,"x"]})"));
  cases.push_back(CloudEvent(base).set_json_data(R"({"a":null})"));
  cases.push_back(CloudEvent(base).set_data_content_type("text/plain").set_json_data("[1]"));
  for (const CloudEvent& e : cases) {
    std::string text = e.ToJson();
    auto back = CloudEvent::FromJson(text);
    ASSERT_TRUE(back.ok()) << text << ": " << Error(back);
    EXPECT_EQ(*back, e) << text;
    EXPECT_EQ(back->ToJson(), text);
  }
}

}  // namespace
}  // namespace ofn

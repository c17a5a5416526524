#include "components/cloudevent_envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace ofn::components {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// 2024-05-06T07:08:09.750Z: the fraction must not show in `time`.
const std::chrono::system_clock::time_point kNow = std::chrono::system_clock::time_point(1714979289750ms);

EnvelopeInput Input(std::string_view content_type, std::string_view data,
                    std::map<std::string, std::string> metadata = {}) {
  return EnvelopeInput{.data = data,
                       .content_type = content_type,
                       .id = "id-1",
                       .source = "app",
                       .topic = "orders/eu",
                       .pubsub_name = "ps",
                       .traceparent = "",
                       .tracestate = "",
                       .metadata = std::move(metadata),
                       .now = kNow};
}

std::string Envelope(const EnvelopeInput& in) {
  auto out = MakeEnvelope(in);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "";
}

// The attributes daprd adds to every new event, around `middle` (the data
// and datacontenttype members, which sort first).
std::string NewEvent(std::string_view middle) {
  return "{" + std::string(middle) +
         R"(,"id":"id-1","pubsubname":"ps","source":"app","specversion":"1.0","time":"2024-05-06T07:08:09Z",)"
         R"("topic":"orders/eu","traceid":"","traceparent":"","tracestate":"","type":"com.dapr.event.sent"})";
}

TEST(CloudEventEnvelopeTest, WrapsByContentType) {
  struct Case {
    std::string content_type, body, want;
  } cases[] = {
      {"text/plain", "hello", NewEvent(R"("data":"hello","datacontenttype":"text/plain")")},
      {"", "hello", NewEvent(R"("data":"hello","datacontenttype":"text/plain")")},
      // JSON data keeps its numbers exactly as written (Go's UseNumber); keys sort.
      {"application/json", R"({"b":1.50,"a":[1e5,12345678901234567890123,-7,true,null]})",
       NewEvent(R"("data":{"a":[1e5,12345678901234567890123,-7,true,null],"b":1.50},"datacontenttype":"application/json")")},
      {"Application/JSON; charset=utf-8", R"( "hi" )",
       NewEvent(R"("data":"hi","datacontenttype":"Application/JSON; charset=utf-8")")},
      {"application/json", "{oops", NewEvent(R"("data":"{oops","datacontenttype":"application/json")")},
      {"application/json", "", NewEvent(R"("data":"","datacontenttype":"application/json")")},
      // +json suffixes are not application/json.
      {"application/merge-patch+json", R"({"a":1})",
       NewEvent(R"("data":"{\"a\":1}","datacontenttype":"application/merge-patch+json")")},
      {"application/octet-stream", std::string("\x00\xff", 2),
       NewEvent(R"("data_base64":"AP8=","datacontenttype":"application/octet-stream")")},
      {"application/x-protobuf", "pb", NewEvent(R"("data_base64":"cGI=","datacontenttype":"application/x-protobuf")")},
      // Go's encoder escapes HTML characters and replaces invalid UTF-8.
      {"text/html", "<a&b>\xff", NewEvent(R"("data":"\u003ca\u0026b\u003e\ufffd","datacontenttype":"text/html")")},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Envelope(Input(c.content_type, c.body)), c.want) << c.content_type << " " << c.body;
  }
}

TEST(CloudEventEnvelopeTest, TraceContextAndOverrides) {
  EnvelopeInput in = Input("text/plain", "x");
  in.traceparent = "00-aaaa-bbbb-01";
  in.tracestate = "k=v";
  json ce = json::parse(Envelope(in));
  EXPECT_EQ(ce["traceid"], "00-aaaa-bbbb-01");
  EXPECT_EQ(ce["traceparent"], "00-aaaa-bbbb-01");
  EXPECT_EQ(ce["tracestate"], "k=v");
  EXPECT_FALSE(ce.contains("subject"));
  EXPECT_FALSE(ce.contains("expiration"));

  in.metadata = {{"cloudevent.id", "my-id"},         {"CloudEvent.Source", "my-src"},
                 {"cloudevent.TYPE", "my.type"},     {"cloudevent.subject", "subj"},
                 {"cloudevent.traceid", "tid"},      {"cloudevent.traceparent", "tp"},
                 {"cloudevent.tracestate", "ts=1"},  {"other", "x"}};
  ce = json::parse(Envelope(in));
  EXPECT_EQ(ce["id"], "my-id");
  EXPECT_EQ(ce["source"], "my-src");
  EXPECT_EQ(ce["type"], "my.type");
  EXPECT_EQ(ce["subject"], "subj");
  EXPECT_EQ(ce["traceid"], "tp");  // traceparent wins over traceid
  EXPECT_EQ(ce["traceparent"], "tp");
  EXPECT_EQ(ce["tracestate"], "ts=1");
  EXPECT_FALSE(ce.contains("other"));

  in.metadata = {{"cloudevent.traceid", "tid"}, {"cloudevent.id", ""}};
  ce = json::parse(Envelope(in));
  EXPECT_EQ(ce["traceparent"], "tid");
  EXPECT_EQ(ce["id"], "id-1");  // an empty override is none

  in.source = "";
  EXPECT_EQ(json::parse(Envelope(in))["source"], "Dapr");
}

TEST(CloudEventEnvelopeTest, TtlAddsExpiration) {
  struct Case {
    std::map<std::string, std::string> metadata;
    std::string want;  // "" = no expiration
  } cases[] = {
      {{{"ttlInSeconds", "60"}}, "2024-05-06T07:09:09Z"},
      {{{"ttlInSeconds", "+86400"}}, "2024-05-07T07:08:09Z"},
      {{{"ttl", "1"}}, "2024-05-06T07:08:10Z"},
      {{{"ttlInSeconds", "0"}}, ""},
      {{{"ttlInSeconds", "-5"}}, ""},
      {{{"ttlInSeconds", "soon"}, {"ttl", "10"}}, ""},  // the first key present decides
      {{{"ttlInSeconds", ""}}, ""},
      {{{"TTLINSECONDS", "60"}}, ""},  // metadata keys are case-sensitive
      {{{"ttlInSeconds", "99999999999999"}}, "2316-08-16T06:55:25Z"},  // capped like Go's time.Duration
  };
  for (const auto& c : cases) {
    json ce = json::parse(Envelope(Input("text/plain", "x", c.metadata)));
    if (c.want.empty()) {
      EXPECT_FALSE(ce.contains("expiration")) << c.metadata.begin()->first << "=" << c.metadata.begin()->second;
    } else {
      EXPECT_EQ(ce.value("expiration", ""), c.want) << c.metadata.begin()->second;
    }
  }
  // The app's own events get one too.
  json ce = json::parse(Envelope(Input("application/cloudevents+json", "{}", {{"ttlInSeconds", "60"}})));
  EXPECT_EQ(ce["expiration"], "2024-05-06T07:09:09Z");
}

TEST(CloudEventEnvelopeTest, CloudEventBodyIsCompletedNotWrapped) {
  EnvelopeInput in = Input("application/cloudevents+json; charset=utf-8",
                           R"({"id":"e1","source":"s","type":"t","specversion":"1.0","topic":"old",)"
                           R"("datacontenttype":"application/json","data":{"n":1.0,"<":2},"ext":"x"})",
                           {{"cloudevent.id", "ignored"}, {"cloudevent.type", "ignored"}});
  in.traceparent = "00-aa-bb-01";
  EXPECT_EQ(Envelope(in),
            R"({"data":{"\u003c":2,"n":1.0},"datacontenttype":"application/json","ext":"x","id":"e1",)"
            R"("pubsubname":"ps","source":"s","specversion":"1.0","time":"2024-05-06T07:08:09Z",)"
            R"("topic":"orders/eu","traceid":"00-aa-bb-01","traceparent":"00-aa-bb-01","tracestate":"","type":"t"})");

  // Missing attributes are added, except id; present (non-null) ones are kept.
  in.data = R"({"time":"2020-01-01T00:00:00Z","traceid":"mine","source":null})";
  EXPECT_EQ(Envelope(in),
            R"({"pubsubname":"ps","source":"Dapr","specversion":"1.0","time":"2020-01-01T00:00:00Z",)"
            R"("topic":"orders/eu","traceid":"mine","tracestate":"","type":"com.dapr.event.sent"})");

  for (std::string_view bad : {"", "not json", "[1,2]", "\"s\"", "null", "{\"a\":1"}) {
    in.data = bad;
    auto out = MakeEnvelope(in);
    EXPECT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CloudEventEnvelopeTest, ContentTypeClasses) {
  EXPECT_TRUE(IsCloudEventContentType("application/cloudevents+json"));
  EXPECT_TRUE(IsCloudEventContentType("APPLICATION/CLOUDEVENTS+JSON;charset=utf-8"));
  EXPECT_FALSE(IsCloudEventContentType("application/cloudevents-batch+json"));
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_FALSE(IsJsonContentType("application/json-seq"));
  EXPECT_FALSE(IsJsonContentType("application/problem+json"));
  EXPECT_FALSE(IsJsonContentType(" application/json"));  // daprd does not trim either
  EXPECT_TRUE(IsBinaryContentType("application/octet-stream; x=y"));
  EXPECT_TRUE(IsStringContentType("text/csv"));
  EXPECT_TRUE(IsStringContentType("Text/Plain"));
  EXPECT_TRUE(IsStringContentType("application/xml"));
  EXPECT_FALSE(IsStringContentType("application/json"));
}

TEST(CloudEventEnvelopeTest, RawPayloadIsAGoBool) {
  struct Case {
    std::string value;
    std::optional<bool> want;  // nullopt: an error
  } cases[] = {
      {"true", true}, {"1", true},   {"t", true},       {"T", true},     {"TRUE", true},  {"True", true},
      {"false", false}, {"0", false}, {"f", false},     {"F", false},    {"FALSE", false}, {"False", false},
      {"", false},     {"yes", {}},   {"tRUE", {}},      {" true", {}},   {"2", {}},
  };
  for (const auto& c : cases) {
    auto got = IsRawPayload({{"rawPayload", c.value}});
    if (c.want) {
      ASSERT_TRUE(got.ok()) << c.value;
      EXPECT_EQ(*got, *c.want) << c.value;
    } else {
      ASSERT_FALSE(got.ok()) << c.value;
      EXPECT_NE(got.status().message().find("rawPayload"), std::string::npos);
    }
  }
  EXPECT_FALSE(*IsRawPayload({}));
  EXPECT_FALSE(*IsRawPayload({{"rawpayload", "true"}}));  // metadata keys are case-sensitive
}

TEST(CloudEventEnvelopeTest, BulkEventBytes) {
  struct Case {
    json event;
    std::string content_type;
    std::optional<std::string> want;  // nullopt: an error
  } cases[] = {
      {"aGk=", "application/octet-stream", "hi"},
      {"not base64!", "application/octet-stream", {}},
      {json::object(), "application/octet-stream", {}},
      {"hello", "text/plain", "hello"},
      {"<x/>", "application/xml", "<x/>"},
      {42, "text/plain", {}},
      {"hello", "application/json", "\"hello\""},
      {json::parse(R"({"b":1.0,"a":"<"})"), "application/json", R"({"a":"\u003c","b":1})"},
      {json::parse(R"({"id":"1"})"), "application/cloudevents+json", R"({"id":"1"})"},
      {json(), "application/json", "null"},
      {"x", "", {}},
      {"x", "image/png", {}},
  };
  for (const auto& c : cases) {
    auto got = BulkEventBytes(c.event, c.content_type);
    if (c.want) {
      ASSERT_TRUE(got.ok()) << c.content_type << " " << c.event.dump() << ": " << got.status().ToString();
      EXPECT_EQ(*got, *c.want) << c.content_type;
    } else {
      EXPECT_FALSE(got.ok()) << c.content_type << " " << c.event.dump();
    }
  }
}

TEST(GoJsonTest, FloatsAsGoWritesThem) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"1.0", "1"},          {"1.5", "1.5"},          {"-0.0", "-0"},         {"1e-7", "1e-7"},
      {"0.000001", "0.000001"}, {"1e21", "1e+21"},    {"1e20", "100000000000000000000"},
      {"123456789.0", "123456789"}, {"1.25e-10", "1.25e-10"}, {"3.14159", "3.14159"},
      {"12345", "12345"},    {"-9223372036854775808", "-9223372036854775808"},
  };
  for (const auto& c : cases) {
    auto v = ParseGoJson(c.in);
    ASSERT_TRUE(v.has_value()) << c.in;
    EXPECT_EQ(GoJson(*v), c.want) << c.in;
  }
}

TEST(GoJsonTest, KeepNumberTextAndStructure) {
  const std::string text = R"( { "z" : [ 1.50 , 2E3, -0.0, 100000000000000000000000 ], "a":{"\u2028":"&"}, "a":{"k":1} } )";
  auto v = ParseGoJson(text, /*keep_number_text=*/true);
  ASSERT_TRUE(v.has_value());
  // A repeated key keeps its last value, as in Go.
  EXPECT_EQ(GoJson(*v), R"({"a":{"k":1},"z":[1.50,2E3,-0.0,100000000000000000000000]})");
  auto s = ParseGoJson(R"(["\u2028<>&\n\u0001"])");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(GoJson(*s), R"(["\u2028\u003c\u003e\u0026\n\u0001"])");
}

TEST(GoJsonTest, StringsAsGoWritesThem) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"plain", R"("plain")"},
      {"q\"b\\s/", R"("q\"b\\s/")"},
      {"\b\f\n\r\t\x01\x1f\x7f", "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""},
      {"<&>", R"("\u003c\u0026\u003e")"},
      {"\xe2\x80\xa8\xe2\x80\xa9", R"("\u2028\u2029")"},
      {"\xef\xbf\xbd \xf0\x9f\x98\x80 \xc3\xa9", "\"\xef\xbf\xbd \xf0\x9f\x98\x80 \xc3\xa9\""},  // valid: as is
      {"a\xff-", R"("a\ufffd-")"},                         // one replacement per invalid byte
      {"\xc0\xaf", R"("\ufffd\ufffd")"},                  // overlong
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},       // surrogate
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // past U+10FFFF
      {"\xe2\x82", R"("\ufffd\ufffd")"},                  // truncated
  };
  for (const auto& c : cases) EXPECT_EQ(GoJson(json(c.in)), c.want) << c.in;
}

TEST(GoJsonTest, RejectsWhatGoRejects) {
  for (std::string_view bad : {"", "{", "[1,]", "{'a':1}", "1 2", "nul"}) {
    EXPECT_FALSE(ParseGoJson(bad).has_value()) << bad;
  }
  // Go stops at 10000 levels of nesting.
  EXPECT_TRUE(ParseGoJson(std::string(10000, '[') + std::string(10000, ']')).has_value());
  EXPECT_FALSE(ParseGoJson(std::string(10001, '[') + std::string(10001, ']')).has_value());
  EXPECT_FALSE(ParseGoJson(std::string(1000000, '[')).has_value());
}

}  // namespace
}  // namespace ofn::components

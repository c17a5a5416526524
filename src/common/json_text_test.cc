#include "common/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace ofn::jsontext {
namespace {

using nlohmann::json;

TEST(JsonTextTest, ValidFollowsTheGrammar) {
  for (std::string_view ok : {R"({})", R"([])", R"( {"a" : [1, -2.5e+3, true, false, null, "x"]} )", "0", "-0.1",
                              "1E9", R"("\u00e9\ud83d\ude00\n\"\\\/")", "\"\xc3\xa9\"", R"([[[]]])"}) {
    EXPECT_TRUE(Valid(ok)) << ok;
  }
  for (std::string_view bad : {"", " ", "{", R"({"a":1,})", R"([1,])", R"({"a" 1})", R"({a:1})", "01", "1.",
                               "-", "+1", ".5", "1e", "tru", "nul", R"("abc)", "\"\t\"", R"("\x")", R"("\u12")",
                               R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", "\"\xff\"", "\"\xc3\"", "{} {}",
                               "[1] x", R"({"a":1}})"}) {
    EXPECT_FALSE(Valid(bad)) << bad;
  }
  EXPECT_FALSE(Valid(std::string_view("[\0]", 3)));
}

TEST(JsonTextTest, DepthIsBounded) {
  std::string deep = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(Valid(deep, 10));
  EXPECT_FALSE(Valid(deep, 9));
  std::string very = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(Valid(very)) << "deeper than 512 by default, and no stack overflow";
}

TEST(JsonTextTest, MembersAndElementsAreViewsIntoTheText) {
  std::string_view doc = R"( { "id" : "a\"b", "data":{"x":[1,{"y":"}"}]}, "n":-1.5e3 ,"t":true,"id":null } )";
  ASSERT_TRUE(Valid(doc));
  auto m = Members(doc);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].key, R"("id")");
  EXPECT_EQ(m[0].value, R"("a\"b")");
  EXPECT_EQ(Unquote(m[0].value), "a\"b");
  EXPECT_EQ(m[1].value, R"({"x":[1,{"y":"}"}]})");
  EXPECT_EQ(KindOf(m[1].value), Kind::kObject);
  EXPECT_EQ(m[2].value, "-1.5e3");
  EXPECT_EQ(KindOf(m[2].value), Kind::kNumber);
  EXPECT_EQ(KindOf(m[3].value), Kind::kTrue);
  EXPECT_EQ(KindOf(m[4].value), Kind::kNull);
  auto e = Elements(R"([ 1 , "a,]" ,[2,3], {} ])");
  EXPECT_EQ(e, (std::vector<std::string_view>{"1", R"("a,]")", "[2,3]", "{}"}));
  EXPECT_TRUE(Members("[1]").empty());
  EXPECT_TRUE(Elements("{}").empty());
}

TEST(JsonTextTest, UnquoteDecodesEveryEscape) {
  EXPECT_EQ(Unquote(R"("plain")"), "plain");
  EXPECT_EQ(Unquote(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(Unquote(R"("\u0041\u00e9\u20ac\ud83d\ude00")"), "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_TRUE(Equals(R"("pubsub\u004eame")", "pubsubName"));
  EXPECT_TRUE(Equals(R"("data")", "data"));
  EXPECT_FALSE(Equals(R"("data")", "dat"));
}

TEST(JsonTextTest, AppendQuotedAlwaysWritesValidJson) {
  for (std::string_view in : {std::string_view("plain"), std::string_view("q\"b\\s/\n\r\t\b\f\x01\x1f"),
                              std::string_view("\xc3\xa9\xf0\x9f\x98\x80"), std::string_view("a\xff" "b\xc3", 4),
                              std::string_view("\0x", 2)}) {
    std::string out;
    AppendQuoted(out, in);
    ASSERT_TRUE(Valid(out)) << out;
    EXPECT_EQ(json::parse(out), json::parse(json(std::string(in)).dump(-1, ' ', false, json::error_handler_t::replace)))
        << out;
  }
}

// The scans look at 16 and 64 bytes a step: put every kind of byte at every
// offset around those widths, inside and after long strings, and compare with
// nlohmann.
TEST(JsonTextTest, LongStringsAtEveryOffset) {
  const std::vector<std::string> specials = {"\"",   "\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xa9", "\xe2\x82\xac",
                                             "\xff", "\x01", "\x1f", "\x7f", "{",      "]",        "\\",
                                             "\xc3", "\\ud83d\\ude00"};
  int checked = 0;
  for (size_t len : {0, 1, 15, 16, 17, 31, 47, 63, 64, 65, 70, 127, 128, 129, 200}) {
    for (size_t at = 0; at <= len; at += (len > 20 && at + 3 < len - 3 ? 7 : 1)) {
      for (const auto& sp : specials) {
        std::string body = std::string(at, 'x') + sp + std::string(len - at, 'y');
        for (const std::string& doc : {"\"" + body + "\"", "{\"k\":\"" + body + "\",\"n\":[1,{\"z\":\"}\"}]}",
                                       "[\"" + body + "\",{\"a\":[\"" + body + "\"]},2]"}) {
          bool ours = Valid(doc);
          ASSERT_EQ(ours, json::accept(doc)) << doc;
          if (!ours) continue;
          ++checked;
          json tree = json::parse(doc);
          if (tree.is_object()) {
            json rebuilt = json::object();
            for (const auto& m : Members(doc)) rebuilt[Unquote(m.key)] = json::parse(m.value);
            ASSERT_EQ(rebuilt, tree) << doc;
          } else if (tree.is_array()) {
            json rebuilt = json::array();
            for (auto e : Elements(doc)) rebuilt.push_back(json::parse(e));
            ASSERT_EQ(rebuilt, tree) << doc;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
  // A container cut off inside a string or nesting ends at the text's end.
  std::string cut = "{\"a\":[\"" + std::string(100, 'x');
  ASSERT_EQ(Members(cut).size(), 1u);
  EXPECT_EQ(Members(cut)[0].value.size(), cut.size() - 5);
  std::string quoted;
  AppendQuoted(quoted, std::string(40, 'a') + "\"\n" + std::string(40, 'b') + "\xc3\xa9\xff");
  EXPECT_EQ(quoted, "\"" + std::string(40, 'a') + "\\\"\\n" + std::string(40, 'b') + "\xc3\xa9\xef\xbf\xbd\"");
}

// Against nlohmann on mutations of real documents: the same verdict, and the
// same members and strings as its tree.
TEST(JsonTextTest, AgreesWithATreeParser) {
  const std::vector<std::string> seeds = {
      R"({"specversion":"1.0","id":"a-1","source":"s","data":{"run":"x","n":7,"pad":"xxxx\u00e9"},"e":[1,2.5,null]})",
      R"({"entries":[{"entryId":"1","event":{"id":"q"},"metadata":{"k":"v\n"}}],"id":"z"})",
      R"([true,false,"\ud83d\ude00",-0,1e-7,{"":""}])"};
  std::mt19937 rng(42);
  const std::string alphabet = "{}[]\":,\\ u0123456789abcdefEe.-+tnrl\xc3\xa9\x80";
  int checked = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s = seeds[round % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && round >= static_cast<int>(seeds.size()); ++k) {
      size_t at = rng() % (s.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: s.insert(at, 1, c); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        default: if (at < s.size()) s[at] = c;
      }
    }
    bool ours = Valid(s);
    ASSERT_EQ(ours, json::accept(s)) << s;
    if (!ours) continue;
    ++checked;
    json tree = json::parse(s);
    if (tree.is_object()) {
      json rebuilt = json::object();
      for (const auto& m : Members(s)) rebuilt[Unquote(m.key)] = json::parse(m.value);
      ASSERT_EQ(rebuilt, tree) << s;
    }
    if (tree.is_string()) {
      ASSERT_EQ(Unquote(s.substr(s.find('"'), s.rfind('"') - s.find('"') + 1)), tree.get<std::string>()) << s;
    }
  }
  EXPECT_GT(checked, 1000) << "enough mutations stayed valid to compare trees";
}

}  // namespace
}  // namespace ofn::jsontext

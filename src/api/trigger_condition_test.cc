#include "api/trigger_condition.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ofn::api {
namespace {

using nlohmann::json;
using Names = std::set<std::string, std::less<>>;

const Names kInputs = {"eventA", "eventB", "a", "b", "c", "input-demo", "input_2"};

// A GitHub-like CloudEvent in structured form.
json Event() {
  return json::parse(R"({
    "specversion": "1.0", "id": "e-42", "source": "https://github.com/org/repo",
    "type": "com.github.pull_request.opened", "subject": "pr/7", "time": "2024-05-01T10:00:00Z",
    "datacontenttype": "application/json", "partitionkey": "tenant-1", "priority": 3,
    "data": {"level": "error", "count": 12, "ratio": 0.5, "urgent": true, "calm": false, "none": null,
             "user": {"name": "ada", "roles": ["admin", "dev"]}, "items": [{"sku": "x1"}, {"sku": "y2"}],
             "key with-dash": "yes", "tags": ["a", "b"], "text": "line\nnext", "snow": "\u2603"}
  })");
}

TriggerCondition MustParse(std::string_view text, const Names& inputs = kInputs) {
  auto c = TriggerCondition::Parse(text, inputs);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
  if (!c.ok()) return *TriggerCondition::Parse("false", {});
  return *std::move(c);
}

bool Eval(std::string_view text, const std::set<std::string>& active = {}, const json& event = Event()) {
  return MustParse(text).Evaluate([&](std::string_view name) { return active.count(std::string(name)) > 0; },
                                  event);
}

std::string ParseError(std::string_view text, const Names& inputs = kInputs) {
  auto c = TriggerCondition::Parse(text, inputs);
  if (c.ok()) return "parsed";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  return c.status().message();
}

TEST(TriggerConditionTest, OpenFunctionInputLogic) {
  EXPECT_TRUE(Eval("eventA", {"eventA"}));
  EXPECT_FALSE(Eval("eventA", {"eventB"}));
  EXPECT_TRUE(Eval("eventA && eventB", {"eventA", "eventB"}));
  EXPECT_FALSE(Eval("eventA && eventB", {"eventA"}));
  EXPECT_TRUE(Eval("eventA || !eventB", {}));
  EXPECT_FALSE(Eval("eventA || !eventB", {"eventB"}));
  EXPECT_TRUE(Eval("eventA || !eventB", {"eventA", "eventB"}));
  EXPECT_TRUE(Eval("(a || b) && c", {"b", "c"}));
  EXPECT_FALSE(Eval("(a || b) && c", {"a", "b"}));
  EXPECT_FALSE(Eval("a || b && c", {"b"}));  // && binds tighter than ||
  EXPECT_TRUE(Eval("a || b && c", {"a"}));
  EXPECT_TRUE(Eval("!!a", {"a"}));
  EXPECT_FALSE(Eval("!!!a", {"a"}));
  EXPECT_TRUE(Eval("input-demo && input_2", {"input-demo", "input_2"}));
  EXPECT_TRUE(Eval("  eventA\n\t&&\r\neventB  ", {"eventA", "eventB"}));
}

TEST(TriggerConditionTest, ShortCircuitsInputQueries) {
  auto c = MustParse("a || b && c");
  std::vector<std::string> asked;
  EXPECT_TRUE(c.Evaluate(
      [&](std::string_view n) {
        asked.emplace_back(n);
        return n == "a";
      },
      Event()));
  EXPECT_EQ(asked, std::vector<std::string>{"a"});
}

TEST(TriggerConditionTest, InputsMentionedSortedOnce) {
  auto c = MustParse("eventB && (eventA || !eventB) && data.level == 'error' && type.startsWith('x')");
  EXPECT_EQ(c.Inputs(), (std::vector<std::string>{"eventA", "eventB"}));
  EXPECT_EQ(c.text(), "eventB && (eventA || !eventB) && data.level == 'error' && type.startsWith('x')");
  EXPECT_TRUE(MustParse("data.x == 1").Inputs().empty());
}

TEST(TriggerConditionTest, ContextAttributes) {
  EXPECT_TRUE(Eval(R"(type == "com.github.pull_request.opened")"));
  EXPECT_TRUE(Eval("source != 'https://gitlab.com'"));
  EXPECT_TRUE(Eval("id == 'e-42' && subject == 'pr/7' && specversion == '1.0'"));
  EXPECT_TRUE(Eval("datacontenttype == 'application/json'"));
  EXPECT_TRUE(Eval("time >= '2024-05-01T00:00:00Z' && time < '2024-05-02T00:00:00Z'"));
  EXPECT_FALSE(Eval("dataschema == 'x'"));  // absent
  EXPECT_TRUE(Eval("dataschema != 'x'"));
  EXPECT_TRUE(Eval("eventA && type.startsWith('com.github.')", {"eventA"}));
  EXPECT_FALSE(Eval("eventA && type.startsWith('com.github.')", {}));
}

TEST(TriggerConditionTest, Extensions) {
  EXPECT_TRUE(Eval("extensions.partitionkey == 'tenant-1'"));
  EXPECT_TRUE(Eval("extensions[\"partitionkey\"].startsWith('tenant')"));
  EXPECT_TRUE(Eval("extensions.priority > 2"));
  EXPECT_FALSE(Eval("extensions.missing == 'x'"));
}

TEST(TriggerConditionTest, DataPaths) {
  EXPECT_TRUE(Eval("eventA && data.level == \"error\"", {"eventA"}));
  EXPECT_TRUE(Eval("data.user.name == 'ada'"));
  EXPECT_TRUE(Eval("data.user.roles[1] == 'dev'"));
  EXPECT_TRUE(Eval("data.items[0].sku == 'x1' && data.items[1]['sku'] == 'y2'"));
  EXPECT_TRUE(Eval("data[\"key with-dash\"] == 'yes'"));
  EXPECT_TRUE(Eval("data.text == 'line\\nnext'"));
  EXPECT_TRUE(Eval("data.snow == '\\u2603'"));
  EXPECT_TRUE(Eval("data == data"));  // objects compare deeply
  EXPECT_TRUE(Eval("data.tags == data.tags"));
  EXPECT_FALSE(Eval("data.tags == data.user.roles"));
  EXPECT_TRUE(Eval("(data.user).name == 'ada'"));
}

TEST(TriggerConditionTest, BareValuesAreTrueOnlyWhenJsonTrue) {
  EXPECT_TRUE(Eval("data.urgent"));
  EXPECT_FALSE(Eval("data.calm"));
  EXPECT_TRUE(Eval("!data.calm"));
  EXPECT_FALSE(Eval("data.level"));  // a string is not true
  EXPECT_FALSE(Eval("data.count"));
  EXPECT_FALSE(Eval("data.missing"));
  EXPECT_TRUE(Eval("!data.missing"));
  EXPECT_FALSE(Eval("data"));
  EXPECT_TRUE(Eval("true"));
  EXPECT_FALSE(Eval("null"));
  EXPECT_TRUE(Eval("data.urgent == true && data.calm != true"));
}

TEST(TriggerConditionTest, NumberComparisons) {
  EXPECT_TRUE(Eval("data.count == 12"));
  EXPECT_TRUE(Eval("data.count == 12.0"));
  EXPECT_TRUE(Eval("data.count > 11.5 && data.count <= 12 && data.count >= 12 && data.count < 13"));
  EXPECT_TRUE(Eval("data.ratio < 1 && data.ratio > -1"));
  EXPECT_TRUE(Eval("-0.5 < data.ratio"));
  EXPECT_TRUE(Eval("99999999999999999999 > data.count"));  // beyond int64: a double
  EXPECT_FALSE(Eval("data.count != 12"));
}

TEST(TriggerConditionTest, StringComparisonsAreLexicographic) {
  EXPECT_TRUE(Eval("data.level < 'warn' && data.level > 'debug'"));
  EXPECT_TRUE(Eval("'abc' < 'abd' && 'ab' < 'abc' && 'B' < 'a'"));
  EXPECT_TRUE(Eval("'\\u00e9' > 'z'"));  // bytewise: UTF-8 lead bytes sort after ASCII
}

TEST(TriggerConditionTest, MissingValuesAndTypeMismatches) {
  // Missing: == false, != true, orderings false. Missing is not null.
  EXPECT_FALSE(Eval("data.nope == 'x'"));
  EXPECT_TRUE(Eval("data.nope != 'x'"));
  EXPECT_FALSE(Eval("data.nope < 1 || data.nope >= 1"));
  EXPECT_FALSE(Eval("data.nope == null"));
  EXPECT_TRUE(Eval("data.none == null"));
  EXPECT_FALSE(Eval("data.nope == data.nope2"));
  EXPECT_FALSE(Eval("data.items[5].sku == 'x1'"));  // out of range
  EXPECT_FALSE(Eval("data.level.deeper == 'x'"));   // a field of a string
  EXPECT_FALSE(Eval("data.items['0'] == data.items[0]"));
  // Mismatched types.
  EXPECT_FALSE(Eval("data.count == '12'"));
  EXPECT_TRUE(Eval("data.count != '12'"));
  EXPECT_FALSE(Eval("data.count < '13' || data.count > '1'"));
  EXPECT_FALSE(Eval("data.urgent == 1"));
  EXPECT_FALSE(Eval("true < false || true > false"));  // bools do not order
  EXPECT_FALSE(Eval("data.level == null"));
  // Without data, or with a non-object event, everything is missing.
  EXPECT_FALSE(Eval("data.level == 'error'", {}, json::object({{"type", "t"}})));
  EXPECT_TRUE(Eval("type != 'x'", {}, json::array()));
}

TEST(TriggerConditionTest, Methods) {
  EXPECT_TRUE(Eval("data.level.startsWith('err')"));
  EXPECT_FALSE(Eval("data.level.startsWith('ror')"));
  EXPECT_TRUE(Eval("data.level.endsWith('ror')"));
  EXPECT_TRUE(Eval("data.user.name.contains('d')"));
  EXPECT_TRUE(Eval("source.contains('github.com/org/')"));
  EXPECT_TRUE(Eval("data.level.contains('')"));
  EXPECT_TRUE(Eval("data.level.startsWith(extensions.partitionkey) == false"));
  EXPECT_TRUE(Eval("'abc'.contains(\"b\")"));
  EXPECT_TRUE(Eval("!data.level.contains('warn')"));
  // False unless both sides are strings.
  EXPECT_FALSE(Eval("data.count.contains('1')"));
  EXPECT_FALSE(Eval("data.tags.contains('a')"));
  EXPECT_FALSE(Eval("data.level.contains(1)"));
  EXPECT_FALSE(Eval("data.nope.startsWith('')"));
  // A member called like a method name is still a field.
  EXPECT_TRUE(Eval("data.contains == null", {}, json::parse(R"({"data": {"contains": null}})")));
}

TEST(TriggerConditionTest, InputNameWinsOverAttributeWhenBare) {
  Names inputs = {"type", "data"};
  auto c = TriggerCondition::Parse("type && type.startsWith('com.') && data && data.x == 1", inputs);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  json event = {{"type", "com.example"}, {"data", {{"x", 1}}}};
  EXPECT_TRUE(c->Evaluate([](std::string_view) { return true; }, event));
  EXPECT_FALSE(c->Evaluate([](std::string_view n) { return n != "type"; }, event));
  EXPECT_EQ(c->Inputs(), (std::vector<std::string>{"data", "type"}));
}

TEST(TriggerConditionTest, StringEscapes) {
  json event = {{"data", {{"s", "a\"b'c\\d\te/\xF0\x9F\x98\x80"}}}};
  EXPECT_TRUE(Eval(R"(data.s == "a\"b'c\\d\te\/\ud83d\ude00")", {}, event));
  EXPECT_TRUE(Eval(R"(data.s == 'a"b\'c\\d\te/😀')", {}, event));
}

TEST(TriggerConditionTest, SyntaxErrorsNameTheColumn) {
  EXPECT_EQ(ParseError("eventA &&"), "column 10: expected an operand after \"&&\"");
  EXPECT_EQ(ParseError("eventA && || b"), "column 11: expected an operand after \"&&\"");
  EXPECT_EQ(ParseError("(eventA || b"), "column 1: unclosed \"(\"");
  EXPECT_EQ(ParseError("a && (b || (c)"), "column 6: unclosed \"(\"");
  EXPECT_EQ(ParseError("(a b)"), "column 4: expected \")\" before \"b\"");
  EXPECT_EQ(ParseError("a == \"err"), "column 6: unterminated string");
  EXPECT_EQ(ParseError("a == 'err\\'"), "column 6: unterminated string");
  EXPECT_EQ(ParseError("a b"), "column 3: expected an operator before \"b\"");
  EXPECT_EQ(ParseError("a)"), "column 2: unmatched \")\"");
  EXPECT_EQ(ParseError(""), "column 1: empty condition");
  EXPECT_EQ(ParseError("   "), "column 1: empty condition");
  EXPECT_EQ(ParseError("&& a"), "column 1: expected an operand before \"&&\"");
  EXPECT_EQ(ParseError("!"), "column 2: expected an operand after \"!\"");
  EXPECT_EQ(ParseError("a & b"), "column 3: unexpected \"&\" (did you mean \"&&\"?)");
  EXPECT_EQ(ParseError("a | b"), "column 3: unexpected \"|\" (did you mean \"||\"?)");
  EXPECT_EQ(ParseError("type = 'x'"), "column 6: unexpected \"=\" (did you mean \"==\"?)");
  EXPECT_EQ(ParseError("a # b"), "column 3: unexpected character \"#\"");
  EXPECT_EQ(ParseError("a && \xff"), "column 6: unexpected character \"\\xff\"");
  EXPECT_EQ(ParseError("a - b"), "column 3: unexpected character \"-\"");  // no arithmetic
  EXPECT_EQ(ParseError("data.x == 1 == 1"), "column 13: comparisons do not chain; join them with \"&&\"");
  EXPECT_EQ(ParseError("data. == 1"), "column 7: expected a field or method name after \".\"");
  EXPECT_EQ(ParseError("data[x]"), "column 6: expected a quoted name or an array index after \"[\"");
  EXPECT_EQ(ParseError("data[-1]"), "column 6: expected a quoted name or an array index after \"[\"");
  EXPECT_EQ(ParseError("data[0"), "column 5: unclosed \"[\"");
  EXPECT_EQ(ParseError("data[0 1]"), "column 8: expected \"]\" before \"1\"");
  EXPECT_EQ(ParseError("type.matches('x')"), "column 6: unknown method \"matches\" (methods: startsWith, endsWith, contains)");
  EXPECT_EQ(ParseError("type.startsWith('x'"), "column 16: unclosed \"(\"");
  EXPECT_EQ(ParseError("type.startsWith()"), "column 17: expected an operand after \"(\"");
  EXPECT_EQ(ParseError("type.startsWith('a' 'b')"), "column 21: expected \")\" before \"'b'\"");
  EXPECT_EQ(ParseError("extensions == 'x'"), "column 1: expected \".NAME\" after \"extensions\"");
  EXPECT_EQ(ParseError("a.x"), "column 1: input \"a\" is a boolean and has no fields");
  EXPECT_EQ(ParseError("data.x == 12abc"), "column 11: invalid number \"12abc\"");
  EXPECT_EQ(ParseError("'\\q'"), "column 2: unknown escape \"\\q\"");
  EXPECT_EQ(ParseError("'\\u12'"), "column 2: \"\\u\" needs four hex digits");
  EXPECT_EQ(ParseError("'\\ud83d'"), "column 2: unpaired surrogate in \"\\u\" escape");
  EXPECT_EQ(ParseError("'\\ude00'"), "column 2: unpaired surrogate in \"\\u\" escape");
  // The first problem wins, even when a later character would not lex.
  EXPECT_EQ(ParseError("a && && #"), "column 6: expected an operand after \"&&\"");
}

TEST(TriggerConditionTest, UnknownIdentifierListsTheInputs) {
  EXPECT_EQ(ParseError("a && evntA", {"a", "eventA"}), "column 6: unknown input \"evntA\" (inputs: a, eventA)");
  EXPECT_EQ(ParseError("x", {}), "column 1: unknown input \"x\" (inputs: none)");
  EXPECT_EQ(ParseError("Type == 'x'", {}), "column 1: unknown input \"Type\" (inputs: none)");
}

TEST(TriggerConditionTest, Limits) {
  std::string longest = "a";
  while (longest.size() + 5 <= TriggerCondition::kMaxLength) longest += " || a";
  EXPECT_TRUE(Eval(longest, {"a"}));
  EXPECT_EQ(ParseError(longest + std::string(TriggerCondition::kMaxLength - longest.size() + 1, ' ')),
            "column 4097: condition longer than 4096 bytes");

  auto nested = [](int depth) { return std::string(depth, '(') + "a" + std::string(depth, ')'); };
  EXPECT_TRUE(Eval(nested(64), {"a"}));
  EXPECT_EQ(ParseError(nested(65)), "column 65: nested deeper than 64 levels");
  // Method arguments count as nesting too.
  std::string methods = "'x'";
  for (int i = 0; i < 64; ++i) methods = "'x'.contains(" + methods + ")";
  EXPECT_TRUE(TriggerCondition::Parse(methods, kInputs).ok());
  methods = "'x'.contains(" + methods + ")";
  EXPECT_EQ(ParseError(methods), "column 845: nested deeper than 64 levels");  // the 65th "(": 64 * 13 + 13
  // Long flat chains and "!" runs are not nesting.
  EXPECT_TRUE(Eval(std::string(2000, '!') + "a", {"a"}));
  std::string path = "data";
  for (int i = 0; i < 800; ++i) path += ".a";
  EXPECT_TRUE(Eval(path + " == null || true"));
}

TEST(TriggerConditionTest, EvaluatesConcurrently) {
  auto c = MustParse("eventA && data.count > 10 && type.startsWith('com.github.')");
  const json event = Event();
  std::atomic<int> trues{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        bool on = (i + t) % 2 == 0;
        if (c.Evaluate([on](std::string_view) { return on; }, event)) ++trues;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(trues.load(), 2000);
}

}  // namespace
}  // namespace ofn::api

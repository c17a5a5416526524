#include "api/manifest.h"

#include <gtest/gtest.h>

namespace ofn::api {
namespace {

using nlohmann::json;

Document ParseOne(std::string_view text) {
  auto docs = ParseManifests(text, "t.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << "expected one document";
    return {};
  }
  return std::move((*docs)[0]);
}

std::string ParseError(std::string_view text) {
  auto docs = ParseManifests(text, "t.yaml");
  EXPECT_FALSE(docs.ok());
  return docs.ok() ? std::string() : docs.status().message();
}

TEST(Manifest, ScalarsAreTypedAsKubernetesTypesThem) {
  Document d = ParseOne(R"(
a: 5
b: "5"
c: '5'
d: true
e: yes
f: off
g: ~
h: null
i:
j: 1.5
k: 1e3
l: 0x1F
m: 0755
neg: -12
o: 1_000
p: !!str 7
q: !!int "8"
r: 12345678901234567890
s: "true"
t: |
  block
u: 2023-05-19T02:19:38Z
v: +5
w: 08
x: .5
upper: NO
z: hello world
n: 1
big: 1e999
)");
  const json& o = d.object;
  EXPECT_EQ(o["a"], 5);
  EXPECT_TRUE(o["a"].is_number_integer());
  EXPECT_EQ(o["b"], "5");
  EXPECT_EQ(o["c"], "5");
  EXPECT_EQ(o["d"], true);
  EXPECT_EQ(o["e"], true) << "YAML 1.1, as kubectl reads it";
  EXPECT_EQ(o["f"], false);
  EXPECT_TRUE(o["g"].is_null());
  EXPECT_TRUE(o["h"].is_null());
  EXPECT_TRUE(o["i"].is_null());
  EXPECT_TRUE(o["j"].is_number_float());
  EXPECT_DOUBLE_EQ(o["j"].get<double>(), 1.5);
  EXPECT_TRUE(o["k"].is_number_float());
  EXPECT_DOUBLE_EQ(o["k"].get<double>(), 1000.0);
  EXPECT_EQ(o["l"], 31);
  EXPECT_EQ(o["m"], 493) << "a leading 0 is octal in YAML 1.1";
  EXPECT_EQ(o["neg"], -12);
  EXPECT_EQ(o["o"], 1000);
  EXPECT_EQ(o["p"], "7");
  EXPECT_EQ(o["q"], 8);
  EXPECT_TRUE(o["r"].is_number_unsigned());
  EXPECT_EQ(o["s"], "true");
  EXPECT_EQ(o["t"], "block\n");
  EXPECT_EQ(o["u"], "2023-05-19T02:19:38Z") << "timestamps stay strings";
  EXPECT_EQ(o["v"], 5);
  EXPECT_TRUE(o["w"].is_number_float()) << "08 is no octal number, so a float (as go-yaml v2)";
  EXPECT_DOUBLE_EQ(o["x"].get<double>(), 0.5);
  EXPECT_EQ(o["upper"], false);
  EXPECT_EQ(o["z"], "hello world");
  EXPECT_EQ(o["big"], "1e999") << "beyond a double: go-yaml keeps the text";
  EXPECT_EQ(o["false"], 1) << "the key n is a YAML 1.1 boolean, so \"false\" (as kubectl has it)";
}

TEST(Manifest, KeysBecomeStrings) {
  Document d = ParseOne("1: a\ntrue: b\n1.5: d\n\"x y\": e\n");
  EXPECT_EQ(d.object["1"], "a");
  EXPECT_EQ(d.object["true"], "b");
  EXPECT_EQ(d.object["1.5"], "d");
  EXPECT_EQ(d.object["x y"], "e");
  EXPECT_EQ(ParseOne("on: c\n").object["true"], "c") << "a YAML 1.1 boolean key, as kubectl reads it";
  EXPECT_NE(ParseError("true: a\non: b\n").find("duplicate key \"true\""), std::string::npos);
}

TEST(Manifest, DocumentsEmptyOnesSkippedAndLines) {
  auto docs = ParseManifests(R"(---
# only a comment
---
apiVersion: v1
kind: A
metadata:
  name: one
---

---
apiVersion: v1
kind: B
metadata:
  name: two
  namespace: ns
...
)",
                             "multi.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].kind, "A");
  EXPECT_EQ((*docs)[0].name, "one");
  EXPECT_EQ((*docs)[0].ns, "default");
  EXPECT_EQ((*docs)[0].line, 4);
  EXPECT_EQ((*docs)[0].source, "multi.yaml");
  EXPECT_EQ((*docs)[1].kind, "B");
  EXPECT_EQ((*docs)[1].ns, "ns");
  EXPECT_EQ((*docs)[1].line, 11);
}

TEST(Manifest, EmptyInputHasNoDocuments) {
  for (std::string_view text : {"", "\n", "# comment\n", "---\n", "---\n---\n"}) {
    auto docs = ParseManifests(text, "e.yaml");
    ASSERT_TRUE(docs.ok()) << text;
    EXPECT_TRUE(docs->empty()) << text;
  }
}

TEST(Manifest, PositionsOfEveryField) {
  Document d = ParseOne(R"(apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: hello
  labels:
    app.kubernetes.io/name: hello
spec:
  serving:
    scaleOptions:
      minReplicas: two
    template:
      containers:
        - name: function
          env:
            - name: A
              value: "1"
)");
  EXPECT_EQ(d.PositionOf("/spec/serving/scaleOptions/minReplicas").line, 10);
  EXPECT_EQ(d.PositionOf("/spec/serving/scaleOptions/minReplicas").column, 7);
  EXPECT_EQ(d.PositionOf("/spec/serving/template/containers/0").line, 13);
  EXPECT_EQ(d.PositionOf("/spec/serving/template/containers/0/env/0/value").line, 16);
  EXPECT_EQ(d.PositionOf("/metadata/labels/app.kubernetes.io~1name").line, 6);
  EXPECT_EQ(d.PositionOf("/spec/serving/scaleOptions/maxReplicas").line, 9) << "nearest ancestor";
  EXPECT_EQ(d.labels.at("app.kubernetes.io/name"), "hello");
  Diagnostic diag = d.At(FieldPath().Child("spec").Child("serving").Child("scaleOptions").Child("minReplicas"),
                         "expected integer, got \"two\"");
  EXPECT_EQ(diag.ToString(), "t.yaml:10: spec.serving.scaleOptions.minReplicas: expected integer, got \"two\"");
}

TEST(Manifest, JsonIsYaml) {
  Document d = ParseOne(R"({"apiVersion": "v1", "kind": "X", "metadata": {"name": "n"},
    "spec": {"port": 8080, "name": "8080", "ok": true, "none": null, "list": [1, "2", 3.5]}})");
  EXPECT_EQ(d.object["spec"]["port"], 8080);
  EXPECT_EQ(d.object["spec"]["name"], "8080");
  EXPECT_EQ(d.object["spec"]["ok"], true);
  EXPECT_TRUE(d.object["spec"]["none"].is_null());
  EXPECT_EQ(d.object["spec"]["list"], json::parse(R"([1, "2", 3.5])"));
  EXPECT_EQ(d.PositionOf("/spec/list").line, 2);
}

TEST(Manifest, AnchorsAliasesAndMergeKeys) {
  Document d = ParseOne(R"(
base: &base
  a: 1
  b: 2
copy: *base
merged:
  <<: *base
  b: 3
many:
  <<: [{x: 1}, {x: 2, z: 2}]
)");
  EXPECT_EQ(d.object["copy"], json::parse(R"({"a":1,"b":2})"));
  EXPECT_EQ(d.object["merged"], json::parse(R"({"a":1,"b":3})")) << "explicit keys win";
  EXPECT_EQ(d.object["many"], json::parse(R"({"x":1,"z":2})")) << "earlier maps win";
}

TEST(Manifest, SyntaxErrorsNameTheLine) {
  std::string e = ParseError("apiVersion: v1\nkind: X\nspec:\n  a: [1, 2\n  b: 3\n");
  EXPECT_TRUE(e.starts_with("t.yaml:")) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  e = ParseError("a: 1\n---\nb: c: d\n");
  EXPECT_TRUE(e.starts_with("t.yaml:3:")) << e;
  e = ParseError("a:\n\t- b\n");
  EXPECT_TRUE(e.starts_with("t.yaml:")) << e;
}

// yaml-cpp 0.7's LoadAll never returns on these; Ofn must answer.
TEST(Manifest, StrayCommasAtDocumentLevel) {
  for (std::string_view text : {",", "{},\"sp\"", "{a: 1},", "a: 1\n---\n{b: 1},", "&a {a: 1},", "---\n,\n"}) {
    std::string e = ParseError(text);
    EXPECT_TRUE(e.starts_with("t.yaml:")) << text << ": " << e;
    EXPECT_NE(e.find("unexpected ','"), std::string::npos) << text << ": " << e;
  }
  for (std::string_view text : {"[1],2", "\"a\",\"b\""}) {
    EXPECT_TRUE(ParseError(text).starts_with("t.yaml:1:")) << text;
  }
  ParseLimits limits;
  limits.max_documents = 3;
  auto r = ParseManifests("---\n---\n---\n---\n", "t.yaml", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 3 documents"), std::string::npos);
}

TEST(Manifest, DuplicateKeysAreErrors) {
  std::string e = ParseError("apiVersion: v1\nkind: X\nspec:\n  port: 1\n  port: 2\n");
  EXPECT_EQ(e, "t.yaml:5: duplicate key \"port\" (first at line 4)");
  e = ParseError("a: 1\n\"a\": 2\n");
  EXPECT_NE(e.find("duplicate key"), std::string::npos);
}

TEST(Manifest, RejectsWhatJsonCannotHold) {
  EXPECT_NE(ParseError("a: .inf\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(ParseError("a: .nan\n").find("t.yaml:1:"), std::string::npos);
  EXPECT_NE(ParseError("? [a, b]\n: c\n").find("map keys must be strings"), std::string::npos);
  EXPECT_NE(ParseError("~: c\n").find("null"), std::string::npos);
  EXPECT_NE(ParseError("a: !custom x\n").find("unsupported YAML tag"), std::string::npos);
  EXPECT_NE(ParseError("a: !!int abc\n").find("cannot read"), std::string::npos);
}

TEST(Manifest, DocumentsMustBeMaps) {
  EXPECT_NE(ParseError("- a\n- b\n").find("is not a map"), std::string::npos);
  EXPECT_NE(ParseError("a: 1\n---\njust text\n").find("t.yaml:3: document 2 is not a map"), std::string::npos);
}

TEST(Manifest, InvalidUtf8NamesTheLine) {
  std::string text = "a: 1\nb: \xff\xfe\n";
  EXPECT_EQ(ParseError(text), "t.yaml:2: invalid UTF-8 (manifests must be UTF-8 text)");
  EXPECT_NE(ParseError("a: \"\\ud800\"\n").find("t.yaml:1:"), std::string::npos) << "a lone surrogate escape";
}

TEST(Manifest, Limits) {
  ParseLimits limits;
  limits.max_bytes = 100;
  auto r = ParseManifests(std::string(200, '#'), "big.yaml", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("manifest too large"), std::string::npos);

  std::string deep = "a: " + std::string(150, '[') + std::string(150, ']') + "\n";
  r = ParseManifests(deep, "deep.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("deep.yaml:1: nesting deeper than 100"), std::string::npos)
      << r.status().message();

  std::string very_deep = "a: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  r = ParseManifests(very_deep, "deep.yaml");
  EXPECT_FALSE(r.ok()) << "yaml-cpp's own depth guard, or ours";

  // "Billion laughs": aliases that expand exponentially.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  r = ParseManifests(bomb, "bomb.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("document too large"), std::string::npos) << r.status().message();
}

TEST(Manifest, HugeDocumentParses) {
  std::string text = "apiVersion: v1\nkind: X\nmetadata:\n  name: big\nspec:\n  params:\n";
  for (int i = 0; i < 50000; ++i) text += "    K" + std::to_string(i) + ": \"v" + std::to_string(i) + "\"\n";
  auto r = ParseManifests(text, "huge.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].object["spec"]["params"].size(), 50000u);
  EXPECT_EQ((*r)[0].PositionOf("/spec/params/K49999").line, 50006);
}

TEST(Manifest, ClusterScopedKindsHaveNoNamespace) {
  Document d = ParseOne("apiVersion: events.openfunction.io/v1alpha1\nkind: ClusterEventBus\nmetadata:\n  name: b\n");
  EXPECT_EQ(d.ns, "");
  d = ParseOne("apiVersion: events.openfunction.io/v1alpha1\nkind: EventBus\nmetadata:\n  name: b\n");
  EXPECT_EQ(d.ns, "default");
}

TEST(Manifest, DescribeValue) {
  EXPECT_EQ(DescribeValue(json("two")), "\"two\"");
  EXPECT_EQ(DescribeValue(json(5)), "5");
  EXPECT_EQ(DescribeValue(json::object()), "object");
  EXPECT_EQ(DescribeValue(json::array()), "array");
  EXPECT_EQ(DescribeValue(json(std::string(100, 'x'))).size(), 60u);
}

}  // namespace
}  // namespace ofn::api

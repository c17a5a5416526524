#include "api/schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/schema_registry.h"

namespace ofn::api {
namespace {

using nlohmann::json;

std::unique_ptr<Schema> Compile(std::string_view schema) {
  auto s = Schema::Compile(json::parse(schema));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

Schema::Outcome Check(const Schema& s, std::string_view value) {
  Schema::Outcome out;
  s.Validate(json::parse(value), FieldPath(), &out);
  return out;
}

// "pointer: message" for each error, in order.
std::vector<std::string> Errors(const Schema::Outcome& o) {
  std::vector<std::string> v;
  for (const Diagnostic& d : o.errors) v.push_back(d.path + ": " + d.message);
  return v;
}

std::vector<std::string> Unknown(const Schema::Outcome& o) {
  std::vector<std::string> v;
  for (const Diagnostic& d : o.unknown) v.push_back(d.pointer);
  return v;
}

const char* kSchema = R"({
  "type": "object",
  "required": ["name", "port"],
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z]+$"},
    "port": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 65535},
    "big": {"type": "integer", "format": "int64"},
    "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
    "on": {"type": "boolean"},
    "mode": {"type": "string", "enum": ["a", "b"]},
    "code": {"type": "integer", "enum": [301, 302]},
    "when": {"type": "string", "format": "duration"},
    "maybe": {"type": "string", "nullable": true},
    "qty": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true,
            "pattern": "^[0-9]+m?$"},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2},
    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
    "any": {"x-kubernetes-preserve-unknown-fields": true},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "x-kubernetes-list-type": "set"},
    "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
              "items": {"type": "object", "required": ["name"],
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
    "nested": {"type": "object", "properties": {"deep": {"type": "object", "required": ["x"],
               "properties": {"x": {"type": "integer"}}}}}
  }
})";

TEST(Schema, AcceptsValid) {
  auto s = Compile(kSchema);
  auto o = Check(*s, R"({"name": "web", "port": 8080, "big": 9007199254740993, "ratio": 0.5, "on": true,
    "mode": "a", "code": 302, "when": "1m30s", "maybe": null, "qty": "500m", "labels": {"a": "1"},
    "free": {"anything": [1, {"x": null}]}, "any": "text", "tags": ["x", "y"],
    "items": [{"name": "a"}, {"name": "b", "value": "v"}], "nested": {"deep": {"x": 1}}})");
  EXPECT_TRUE(o.errors.empty()) << testing::PrintToString(Errors(o));
  EXPECT_TRUE(o.unknown.empty()) << testing::PrintToString(Unknown(o));
  EXPECT_TRUE(Check(*s, R"({"name": "a", "port": 1, "qty": 5})").errors.empty()) << "int-or-string takes integers";
  EXPECT_TRUE(Check(*s, R"({"name": "a", "port": 80.0})").errors.empty()) << "an integral number is an integer";
}

TEST(Schema, ReportsEveryError) {
  auto s = Compile(kSchema);
  auto o = Check(*s, R"({"name": "TooLongName", "port": "two", "big": 18446744073709551615, "ratio": 0,
    "on": "yes", "mode": "c", "code": 303, "when": "soon", "qty": true, "labels": {"a": 1, "b": "2", "c": "3"},
    "tags": ["x", "x", "y"], "items": [{"name": "a"}, {"name": "a"}, {"value": "v"}],
    "nested": {"deep": {}}})");
  std::vector<std::string> want = {
      "big: 18446744073709551615 is out of range for a 64-bit integer",
      "code: unsupported value 303: supported values: 301, 302",
      "items[1]: duplicate entry with name \"a\"",
      "items[2].name: required field missing",
      "labels: must have at most 2 entries",
      "labels[a]: expected string, got 1",
      "mode: unsupported value \"c\": supported values: \"a\", \"b\"",
      "name: may not be longer than 8 characters",
      "nested.deep.x: required field missing",
      "on: expected boolean, got \"yes\"",
      "port: expected integer, got \"two\"",
      "qty: expected integer or string, got true",
      "ratio: must be greater than 0",
      "tags: must have at most 2 items",
      "tags[1]: duplicate value \"x\"",
      "when: invalid duration \"soon\": expected a number (a duration is like 30s, 5m or 1h30m)",
  };
  std::vector<std::string> got = Errors(o);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(Schema, RangesPatternsAndRequired) {
  auto s = Compile(kSchema);
  EXPECT_EQ(Errors(Check(*s, R"({})")),
            (std::vector<std::string>{"name: required field missing", "port: required field missing"}));
  EXPECT_EQ(Errors(Check(*s, R"({"name": null, "port": 0})")),
            (std::vector<std::string>{"name: required field missing", "port: must be greater than or equal to 1"}))
      << "null counts as absent";
  EXPECT_EQ(Errors(Check(*s, R"({"name": "a", "port": 70000})")),
            (std::vector<std::string>{"port: must be less than or equal to 65535"}));
  EXPECT_EQ(Errors(Check(*s, R"({"name": "a", "port": 3000000000})")),
            (std::vector<std::string>{"port: 3000000000 is out of range for a 32-bit integer"}));
  EXPECT_EQ(Errors(Check(*s, R"({"name": "a1", "port": 1})")),
            (std::vector<std::string>{"name: invalid value \"a1\": should match '^[a-z]+$'"}));
  EXPECT_EQ(Errors(Check(*s, R"({"name": "", "port": 1})")),
            (std::vector<std::string>{"name: must be at least 1 characters long"}));
  EXPECT_EQ(Errors(Check(*s, R"({"name": "a", "port": 1, "qty": "5x"})")),
            (std::vector<std::string>{"qty: invalid value \"5x\": should match '^[0-9]+m?$'"}));
  std::string long_qty = R"({"name": "a", "port": 1, "qty": ")" + std::string(600, '1') + "\"}";
  EXPECT_EQ(Check(*s, long_qty).errors.size(), 1u) << "too long to match safely";
  EXPECT_EQ(Errors(Check(*s, R"([1])")), (std::vector<std::string>{": expected object, got array"}));
}

TEST(Schema, UnknownFieldsArePrunedNotErrors) {
  auto s = Compile(kSchema);
  auto o = Check(*s, R"({"name": "a", "port": 1, "extra": {"deep": 1}, "nested": {"other": 1, "deep": {"x": 1, "y": 2}},
    "free": {"kept": 1}, "items": [{"name": "a", "surprise": true}]})");
  EXPECT_TRUE(o.errors.empty()) << testing::PrintToString(Errors(o));
  std::vector<std::string> unknown = Unknown(o);
  std::sort(unknown.begin(), unknown.end());
  EXPECT_EQ(unknown, (std::vector<std::string>{"/extra", "/items/0/surprise", "/nested/deep/y", "/nested/other"}));
}

TEST(Schema, Combinators) {
  auto s = Compile(R"({"type": "object", "properties": {
    "a": {"type": "string", "anyOf": [{"pattern": "^x"}, {"pattern": "^y"}]},
    "o": {"type": "integer", "oneOf": [{"minimum": 5}, {"maximum": 10}]},
    "n": {"type": "string", "not": {"enum": ["bad"]}},
    "all": {"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 3}]}}})");
  EXPECT_TRUE(Check(*s, R"({"a": "xa", "o": 20, "n": "good", "all": 2})").errors.empty());
  EXPECT_EQ(Errors(Check(*s, R"({"a": "za", "o": 7, "n": "bad", "all": 4})")),
            (std::vector<std::string>{"a: does not match any of the allowed forms",
                                      "all: must be less than or equal to 3", "n: matches a form that is not allowed",
                                      "o: matches more than one of the exclusive forms"}));
}

TEST(Schema, CompileErrors) {
  EXPECT_FALSE(Schema::Compile(json::parse(R"({"type": "strnig"})")).ok());
  EXPECT_FALSE(Schema::Compile(json::parse(R"({"pattern": "(["})")).ok());
  EXPECT_FALSE(Schema::Compile(json::parse(R"({"properties": []})")).ok());
  EXPECT_FALSE(Schema::Compile(json::parse(R"([])")).ok());
}

TEST(Schema, Lookup) {
  auto s = Compile(kSchema);
  json v = json::parse(R"({"items": [{"name": "a"}], "labels": {"k": "v"}, "free": {"x": {"y": 1}}})");
  EXPECT_EQ(s->Lookup(v, "/port").kind, Schema::FieldInfo::Kind::kTyped);
  EXPECT_EQ(s->Lookup(v, "/port").type, "integer");
  EXPECT_EQ(s->Lookup(v, "/qty").type, "int-or-string");
  EXPECT_EQ(s->Lookup(v, "/items/0/name").type, "string");
  EXPECT_EQ(s->Lookup(v, "/items/0").required, std::vector<std::string>{"name"});
  EXPECT_EQ(s->Lookup(v, "/labels/k").type, "string");
  EXPECT_EQ(s->Lookup(v, "/free/x/y").kind, Schema::FieldInfo::Kind::kUntyped);
  EXPECT_EQ(s->Lookup(v, "/any").kind, Schema::FieldInfo::Kind::kUntyped);
  EXPECT_EQ(s->Lookup(v, "/nope").kind, Schema::FieldInfo::Kind::kUnknown);
  EXPECT_EQ(s->Lookup(v, "").required, (std::vector<std::string>{"name", "port"}));
}

TEST(SchemaRegistry, EveryEmbeddedSchemaCompiles) {
  ASSERT_FALSE(Kinds().empty()) << "the embedded bundle is empty or broken";
  std::vector<std::string> names;
  for (const KindInfo& k : Kinds()) {
    names.push_back(k.group + "/" + k.kind);
    EXPECT_FALSE(k.storage_version.empty()) << k.kind;
    for (const std::string& v : k.versions) {
      EXPECT_NE(FindSchema(k.group, v, k.kind), nullptr) << k.group << "/" << v << " " << k.kind;
      EXPECT_NE(FindSchemaJson(k.group, v, k.kind), nullptr);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"core.openfunction.io/Function", "dapr.io/Component",
                                             "events.openfunction.io/ClusterEventBus",
                                             "events.openfunction.io/EventBus", "events.openfunction.io/EventSource",
                                             "events.openfunction.io/Trigger", "networking.openfunction.io/Gateway"}));
  EXPECT_EQ(FindKind("core.openfunction.io", "Function")->versions, (std::vector<std::string>{"v1beta1", "v1beta2"}));
  EXPECT_EQ(FindKind("core.openfunction.io", "Function")->storage_version, "v1beta2");
  EXPECT_FALSE(FindKind("events.openfunction.io", "ClusterEventBus")->namespaced);
  EXPECT_EQ(FindSchema("core.openfunction.io", "v1alpha1", "Function"), nullptr);
  EXPECT_EQ(FindKind("apps", "Deployment"), nullptr);
  EXPECT_NE(SchemaSource().find("OpenFunction commit"), std::string::npos);
}

}  // namespace
}  // namespace ofn::api

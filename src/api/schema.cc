#include "api/schema.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "api/manifest.h"
#include "common/duration.h"

namespace ofn::api {

using nlohmann::json;

struct Schema::Node {
  enum class Type { kAny, kObject, kArray, kString, kInteger, kNumber, kBoolean };
  Type type = Type::kAny;
  std::string format;
  bool nullable = false;
  bool preserve_unknown = false;
  bool int_or_string = false;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> properties;
  std::unique_ptr<Node> additional;  // additionalProperties as a schema
  bool additional_any = false;       // additionalProperties: true
  std::vector<std::string> required;
  std::unique_ptr<Node> items;
  std::vector<json> enum_values;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<std::uint64_t> min_length, max_length, min_items, max_items, min_properties, max_properties;
  std::string pattern_text;
  std::optional<std::regex> pattern;
  std::string list_type;
  std::vector<std::string> list_map_keys;
  std::vector<std::unique_ptr<Node>> any_of, one_of, all_of;
  std::unique_ptr<Node> not_;

  bool typed() const { return type != Type::kAny || int_or_string; }
};

namespace {

using Node = Schema::Node;

// Strings longer than this are not matched against a pattern: libstdc++'s
// regex engine recurses per character, and every pattern in the CRDs comes
// with a smaller maxLength anyway.
constexpr std::size_t kMaxPatternInput = 512;

const char* TypeName(Node::Type t) {
  switch (t) {
    case Node::Type::kObject:
      return "object";
    case Node::Type::kArray:
      return "array";
    case Node::Type::kString:
      return "string";
    case Node::Type::kInteger:
      return "integer";
    case Node::Type::kNumber:
      return "number";
    case Node::Type::kBoolean:
      return "boolean";
    case Node::Type::kAny:
      break;
  }
  return "any";
}

Status CompileNode(const json& s, const std::string& where, int depth, std::unique_ptr<Node>* out);

Status CompileList(const json& s, const char* key, const std::string& where, int depth,
                   std::vector<std::unique_ptr<Node>>* out) {
  auto it = s.find(key);
  if (it == s.end()) return Status::Ok();
  if (!it->is_array()) return Status::InvalidArgument(where + ": " + key + " must be a list");
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::unique_ptr<Node> n;
    Status st = CompileNode((*it)[i], where + "/" + key + "/" + std::to_string(i), depth + 1, &n);
    if (!st.ok()) return st;
    out->push_back(std::move(n));
  }
  return Status::Ok();
}

std::optional<std::uint64_t> UintAt(const json& s, const char* key) {
  auto it = s.find(key);
  if (it == s.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) return std::nullopt;
  return it->get<std::uint64_t>();
}

Status CompileNode(const json& s, const std::string& where, int depth, std::unique_ptr<Node>* out) {
  if (depth > 200) return Status::InvalidArgument(where + ": schema nested too deeply");
  if (!s.is_object()) return Status::InvalidArgument(where + ": a schema must be an object");
  auto n = std::make_unique<Node>();
  if (auto it = s.find("type"); it != s.end()) {
    std::string t = it->is_string() ? it->get<std::string>() : "";
    if (t == "object") {
      n->type = Node::Type::kObject;
    } else if (t == "array") {
      n->type = Node::Type::kArray;
    } else if (t == "string") {
      n->type = Node::Type::kString;
    } else if (t == "integer") {
      n->type = Node::Type::kInteger;
    } else if (t == "number") {
      n->type = Node::Type::kNumber;
    } else if (t == "boolean") {
      n->type = Node::Type::kBoolean;
    } else {
      return Status::InvalidArgument(where + ": unsupported type " + it->dump());
    }
  }
  if (auto it = s.find("format"); it != s.end() && it->is_string()) n->format = it->get<std::string>();
  n->nullable = s.value("nullable", false);
  n->preserve_unknown = s.value("x-kubernetes-preserve-unknown-fields", false);
  n->int_or_string = s.value("x-kubernetes-int-or-string", false);
  if (auto it = s.find("properties"); it != s.end()) {
    if (!it->is_object()) return Status::InvalidArgument(where + ": properties must be an object");
    for (auto p = it->begin(); p != it->end(); ++p) {
      std::unique_ptr<Node> child;
      Status st = CompileNode(p.value(), where + "/properties/" + p.key(), depth + 1, &child);
      if (!st.ok()) return st;
      n->properties.emplace(p.key(), std::move(child));
    }
  }
  if (auto it = s.find("additionalProperties"); it != s.end()) {
    if (it->is_boolean()) {
      n->additional_any = it->get<bool>();
    } else {
      Status st = CompileNode(*it, where + "/additionalProperties", depth + 1, &n->additional);
      if (!st.ok()) return st;
    }
  }
  if (auto it = s.find("required"); it != s.end() && it->is_array()) {
    for (const json& r : *it) {
      if (r.is_string()) n->required.push_back(r.get<std::string>());
    }
  }
  if (auto it = s.find("items"); it != s.end()) {
    Status st = CompileNode(*it, where + "/items", depth + 1, &n->items);
    if (!st.ok()) return st;
  }
  if (auto it = s.find("enum"); it != s.end() && it->is_array()) n->enum_values = it->get<std::vector<json>>();
  if (auto it = s.find("minimum"); it != s.end() && it->is_number()) n->minimum = it->get<double>();
  if (auto it = s.find("maximum"); it != s.end() && it->is_number()) n->maximum = it->get<double>();
  n->exclusive_minimum = s.value("exclusiveMinimum", false);
  n->exclusive_maximum = s.value("exclusiveMaximum", false);
  n->min_length = UintAt(s, "minLength");
  n->max_length = UintAt(s, "maxLength");
  n->min_items = UintAt(s, "minItems");
  n->max_items = UintAt(s, "maxItems");
  n->min_properties = UintAt(s, "minProperties");
  n->max_properties = UintAt(s, "maxProperties");
  if (auto it = s.find("pattern"); it != s.end() && it->is_string()) {
    n->pattern_text = it->get<std::string>();
    try {
      n->pattern.emplace(n->pattern_text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument(where + ": pattern " + n->pattern_text + " does not compile: " + e.what());
    }
  }
  if (auto it = s.find("x-kubernetes-list-type"); it != s.end() && it->is_string())
    n->list_type = it->get<std::string>();
  if (auto it = s.find("x-kubernetes-list-map-keys"); it != s.end() && it->is_array()) {
    for (const json& k : *it) {
      if (k.is_string()) n->list_map_keys.push_back(k.get<std::string>());
    }
  }
  for (auto [key, list] :
       {std::pair{"anyOf", &n->any_of}, std::pair{"oneOf", &n->one_of}, std::pair{"allOf", &n->all_of}}) {
    Status st = CompileList(s, key, where, depth, list);
    if (!st.ok()) return st;
  }
  if (auto it = s.find("not"); it != s.end()) {
    Status st = CompileNode(*it, where + "/not", depth + 1, &n->not_);
    if (!st.ok()) return st;
  }
  *out = std::move(n);
  return Status::Ok();
}

std::size_t CodePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsIntegral(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

// Numeric value as long double, for range checks of int64, uint64 and double.
long double NumberOf(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  return static_cast<long double>(v.get<double>());
}

std::string FormatNumber(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e18) return std::to_string(static_cast<long long>(d));
  return json(d).dump();
}

class Checker {
 public:
  explicit Checker(Schema::Outcome* out) : out_(out) {}

  void Check(const Node& s, const json& v, const FieldPath& at) {
    if (v.is_null()) {
      if (s.nullable || !s.typed()) return;
      Error(at, std::string("expected ") + ExpectedName(s) + ", got null");
      return;
    }
    if (!CheckType(s, v, at)) return;
    if (!s.enum_values.empty()) CheckEnum(s, v, at);
    if (v.is_string()) CheckString(s, v.get_ref<const std::string&>(), at);
    if (v.is_number()) CheckNumber(s, v, at);
    if (v.is_object()) CheckObject(s, v, at);
    if (v.is_array()) CheckArray(s, v, at);
    CheckCombinators(s, v, at);
  }

 private:
  static const char* ExpectedName(const Node& s) { return s.int_or_string ? "integer or string" : TypeName(s.type); }

  void Error(const FieldPath& at, std::string message) {
    Diagnostic d;
    d.pointer = at.pointer();
    d.path = at.path();
    d.message = std::move(message);
    out_->errors.push_back(std::move(d));
  }

  bool CheckType(const Node& s, const json& v, const FieldPath& at) {
    bool ok = true;
    if (s.int_or_string) {
      ok = v.is_string() || IsIntegral(v);
    } else {
      switch (s.type) {
        case Node::Type::kAny:
          break;
        case Node::Type::kObject:
          ok = v.is_object();
          break;
        case Node::Type::kArray:
          ok = v.is_array();
          break;
        case Node::Type::kString:
          ok = v.is_string();
          break;
        case Node::Type::kInteger:
          ok = IsIntegral(v);
          break;
        case Node::Type::kNumber:
          ok = v.is_number();
          break;
        case Node::Type::kBoolean:
          ok = v.is_boolean();
          break;
      }
    }
    if (!ok) Error(at, std::string("expected ") + ExpectedName(s) + ", got " + DescribeValue(v));
    return ok;
  }

  void CheckEnum(const Node& s, const json& v, const FieldPath& at) {
    for (const json& e : s.enum_values) {
      if (e == v) return;
    }
    std::string allowed;
    for (const json& e : s.enum_values) {
      if (!allowed.empty()) allowed += ", ";
      allowed += e.dump();
    }
    Error(at, "unsupported value " + DescribeValue(v) + ": supported values: " + allowed);
  }

  void CheckString(const Node& s, const std::string& v, const FieldPath& at) {
    std::size_t len = CodePoints(v);
    if (s.max_length && len > *s.max_length) {
      Error(at, "may not be longer than " + std::to_string(*s.max_length) + " characters");
      return;
    }
    if (s.min_length && len < *s.min_length) {
      Error(at, "must be at least " + std::to_string(*s.min_length) + " characters long");
      return;
    }
    if (s.pattern) {
      if (v.size() > kMaxPatternInput) {
        Error(at, "too long (" + std::to_string(v.size()) + " bytes) to match '" + s.pattern_text + "'");
      } else if (!std::regex_search(v, *s.pattern)) {
        Error(at, "invalid value " + DescribeValue(json(v)) + ": should match '" + s.pattern_text + "'");
      }
    }
    if (s.format == "duration") {
      auto d = ParseGoDuration(v);
      if (!d.ok()) Error(at, d.status().message() + " (a duration is like 30s, 5m or 1h30m)");
    }
  }

  void CheckNumber(const Node& s, const json& v, const FieldPath& at) {
    long double n = NumberOf(v);
    if (s.format == "int32" &&
        (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max())) {
      Error(at, DescribeValue(v) + " is out of range for a 32-bit integer");
      return;
    }
    if (s.format == "int64" && v.is_number_unsigned() &&
        v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      Error(at, DescribeValue(v) + " is out of range for a 64-bit integer");
      return;
    }
    if (s.minimum && (s.exclusive_minimum ? n <= *s.minimum : n < *s.minimum)) {
      Error(at, std::string("must be greater than ") + (s.exclusive_minimum ? "" : "or equal to ") +
                    FormatNumber(*s.minimum));
    }
    if (s.maximum && (s.exclusive_maximum ? n >= *s.maximum : n > *s.maximum)) {
      Error(at,
            std::string("must be less than ") + (s.exclusive_maximum ? "" : "or equal to ") + FormatNumber(*s.maximum));
    }
  }

  void CheckObject(const Node& s, const json& v, const FieldPath& at) {
    for (const std::string& r : s.required) {
      auto it = v.find(r);
      bool present = it != v.end();
      if (present && it->is_null()) {
        auto p = s.properties.find(r);
        present = p != s.properties.end() && p->second->nullable;
      }
      if (!present) Error(at.Child(r), "required field missing");
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& key = it.key();
      if (auto p = s.properties.find(key); p != s.properties.end()) {
        if (it->is_null()) continue;  // null or absent: the same to the API server
        Check(*p->second, it.value(), at.Child(key));
      } else if (s.additional) {
        if (it->is_null() && !s.additional->nullable) continue;  // pruned like a null field
        Check(*s.additional, it.value(), at.Key(key));
      } else if (!s.additional_any && !s.preserve_unknown) {
        Diagnostic d;
        FieldPath f = at.Child(key);
        d.pointer = f.pointer();
        d.path = f.path();
        out_->unknown.push_back(std::move(d));
      }
    }
    if (s.max_properties && v.size() > *s.max_properties) {
      Error(at, "must have at most " + std::to_string(*s.max_properties) + " entries");
    }
    if (s.min_properties && v.size() < *s.min_properties) {
      Error(at, "must have at least " + std::to_string(*s.min_properties) + " entries");
    }
  }

  void CheckArray(const Node& s, const json& v, const FieldPath& at) {
    if (s.items) {
      for (std::size_t i = 0; i < v.size(); ++i) Check(*s.items, v[i], at.Index(i));
    }
    if (s.max_items && v.size() > *s.max_items) {
      Error(at, "must have at most " + std::to_string(*s.max_items) + " items");
    }
    if (s.min_items && v.size() < *s.min_items) {
      Error(at, "must have at least " + std::to_string(*s.min_items) + " items");
    }
    if (s.list_type == "set") {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!seen.insert(v[i].dump(-1, ' ', false, json::error_handler_t::replace)).second) {
          Error(at.Index(i), "duplicate value " + DescribeValue(v[i]));
        }
      }
    } else if (s.list_type == "map" && !s.list_map_keys.empty()) {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_object()) continue;
        std::string key, shown;
        for (const std::string& k : s.list_map_keys) {
          auto it = v[i].find(k);
          std::string part = it == v[i].end() ? "null" : it->dump(-1, ' ', false, json::error_handler_t::replace);
          key += part + '\0';
          if (!shown.empty()) shown += ", ";
          shown += k + " " + part;
        }
        if (!seen.insert(key).second) Error(at.Index(i), "duplicate entry with " + shown);
      }
    }
  }

  bool Matches(const Node& s, const json& v) {
    Schema::Outcome scratch;
    Checker sub(&scratch);
    sub.Check(s, v, FieldPath());
    return scratch.errors.empty();
  }

  void CheckCombinators(const Node& s, const json& v, const FieldPath& at) {
    if (!s.any_of.empty() && !s.int_or_string) {  // int-or-string's anyOf is its type check
      bool any = false;
      for (const auto& n : s.any_of) any = any || Matches(*n, v);
      if (!any) Error(at, "does not match any of the allowed forms");
    }
    if (!s.one_of.empty()) {
      int count = 0;
      for (const auto& n : s.one_of) count += Matches(*n, v) ? 1 : 0;
      if (count != 1)
        Error(at,
              count == 0 ? "does not match any of the allowed forms" : "matches more than one of the exclusive forms");
    }
    for (const auto& n : s.all_of) Check(*n, v, at);
    if (s.not_ && Matches(*s.not_, v)) Error(at, "matches a form that is not allowed");
  }

  Schema::Outcome* out_;
};

}  // namespace

Schema::Schema(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Schema::~Schema() = default;

Result<std::unique_ptr<Schema>> Schema::Compile(const nlohmann::json& openapi_v3_schema) {
  std::unique_ptr<Node> root;
  Status st = CompileNode(openapi_v3_schema, "#", 0, &root);
  if (!st.ok()) return st;
  return std::unique_ptr<Schema>(new Schema(std::move(root)));
}

void Schema::Validate(const nlohmann::json& value, const FieldPath& at, Outcome* out) const {
  Checker(out).Check(*root_, value, at);
}

Schema::FieldInfo Schema::Lookup(const nlohmann::json& root, std::string_view pointer) const {
  FieldInfo info;
  const Node* s = root_.get();
  const json* v = &root;
  for (const std::string& token : SplitPointer(pointer)) {
    const Node* next = nullptr;
    bool numeric = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos && token.size() < 10;
    if (s->items && numeric && (v == nullptr || v->is_array())) {
      next = s->items.get();
      std::size_t i = static_cast<std::size_t>(std::stoul(token));
      v = v != nullptr && i < v->size() ? &(*v)[i] : nullptr;
    } else {
      if (auto p = s->properties.find(token); p != s->properties.end()) {
        next = p->second.get();
      } else if (s->additional) {
        next = s->additional.get();
      } else if (s->additional_any || s->preserve_unknown) {
        info.kind = FieldInfo::Kind::kUntyped;
        return info;
      }
      if (v != nullptr && v->is_object()) {
        auto it = v->find(token);
        v = it == v->end() ? nullptr : &*it;
      } else {
        v = nullptr;
      }
    }
    if (next == nullptr) return info;  // unknown
    s = next;
  }
  info.kind = s->typed() ? FieldInfo::Kind::kTyped : FieldInfo::Kind::kUntyped;
  info.type = s->int_or_string ? "int-or-string" : s->type == Node::Type::kAny ? "" : TypeName(s->type);
  info.required = s->required;
  return info;
}

}  // namespace ofn::api

#include "api/manifest.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "api/schema_registry.h"

namespace ofn::api {
namespace {

using nlohmann::json;

// Position of a yaml-cpp mark (0-based, -1 when unknown) as 1-based.
Position ToPosition(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

// Index just past a valid UTF-8 prefix of s; s.size() when all of it is valid.
std::size_t ValidUtf8Prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n >= s.size()) return i;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += n + 1;
  }
  return i;
}

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options) {
    if (s == o) return true;
  }
  return false;
}

// Parses digits of `s` in `base` into an unsigned value; false on any other
// character, on no digits, or on overflow.
bool ParseDigits(std::string_view s, int base, std::uint64_t* out) {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'Z') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(d)) /
                static_cast<std::uint64_t>(base)) {
      return false;
    }
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  *out = v;
  return true;
}

// YAML 1.1 integers as go-yaml v2 (which kubectl uses) reads them: an optional
// sign, then 0b/0o/0x prefixes or a leading 0 for octal, '_' ignored.
std::optional<json> ResolveInteger(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (char c : in) {
    if (c != '_') s += c;
  }
  std::string_view v = s;
  bool negative = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  std::uint64_t magnitude;
  bool ok;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    ok = ParseDigits(v.substr(2), 16, &magnitude);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
    ok = ParseDigits(v.substr(2), 2, &magnitude);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    ok = ParseDigits(v.substr(2), 8, &magnitude);
  } else if (v.size() > 1 && v[0] == '0') {
    ok = ParseDigits(v.substr(1), 8, &magnitude);
  } else {
    ok = ParseDigits(v, 10, &magnitude);
  }
  if (!ok) return std::nullopt;
  if (!negative) {
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return json(static_cast<std::int64_t>(magnitude));
    }
    return json(magnitude);
  }
  if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return json(-static_cast<std::int64_t>(magnitude));
  }
  if (magnitude == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
    return json(std::numeric_limits<std::int64_t>::min());
  }
  return std::nullopt;  // too negative: go-yaml then tries a float
}

// go-yaml v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool LooksLikeFloat(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

enum class Special { kNone, kNotJson };

// Resolves a plain (unquoted) scalar the way go-yaml v2 does. Sets *special
// for .inf/.nan, which JSON (and so Kubernetes) cannot hold.
json ResolvePlain(const std::string& s, Special* special) {
  *special = Special::kNone;
  if (IsOneOf(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) return true;
  if (IsOneOf(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) return false;
  if (IsOneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (IsOneOf(s,
              {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"})) {
    *special = Special::kNotJson;
    return s;
  }
  char c = s[0];
  if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return s;
  if (auto i = ResolveInteger(s)) return *i;
  std::string plain;
  for (char ch : s) {
    if (ch != '_') plain += ch;
  }
  if (LooksLikeFloat(plain)) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(plain.data() + (plain[0] == '+' ? 1 : 0), plain.data() + plain.size(), d);
    if (ec == std::errc() && ptr == plain.data() + plain.size() && std::isfinite(d)) return d;
  }
  return s;  // e.g. 1e999: out of a double's range, so go-yaml keeps the text
}

// Map keys become strings as sigs.k8s.io/yaml makes them: booleans "true",
// numbers their decimal form.
std::string KeyString(const json& key) {
  if (key.is_string()) return key.get<std::string>();
  if (key.is_boolean()) return key.get<bool>() ? "true" : "false";
  if (key.is_number_integer() || key.is_number_unsigned()) return key.dump();
  if (key.is_number_float()) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float>(key.get<double>()));
    if (ec == std::errc()) return std::string(buf, ptr);
  }
  return key.dump();
}

// A YAML document as yaml-cpp's parser reports it, built from its events
// rather than with YAML::LoadAll: LoadAll loops forever on a ',' at document
// level (yaml-cpp 0.7), and driving the parser ourselves lets us stop that.
struct YNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  YAML::Mark mark;
  std::string tag;
  std::string value;                   // scalars
  std::vector<const YNode*> children;  // items; for maps key, value, key, value...
};

class TreeBuilder : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Add(New(YNode::Kind::kNull, mark, ""), anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    Add(it != anchors_.end() ? it->second : New(YNode::Kind::kNull, mark, ""), 0);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YNode* n = New(YNode::Kind::kScalar, mark, tag);
    n->value = value;
    Add(n, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(New(YNode::Kind::kSequence, mark, tag), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(New(YNode::Kind::kMap, mark, tag), anchor);
  }
  void OnMapEnd() override { Close(); }

  const YNode* root() const { return root_; }
  const YAML::Mark& start() const { return start_; }

 private:
  YNode* New(YNode::Kind kind, const YAML::Mark& mark, const std::string& tag) {
    nodes_.push_back(std::make_unique<YNode>());
    YNode* n = nodes_.back().get();
    n->kind = kind;
    n->mark = mark;
    n->tag = tag;
    return n;
  }
  void Add(const YNode* n, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = n;
    if (stack_.empty()) {
      if (root_ == nullptr) root_ = n;
    } else {
      stack_.back()->children.push_back(n);
    }
  }
  void Open(YNode* n, YAML::anchor_t anchor) {
    Add(n, anchor);
    stack_.push_back(n);
  }
  void Close() {
    if (!stack_.empty()) stack_.pop_back();
  }

  // Raw pointers into an arena: an alias may point back into its own
  // collection, and shared ownership would then leak.
  std::vector<std::unique_ptr<YNode>> nodes_;
  std::vector<YNode*> stack_;
  std::unordered_map<YAML::anchor_t, const YNode*> anchors_;
  const YNode* root_ = nullptr;
  YAML::Mark start_;
};

class Converter {
 public:
  Converter(std::string_view source, const ParseLimits& limits, Document* doc)
      : source_(source), limits_(limits), doc_(doc) {}

  // Converts `node` into *out; on failure returns false with status() set.
  bool Convert(const YNode& node, const std::string& pointer, Position where, int depth, json* out) {
    if (++nodes_ > limits_.max_nodes) {
      return Fail(where,
                  "document too large: more than " + std::to_string(limits_.max_nodes) + " values (aliases included)");
    }
    if (depth > limits_.max_depth) {
      return Fail(where, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    doc_->positions.emplace(pointer, where);
    switch (node.kind) {
      case YNode::Kind::kNull:
        *out = nullptr;
        return true;
      case YNode::Kind::kScalar:
        return ConvertScalar(node, where, out);
      case YNode::Kind::kSequence: {
        *out = json::array();
        std::size_t i = 0;
        for (const YNode* item : node.children) {
          json v;
          Position p = ToPosition(item->mark);
          if (p.line == 0) p = where;
          if (!Convert(*item, pointer + "/" + std::to_string(i), p, depth + 1, &v)) return false;
          out->push_back(std::move(v));
          ++i;
        }
        return true;
      }
      case YNode::Kind::kMap:
        return ConvertMap(node, pointer, where, depth, out);
    }
    return Fail(where, "unexpected YAML node");
  }

  const Status& status() const { return status_; }

 private:
  bool Fail(Position where, const std::string& message) {
    std::string at = std::string(source_);
    if (where.line > 0) at += ":" + std::to_string(where.line);
    status_ = Status::InvalidArgument(at + ": " + message);
    return false;
  }

  bool CheckUtf8(const std::string& s, Position where) {
    if (ValidUtf8Prefix(s) != s.size()) return Fail(where, "invalid UTF-8 in a string");
    return true;
  }

  bool ConvertScalar(const YNode& node, Position where, json* out) {
    const std::string& text = node.value;
    if (!CheckUtf8(text, where)) return false;
    const std::string& tag = node.tag;
    if (tag == "!") {  // quoted or block scalar: always a string
      *out = text;
      return true;
    }
    Special special;
    if (tag == "?" || tag.empty()) {
      *out = ResolvePlain(text, &special);
    } else if (tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary" ||
               tag == "tag:yaml.org,2002:timestamp") {
      *out = text;
      return true;
    } else if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool" ||
               tag == "tag:yaml.org,2002:null") {
      *out = ResolvePlain(text, &special);
      bool fits = tag.ends_with(":int")     ? out->is_number_integer()
                  : tag.ends_with(":float") ? out->is_number()
                  : tag.ends_with(":bool")  ? out->is_boolean()
                                            : out->is_null();
      if (!fits && special == Special::kNone) {
        return Fail(where, "cannot read \"" + text + "\" as " + tag.substr(tag.rfind(':') + 1));
      }
      if (tag.ends_with(":float") && out->is_number_integer()) *out = out->get<double>();
    } else {
      return Fail(where, "unsupported YAML tag " + tag);
    }
    if (special == Special::kNotJson) {
      return Fail(where, "\"" + text + "\" is not a finite number and JSON cannot hold it; quote it for a string");
    }
    return true;
  }

  bool ConvertMap(const YNode& node, const std::string& pointer, Position where, int depth, json* out) {
    *out = json::object();
    std::unordered_map<std::string, Position> seen;
    std::vector<const YNode*> merges;
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
      const YNode& k = *node.children[i];
      const YNode& v = *node.children[i + 1];
      Position kp = ToPosition(k.mark);
      if (kp.line == 0) kp = where;
      if (k.kind == YNode::Kind::kScalar && k.tag == "?" && k.value == "<<") {
        merges.push_back(&v);
        continue;
      }
      std::string key;
      if (!KeyOf(k, kp, &key)) return false;
      if (auto it = seen.find(key); it != seen.end()) {
        return Fail(kp, "duplicate key \"" + key + "\" (first at line " + std::to_string(it->second.line) + ")");
      }
      seen.emplace(key, kp);
      json value;
      if (!Convert(v, pointer + "/" + EscapePointerToken(key), kp, depth + 1, &value)) return false;
      (*out)[key] = std::move(value);
    }
    // Merge keys: explicit keys win, then earlier merged maps over later ones.
    for (const YNode* m : merges) {
      std::vector<const YNode*> sources;
      if (m->kind == YNode::Kind::kMap) {
        sources.push_back(m);
      } else if (m->kind == YNode::Kind::kSequence) {
        sources = m->children;
      }
      for (const YNode* src : sources) {
        if (src->kind != YNode::Kind::kMap) {
          return Fail(ToPosition(m->mark), "the value of a merge key (<<) must be a map or a list of maps");
        }
        for (std::size_t i = 0; i + 1 < src->children.size(); i += 2) {
          const YNode& k = *src->children[i];
          Position kp = ToPosition(k.mark);
          if (kp.line == 0) kp = where;
          std::string key;
          if (!KeyOf(k, kp, &key)) return false;
          if (seen.count(key)) continue;
          seen.emplace(key, kp);
          json value;
          if (!Convert(*src->children[i + 1], pointer + "/" + EscapePointerToken(key), kp, depth + 1, &value)) {
            return false;
          }
          (*out)[key] = std::move(value);
        }
      }
    }
    return true;
  }

  bool KeyOf(const YNode& k, Position kp, std::string* key) {
    if (k.kind != YNode::Kind::kScalar) {
      return Fail(kp,
                  k.kind == YNode::Kind::kNull ? "a map key is null" : "map keys must be strings, not lists or maps");
    }
    json kv;
    if (!ConvertScalar(k, kp, &kv)) return false;
    if (kv.is_null()) return Fail(kp, "a map key is null");
    *key = KeyString(kv);
    return true;
  }

  std::string_view source_;
  const ParseLimits& limits_;
  Document* doc_;
  std::size_t nodes_ = 0;
  Status status_;
};

// 1-based line of byte offset `pos`.
int LineOf(std::string_view text, std::size_t pos) {
  int line = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void FillMeta(Document* doc) {
  doc->api_version = StringAt(doc->object, "apiVersion");
  doc->kind = StringAt(doc->object, "kind");
  auto meta = doc->object.find("metadata");
  if (meta != doc->object.end() && meta->is_object()) {
    doc->name = StringAt(*meta, "name");
    doc->ns = StringAt(*meta, "namespace");
    for (const char* field : {"labels", "annotations"}) {
      auto m = meta->find(field);
      if (m == meta->end() || !m->is_object()) continue;
      auto& target = std::string_view(field) == "labels" ? doc->labels : doc->annotations;
      for (auto it = m->begin(); it != m->end(); ++it) {
        if (it->is_string()) target[it.key()] = it->get<std::string>();
      }
    }
  }
  const KindInfo* info = FindKind(doc->group(), doc->kind);
  if (info != nullptr && !info->namespaced) {
    doc->ns.clear();  // cluster-scoped: a namespace means nothing, as in Kubernetes
  } else if (doc->ns.empty()) {
    doc->ns = "default";
  }
}

}  // namespace

std::string Document::group() const {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? std::string() : api_version.substr(0, slash);
}

std::string Document::version() const {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? api_version : api_version.substr(slash + 1);
}

Position Document::PositionOf(std::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    auto it = positions.find(p);
    if (it != positions.end() && it->second.line > 0) return it->second;
    if (p.empty()) break;
    p.erase(p.rfind('/'));
  }
  return {line, 1};
}

Diagnostic Document::At(const FieldPath& field, std::string message) const {
  Diagnostic d;
  d.source = source;
  d.position = PositionOf(field.pointer());
  d.pointer = field.pointer();
  d.path = field.path();
  d.message = std::move(message);
  return d;
}

std::string Document::Describe() const {
  std::string out = kind.empty() ? std::string("document") : kind;
  out += ' ';
  out += ns.empty() ? name : ns + "/" + name;
  out += " (" + source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ")";
  return out;
}

Result<std::vector<Document>> ParseManifests(std::string_view yaml_text, std::string_view source_name) {
  return ParseManifests(yaml_text, source_name, ParseLimits{});
}

Result<std::vector<Document>> ParseManifests(std::string_view text, std::string_view source,
                                             const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument(std::string(source) + ": manifest too large (" + std::to_string(text.size()) +
                                   " bytes; the limit is " + std::to_string(limits.max_bytes) + ")");
  }
  if (std::size_t valid = ValidUtf8Prefix(text); valid != text.size()) {
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(LineOf(text, valid)) +
                                   ": invalid UTF-8 (manifests must be UTF-8 text)");
  }
  std::vector<Document> docs;
  auto syntax_error = [&](const YAML::Mark& mark, const std::string& message) {
    std::string at(source);
    if (!mark.is_null() && mark.line >= 0) at += ":" + std::to_string(mark.line + 1);
    return Status::InvalidArgument(at + ": YAML syntax error: " + message);
  };
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    int previous_start = -1;
    for (std::size_t index = 1;; ++index) {
      TreeBuilder tree;
      if (!parser.HandleNextDocument(tree)) break;
      // yaml-cpp does not consume a ',' at document level and would hand
      // out empty documents at the same place forever.
      if (tree.start().pos == previous_start) {
        return syntax_error(tree.start(), "unexpected ',' outside a flow collection ([...] or {...})");
      }
      previous_start = tree.start().pos;
      if (index > limits.max_documents) {
        return Status::InvalidArgument(std::string(source) + ": more than " + std::to_string(limits.max_documents) +
                                       " documents");
      }
      const YNode* node = tree.root();
      if (node == nullptr || node->kind == YNode::Kind::kNull) continue;  // an empty document
      Document doc;
      doc.source = std::string(source);
      Position start = ToPosition(node->mark);
      doc.line = start.line;
      if (node->kind != YNode::Kind::kMap) {
        std::string at = doc.source + (start.line > 0 ? ":" + std::to_string(start.line) : std::string());
        return Status::InvalidArgument(at + ": document " + std::to_string(index) +
                                       " is not a map (a resource has apiVersion, kind, metadata...)");
      }
      Converter converter(source, limits, &doc);
      if (!converter.Convert(*node, "", start, 0, &doc.object)) return converter.status();
      FillMeta(&doc);
      docs.push_back(std::move(doc));
    }
  } catch (const YAML::Exception& e) {
    return syntax_error(e.mark, e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(source) + ": cannot read YAML: " + e.what());
  }
  return docs;
}

Document DocumentFromJson(nlohmann::json object, std::string_view source_name) {
  Document doc;
  doc.source = std::string(source_name);
  doc.object = std::move(object);
  if (doc.object.is_object()) FillMeta(&doc);
  return doc;
}

const char* JsonTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::null:
      return "null";
    default:
      return "binary";
  }
}

std::string DescribeValue(const nlohmann::json& v) {
  if (v.is_object() || v.is_array()) return JsonTypeName(v);
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace ofn::api

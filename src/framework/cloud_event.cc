// CloudEvent validation and the CloudEvents JSON event format (v1.0.2),
// including the JSON batch format.
#include "ofn/cloud_event.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <forward_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/json_text.h"
#include "framework/cloudevent_http.h"

namespace ofn {
namespace {

using json = nlohmann::json;

// Events carry JSON data through to functions and replies, whose parsers may
// recurse (jsontext::Valid does): bound the nesting of what is accepted.
constexpr int kMaxJsonDepth = 512;
// Objects up to this size are sorted by insertion.
constexpr size_t kSmallObject = 32;

// Never throws: strings set by user code may be invalid UTF-8.
std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// A name or value for an error message: quoted, at most ~64 bytes, cut at a
// UTF-8 character boundary.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return Dump(json(std::string(s)));
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return Dump(json(std::string(s.substr(0, n)))) + "...";
}

bool HasControlChar(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

// Core attributes whose JSON value must be a string (JSON format §2.2).
bool IsCoreStringAttribute(std::string_view name) {
  return name == "specversion" || name == "id" || name == "source" || name == "type" || name == "datacontenttype" ||
         name == "dataschema" || name == "subject" || name == "time";
}

Status Fail(std::string* attr, std::string_view name, std::string message) {
  if (attr) *attr = std::string(name);
  return Status::InvalidArgument(std::move(message));
}

// An extension attribute from a JSON number: an integer in int64 range, as
// nlohmann's DOM told them apart (beyond uint64 or with a fraction or an
// exponent it held a float).
Status NumberExtension(std::string_view name, std::string_view number, CloudEvent& e, std::string* attr) {
  if (number.find_first_of(".eE") == std::string_view::npos) {
    const char* end = number.data() + number.size();
    std::int64_t i;
    if (auto [p, ec] = std::from_chars(number.data(), end, i); ec == std::errc() && p == end) {
      e.set_extension(std::string(name), ExtensionValue::Integer(i));
      return Status::Ok();
    }
    std::uint64_t u;
    if (auto [p, ec] = std::from_chars(number.data(), end, u); ec == std::errc() && p == end) {
      return Fail(attr, name, "extension attribute " + Quote(name) + " is an integer out of range");
    }
  }
  return Fail(attr, name,
              "extension attribute " + Quote(name) +
                  " must be a JSON string, boolean or integer, got a non-integer number");
}

// Sets a core attribute (or a v0.3 one, kept for FinishDecode) from its string.
void SetStringAttribute(std::string_view name, std::string s, CloudEvent& e, std::optional<std::string>& encoding) {
  if (name == "specversion")
    e.set_spec_version(std::move(s));
  else if (name == "id")
    e.set_id(std::move(s));
  else if (name == "source")
    e.set_source(std::move(s));
  else if (name == "type")
    e.set_type(std::move(s));
  else if (name == "datacontenttype")
    e.set_data_content_type(std::move(s));
  else if (name == "dataschema")
    e.set_data_schema(std::move(s));
  else if (name == "subject")
    e.set_subject(std::move(s));
  else if (name == "time")
    e.set_time(std::move(s));
  else if (name == "datacontentencoding")
    encoding = std::move(s);
  else if (name == "schemaurl" && !e.data_schema())  // dataschema sorts first and wins
    e.set_data_schema(std::move(s));
}

// Sets `e`'s data from the `data` member's text (attributes are all set).
void SetData(std::string_view data, bool v03, const std::optional<std::string>& encoding, CloudEvent& e) {
  const auto& ct = e.data_content_type();
  bool json_type = !ct || ce::IsJsonMediaType(*ct);
  if (jsontext::KindOf(data) == jsontext::Kind::kString && (!json_type || (v03 && encoding))) {
    // Text data; or v0.3 Base64 text that FinishDecode decodes.
    e.set_data(jsontext::Unquote(data));
    return;
  }
  // JSON data is the value's text as sent, not parsed and re-serialized: the
  // publisher's bytes, as the CloudEvents Go SDK and OpenFunction's Go
  // framework keep it (json.RawMessage), and no tree of a large payload.
  if (ct && json_type) {
    e.set_data(std::string(data));  // JSON by its type already
  } else {
    // Keep the JSON value itself (JSON format §3.1), whatever the type says.
    e.set_json_data(std::string(data));
  }
}

// Fills `e` from one checked JSON value's text in the event format.
// `encoding` receives a v0.3 datacontentencoding for FinishDecode. Members
// are taken as the DOM held them (ce::DomMembers), so duplicates and which
// error comes first are what they always were.
Status DecodeMembers(std::span<const ce::JsonMember> members, const ce::DecodeOptions& opts, CloudEvent& e,
                     std::optional<std::string>& encoding, std::string* attr) {
  using jsontext::Kind;
  e.set_spec_version("");  // absent unless the member gives it
  // specversion first: it decides which members are core attributes.
  bool v03 = false;
  for (const auto& m : members) {
    if (m.name == "specversion" && jsontext::KindOf(m.value) == Kind::kString) {
      v03 = opts.accept_v03 && jsontext::Equals(m.value, "0.3");
    }
  }
  std::string_view data, data_base64;  // the members' text; empty when absent
  for (const auto& [name, value] : members) {
    Kind kind = jsontext::KindOf(value);
    if (kind == Kind::kNull) continue;  // null members count as absent
    if (name == "data") {
      data = value;
      continue;
    }
    if (name == "data_base64") {
      data_base64 = value;
      continue;
    }
    bool v03_core = v03 && (name == "schemaurl" || name == "datacontentencoding");
    if (IsCoreStringAttribute(name) || v03_core) {
      if (kind != Kind::kString) {
        return Fail(attr, name,
                    "attribute " + Quote(name) + " must be a JSON string, got " + std::string(ce::JsonTypeName(kind)));
      }
      SetStringAttribute(name, jsontext::Unquote(value), e, encoding);
      continue;
    }
    if (!ce::IsValidAttributeName(name)) {
      return Fail(attr, name,
                  "invalid attribute name " + Quote(name) + ": names are lower-case letters a-z and digits 0-9");
    }
    switch (kind) {
      case Kind::kString:
        e.set_extension(std::string(name), ExtensionValue::String(jsontext::Unquote(value)));
        break;
      case Kind::kTrue:
      case Kind::kFalse:
        e.set_extension(std::string(name), ExtensionValue::Bool(kind == Kind::kTrue));
        break;
      case Kind::kNumber:
        if (Status s = NumberExtension(name, value, e, attr); !s.ok()) return s;
        break;
      default:
        return Fail(attr, name,
                    "extension attribute " + Quote(name) + " must be a JSON string, boolean or integer, got " +
                        std::string(ce::JsonTypeName(kind)));
    }
  }

  if (!data.empty() && !data_base64.empty()) {
    return Fail(attr, "data_base64", "members \"data\" and \"data_base64\" must not both be present");
  }
  if (!data_base64.empty()) {
    Kind kind = jsontext::KindOf(data_base64);
    if (kind != Kind::kString) {
      return Fail(attr, "data_base64",
                  "member \"data_base64\" must be a JSON string, got " + std::string(ce::JsonTypeName(kind)));
    }
    std::forward_list<std::string> copy;
    auto bytes = enc::Base64Decode(ce::JsonString(data_base64, copy));
    if (!bytes) return Fail(attr, "data_base64", "member \"data_base64\" is not valid Base64");
    e.set_data(std::move(*bytes));
  } else if (!data.empty()) {
    SetData(data, v03, encoding, e);
  }
  return Status::Ok();
}

Status DecodeObject(std::string_view obj, const ce::DecodeOptions& opts, CloudEvent& e,
                    std::optional<std::string>& encoding, std::string* attr) {
  jsontext::Kind obj_kind = jsontext::KindOf(obj);
  if (obj_kind != jsontext::Kind::kObject) {
    return Fail(attr, "", "event is not a JSON object, got " + std::string(ce::JsonTypeName(obj_kind)));
  }
  std::forward_list<std::string> unescaped;
  return DecodeMembers(ce::DomMembers(obj, unescaped), opts, e, encoding, attr);
}

// JSON's insignificant whitespace around a value.
std::string_view TrimJsonSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r";
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

bool CloudEvent::data_is_json() const {
  return json_hint_ || (data_content_type_ && ce::IsJsonMediaType(*data_content_type_));
}

Status CloudEvent::Validate() const { return ce::CheckEvent(*this, nullptr); }

namespace ce {

Status CheckEvent(const CloudEvent& e, std::string* attr, bool strings_utf8) {
  if (e.spec_version().empty()) return Fail(attr, "specversion", "missing required attribute \"specversion\"");
  if (e.spec_version() != "1.0") {
    return Fail(attr, "specversion", "attribute \"specversion\" must be \"1.0\", got " + Quote(e.spec_version()));
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"id", &e.id()}, {"source", &e.source()}, {"type", &e.type()}};
  for (const auto& [name, value] : required) {
    if (value->empty()) return Fail(attr, name, std::string("missing required attribute \"") + name + "\"");
    if (!strings_utf8 && !enc::IsValidUtf8(*value))
      return Fail(attr, name, std::string("attribute \"") + name + "\" is not valid UTF-8");
  }
  const std::pair<const char*, const std::optional<std::string>*> optional[] = {
      {"datacontenttype", &e.data_content_type()},
      {"dataschema", &e.data_schema()},
      {"subject", &e.subject()},
      {"time", &e.time()}};
  for (const auto& [name, value] : optional) {
    if (*value && !strings_utf8 && !enc::IsValidUtf8(**value)) {
      return Fail(attr, name, std::string("attribute \"") + name + "\" is not valid UTF-8");
    }
  }
  if (e.time() && !IsRfc3339(*e.time())) {
    return Fail(attr, "time", "attribute \"time\" is not RFC 3339: " + Quote(*e.time()));
  }
  // It becomes a raw Content-Type header in binary mode.
  if (e.data_content_type() && HasControlChar(*e.data_content_type())) {
    return Fail(attr, "datacontenttype", "attribute \"datacontenttype\" contains control characters");
  }
  for (const auto& [name, value] : e.extensions()) {
    if (!IsValidAttributeName(name)) {
      return Fail(attr, name,
                  "invalid attribute name " + Quote(name) + ": names are lower-case letters a-z and digits 0-9");
    }
    // Would collide with a core attribute or the data member in the JSON format.
    if (IsCoreStringAttribute(name) || name == "data") {
      return Fail(attr, name, "extension attribute " + Quote(name) + " has a reserved name");
    }
    bool ok = true;
    switch (value.kind) {
      case ExtensionValue::Kind::kString:
        ok = strings_utf8 || enc::IsValidUtf8(value.text);
        break;
      case ExtensionValue::Kind::kBool:
        ok = value.text == "true" || value.text == "false";
        break;
      case ExtensionValue::Kind::kInteger: {
        std::int64_t v;
        auto [p, ec] = std::from_chars(value.text.data(), value.text.data() + value.text.size(), v);
        ok = ec == std::errc() && p == value.text.data() + value.text.size();
        break;
      }
    }
    if (!ok) return Fail(attr, name, "extension attribute " + Quote(name) + " has a value invalid for its kind");
  }
  return Status::Ok();
}

std::vector<JsonMember> DomMembers(std::string_view object, std::forward_list<std::string>& unescaped) {
  return DomMembers(jsontext::Members(object), unescaped);
}

std::vector<JsonMember> DomMembers(std::span<const jsontext::Member> members,
                                   std::forward_list<std::string>& unescaped) {
  std::vector<JsonMember> out;
  out.reserve(members.size());
  for (const auto& m : members) out.push_back({JsonString(m.key, unescaped), m.value});
  // Stable: of equal names the last written stays last, and is the one kept.
  auto less = [](const JsonMember& a, const JsonMember& b) {
    // Names mostly differ in their first byte: no call to compare them.
    if (!a.name.empty() && !b.name.empty() && a.name[0] != b.name[0]) {
      return static_cast<unsigned char>(a.name[0]) < static_cast<unsigned char>(b.name[0]);
    }
    return a.name < b.name;
  };
  if (out.size() <= kSmallObject) {
    // An event's dozen members: insertion sort, without stable_sort's buffer.
    for (size_t i = 1; i < out.size(); ++i) {
      JsonMember m = out[i];
      size_t j = i;
      for (; j > 0 && less(m, out[j - 1]); --j) out[j] = out[j - 1];
      out[j] = m;
    }
  } else {
    std::stable_sort(out.begin(), out.end(), less);
  }
  size_t kept = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i + 1 < out.size() && out[i + 1].name == out[i].name) continue;
    out[kept++] = out[i];
  }
  out.resize(kept);
  return out;
}

std::string_view JsonString(std::string_view literal, std::forward_list<std::string>& unescaped) {
  if (literal.size() < 2) return {};
  std::string_view inner = literal.substr(1, literal.size() - 2);
  // Checked text: without escapes the bytes are the string (UTF-8, no controls).
  if (inner.find('\\') == std::string_view::npos) return inner;
  return unescaped.emplace_front(jsontext::Unquote(literal));
}

std::string_view JsonTypeName(jsontext::Kind kind) {
  switch (kind) {
    case jsontext::Kind::kObject: return "object";
    case jsontext::Kind::kArray: return "array";
    case jsontext::Kind::kString: return "string";
    case jsontext::Kind::kNumber: return "number";
    case jsontext::Kind::kTrue:
    case jsontext::Kind::kFalse: return "boolean";
    case jsontext::Kind::kNull: return "null";
  }
  return "value";
}

Status CheckJson(std::string_view body) {
  if (jsontext::Valid(body, kMaxJsonDepth)) return Status::Ok();
  // Rejected (rare): a second look tells why, in the order always reported.
  if (!enc::IsValidUtf8(body)) return Status::InvalidArgument("body is not valid UTF-8");
  if (!jsontext::NestingWithin(body, kMaxJsonDepth)) {
    return Status::InvalidArgument("body nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  return Status::InvalidArgument("body is not valid JSON");
}

Result<CloudEvent> DecodeCheckedJson(std::string_view event, const DecodeOptions& opts) {
  event = TrimJsonSpace(event);
  if (jsontext::Kind kind = jsontext::KindOf(event); kind != jsontext::Kind::kObject) {
    return Status::InvalidArgument("body is not a JSON object, got " + std::string(JsonTypeName(kind)));
  }
  return DecodeCheckedMembers(jsontext::Members(event), opts);
}

Result<CloudEvent> DecodeCheckedMembers(std::span<const jsontext::Member> members, const DecodeOptions& opts) {
  CloudEvent e;
  std::optional<std::string> encoding;
  std::forward_list<std::string> unescaped;
  if (Status s = DecodeMembers(DomMembers(members, unescaped), opts, e, encoding, nullptr); !s.ok()) return s;
  if (Status s = FinishDecode(e, opts, encoding, nullptr, /*strings_utf8=*/true); !s.ok()) return s;
  return e;
}

Result<CloudEvent> DecodeStructured(std::string_view body, const DecodeOptions& opts) {
  if (Status s = CheckJson(body); !s.ok()) return s;
  return DecodeCheckedJson(body, opts);
}

Result<std::vector<CloudEvent>> DecodeBatch(std::string_view body, const DecodeOptions& opts) {
  if (Status s = CheckJson(body); !s.ok()) return s;
  body = TrimJsonSpace(body);
  if (jsontext::Kind kind = jsontext::KindOf(body); kind != jsontext::Kind::kArray) {
    return Status::InvalidArgument("batch body is not a JSON array, got " + std::string(JsonTypeName(kind)));
  }
  std::vector<std::string_view> elements = jsontext::Elements(body);
  std::vector<CloudEvent> events;
  events.reserve(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    CloudEvent e;
    std::optional<std::string> encoding;
    std::string attr;
    Status s = DecodeObject(elements[i], opts, e, encoding, &attr);
    if (s.ok()) s = FinishDecode(e, opts, encoding, &attr, /*strings_utf8=*/true);
    if (!s.ok()) {
      // "[2].id: missing required attribute "id"": the element and member at fault.
      std::string where = "[" + std::to_string(i) + "]" + (attr.empty() ? "" : "." + attr);
      return Status::InvalidArgument(where + ": " + s.message());
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace ce

std::string CloudEvent::ToJson() const {
  // Written by hand rather than through a json object: keeps members in
  // attribute order, splices JSON data verbatim, and stays linear in size.
  std::string out = "{";
  auto member = [&out](std::string_view name, std::string_view json_value) {
    if (out.size() > 1) out += ',';
    out += Dump(json(std::string(name)));
    out += ':';
    out += json_value;
  };
  auto string_member = [&member](std::string_view name, const std::string& value) { member(name, Dump(json(value))); };
  string_member("specversion", spec_version_);
  string_member("id", id_);
  string_member("source", source_);
  string_member("type", type_);
  if (data_content_type_) string_member("datacontenttype", *data_content_type_);
  if (data_schema_) string_member("dataschema", *data_schema_);
  if (subject_) string_member("subject", *subject_);
  if (time_) string_member("time", *time_);  // exactly as received
  for (const auto& [name, value] : extensions_) {
    switch (value.kind) {
      case ExtensionValue::Kind::kBool:
        if (value.text == "true" || value.text == "false") {
          member(name, value.text);
          continue;
        }
        break;
      case ExtensionValue::Kind::kInteger: {
        std::int64_t v;
        auto [p, ec] = std::from_chars(value.text.data(), value.text.data() + value.text.size(), v);
        if (ec == std::errc() && p == value.text.data() + value.text.size()) {
          member(name, std::to_string(v));
          continue;
        }
        break;
      }
      case ExtensionValue::Kind::kString:
        break;
    }
    string_member(name, value.text);  // strings, and malformed bools/integers
  }
  if (data_) {
    const std::string& d = *data_;
    if (data_is_json() && jsontext::Valid(d, kMaxJsonDepth)) {
      member("data", d);  // already JSON text: splice it as is
    } else if (data_content_type_ && !ce::IsJsonMediaType(*data_content_type_) &&
               ce::IsTextMediaType(*data_content_type_) && enc::IsValidUtf8(d)) {
      string_member("data", d);
    } else {
      // Opaque bytes, and JSON-typed data that is not JSON (kept byte-exact).
      string_member("data_base64", enc::Base64Encode(d));
    }
  }
  out += '}';
  return out;
}

Result<CloudEvent> CloudEvent::FromJson(std::string_view json) { return ce::DecodeStructured(json); }

}  // namespace ofn

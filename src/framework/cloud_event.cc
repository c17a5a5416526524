// CloudEvent validation and the CloudEvents JSON event format (v1.0.2),
// including the JSON batch format.
#include "ofn/cloud_event.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "framework/cloudevent_http.h"

namespace ofn {
namespace {

using json = nlohmann::json;

// nlohmann parses iteratively but dumps and copies recursively: bound the
// nesting so no request can exhaust the stack.
constexpr int kMaxJsonDepth = 512;

bool JsonDepthWithin(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// nlohmann's lexer stops at a NUL byte as if the input ended there, while
// JSON never allows a raw NUL: check before parsing.
bool IsJsonText(std::string_view s) {
  return s.find('\0') == std::string_view::npos && JsonDepthWithin(s, kMaxJsonDepth) && json::accept(s);
}

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

// Fills `e` from one JSON object in the event format. `encoding` receives a
// v0.3 datacontentencoding for FinishDecode.
Status DecodeObject(const json& obj, const ce::DecodeOptions& opts, CloudEvent& e, std::optional<std::string>& encoding,
                    std::string* attr) {
  if (!obj.is_object()) return Fail(attr, "", std::string("event is not a JSON object, got ") + obj.type_name());
  e.set_spec_version("");  // absent unless the member gives it
  // specversion first: it decides which members are core attributes.
  bool v03 = false;
  if (auto it = obj.find("specversion"); it != obj.end() && !it->is_null() && it->is_string()) {
    v03 = opts.accept_v03 && it->get_ref<const std::string&>() == "0.3";
  }
  const json* data = nullptr;
  const json* data_base64 = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& name = it.key();
    const json& value = it.value();
    if (value.is_null()) continue;  // null members count as absent
    if (name == "data") {
      data = &value;
      continue;
    }
    if (name == "data_base64") {
      data_base64 = &value;
      continue;
    }
    bool v03_core = v03 && (name == "schemaurl" || name == "datacontentencoding");
    if (IsCoreStringAttribute(name) || v03_core) {
      if (!value.is_string()) {
        return Fail(attr, name,
                    "attribute " + Quote(name) + " must be a JSON string, got " + std::string(value.type_name()));
      }
      std::string s = value.get<std::string>();
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
      else if (name == "schemaurl" && !e.data_schema())
        e.set_data_schema(std::move(s));
      continue;
    }
    if (!ce::IsValidAttributeName(name)) {
      return Fail(attr, name,
                  "invalid attribute name " + Quote(name) + ": names are lower-case letters a-z and digits 0-9");
    }
    switch (value.type()) {
      case json::value_t::string:
        e.set_extension(name, ExtensionValue::String(value.get<std::string>()));
        break;
      case json::value_t::boolean:
        e.set_extension(name, ExtensionValue::Bool(value.get<bool>()));
        break;
      case json::value_t::number_integer:
        e.set_extension(name, ExtensionValue::Integer(value.get<std::int64_t>()));
        break;
      case json::value_t::number_unsigned:
        if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return Fail(attr, name, "extension attribute " + Quote(name) + " is an integer out of range");
        }
        e.set_extension(name, ExtensionValue::Integer(value.get<std::int64_t>()));
        break;
      default:
        return Fail(
            attr, name,
            "extension attribute " + Quote(name) + " must be a JSON string, boolean or integer, got " +
                (value.is_number_float() ? std::string("a non-integer number") : std::string(value.type_name())));
    }
  }

  if (data && data_base64) {
    return Fail(attr, "data_base64", "members \"data\" and \"data_base64\" must not both be present");
  }
  if (data_base64) {
    if (!data_base64->is_string()) {
      return Fail(attr, "data_base64",
                  std::string("member \"data_base64\" must be a JSON string, got ") + data_base64->type_name());
    }
    auto bytes = enc::Base64Decode(data_base64->get_ref<const std::string&>());
    if (!bytes) return Fail(attr, "data_base64", "member \"data_base64\" is not valid Base64");
    e.set_data(std::move(*bytes));
  } else if (data) {
    const auto& ct = e.data_content_type();
    bool json_type = !ct || ce::IsJsonMediaType(*ct);
    if (data->is_string() && (!json_type || (v03 && encoding))) {
      // Text data; or v0.3 Base64 text that FinishDecode decodes.
      e.set_data(data->get<std::string>());
    } else if (ct && json_type) {
      e.set_data(Dump(*data));  // JSON by its type already
    } else {
      // Keep the JSON value itself (JSON format §3.1), whatever the type says.
      e.set_json_data(Dump(*data));
    }
  }
  return Status::Ok();
}

}  // namespace

bool CloudEvent::data_is_json() const {
  return json_hint_ || (data_content_type_ && ce::IsJsonMediaType(*data_content_type_));
}

Status CloudEvent::Validate() const { return ce::CheckEvent(*this, nullptr); }

namespace ce {

Status CheckEvent(const CloudEvent& e, std::string* attr) {
  if (e.spec_version().empty()) return Fail(attr, "specversion", "missing required attribute \"specversion\"");
  if (e.spec_version() != "1.0") {
    return Fail(attr, "specversion", "attribute \"specversion\" must be \"1.0\", got " + Quote(e.spec_version()));
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"id", &e.id()}, {"source", &e.source()}, {"type", &e.type()}};
  for (const auto& [name, value] : required) {
    if (value->empty()) return Fail(attr, name, std::string("missing required attribute \"") + name + "\"");
    if (!enc::IsValidUtf8(*value))
      return Fail(attr, name, std::string("attribute \"") + name + "\" is not valid UTF-8");
  }
  const std::pair<const char*, const std::optional<std::string>*> optional[] = {
      {"datacontenttype", &e.data_content_type()},
      {"dataschema", &e.data_schema()},
      {"subject", &e.subject()},
      {"time", &e.time()}};
  for (const auto& [name, value] : optional) {
    if (*value && !enc::IsValidUtf8(**value)) {
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
        ok = enc::IsValidUtf8(value.text);
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

Result<json> ParseJson(std::string_view body) {
  if (!enc::IsValidUtf8(body)) return Status::InvalidArgument("body is not valid UTF-8");
  if (!JsonDepthWithin(body, kMaxJsonDepth)) {
    return Status::InvalidArgument("body nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  if (body.find('\0') != std::string_view::npos) return Status::InvalidArgument("body is not valid JSON");
  json v = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return Status::InvalidArgument("body is not valid JSON");
  return v;
}

Result<CloudEvent> DecodeJson(const json& event, const DecodeOptions& opts) {
  CloudEvent e;
  std::optional<std::string> encoding;
  if (Status s = DecodeObject(event, opts, e, encoding, nullptr); !s.ok()) return s;
  if (Status s = FinishDecode(e, opts, encoding, nullptr); !s.ok()) return s;
  return e;
}

Result<CloudEvent> DecodeStructured(std::string_view body, const DecodeOptions& opts) {
  auto parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) {
    return Status::InvalidArgument(std::string("body is not a JSON object, got ") + parsed->type_name());
  }
  return DecodeJson(*parsed, opts);
}

Result<std::vector<CloudEvent>> DecodeBatch(std::string_view body, const DecodeOptions& opts) {
  auto parsed = ParseJson(body);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) {
    return Status::InvalidArgument(std::string("batch body is not a JSON array, got ") + parsed->type_name());
  }
  std::vector<CloudEvent> events;
  events.reserve(parsed->size());
  for (size_t i = 0; i < parsed->size(); ++i) {
    CloudEvent e;
    std::optional<std::string> encoding;
    std::string attr;
    Status s = DecodeObject((*parsed)[i], opts, e, encoding, &attr);
    if (s.ok()) s = FinishDecode(e, opts, encoding, &attr);
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
    if (data_is_json() && IsJsonText(d)) {
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

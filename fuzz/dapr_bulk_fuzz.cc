// Fuzzes the Dapr bulk-subscribe body (framework/dapr_bulk.h) and the
// DOM-free CloudEvent decoding beneath it against a reference built here on
// nlohmann's DOM (the decoder as it was before it read text), and checks what
// must always hold:
//   - ce::CheckJson accepts what nlohmann accepts (no NUL, depth <= 512);
//   - ReadBulk finds a bulk exactly when the DOM is an object with an
//     "entries" array, and its entries agree with the DOM: entryId, and each
//     event's text parsing to the entry's event;
//   - every event (a single body, or an entry's) decodes as the reference
//     decodes the DOM: same outcome, same error message, same attributes and
//     the same data, JSON data compared as JSON (it is now kept as sent);
//   - the entry's request and the statuses answer are well formed.
//
// Input: the body of a POST on a pub/sub route.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/json_text.h"
#include "framework/cloudevent_http.h"
#include "framework/dapr_bulk.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"

namespace {

using nlohmann::json;
using ofn::CloudEvent;
using ofn::ExtensionValue;
using ofn::Result;
using ofn::Status;
namespace ce = ofn::ce;
namespace dapr = ofn::dapr;

void Require(bool ok) {
  if (!ok) __builtin_trap();
}

// --- The reference: decoding from nlohmann's DOM, as the framework did.

std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return Dump(json(std::string(s)));
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return Dump(json(std::string(s.substr(0, n)))) + "...";
}

bool IsCoreString(std::string_view n) {
  return n == "specversion" || n == "id" || n == "source" || n == "type" || n == "datacontenttype" ||
         n == "dataschema" || n == "subject" || n == "time";
}

Status RefObject(const json& obj, bool accept_v03, CloudEvent& e, std::optional<std::string>& encoding) {
  auto fail = [](std::string m) { return Status::InvalidArgument(std::move(m)); };
  if (!obj.is_object()) return fail(std::string("event is not a JSON object, got ") + obj.type_name());
  e.set_spec_version("");
  bool v03 = false;
  if (auto it = obj.find("specversion"); it != obj.end() && it->is_string()) {
    v03 = accept_v03 && it->get_ref<const std::string&>() == "0.3";
  }
  const json* data = nullptr;
  const json* data_base64 = nullptr;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (name == "data") {
      data = &v;
      continue;
    }
    if (name == "data_base64") {
      data_base64 = &v;
      continue;
    }
    if (IsCoreString(name) || (v03 && (name == "schemaurl" || name == "datacontentencoding"))) {
      if (!v.is_string()) return fail("attribute " + Quote(name) + " must be a JSON string, got " + v.type_name());
      std::string s = v.get<std::string>();
      if (name == "specversion") e.set_spec_version(s);
      if (name == "id") e.set_id(s);
      if (name == "source") e.set_source(s);
      if (name == "type") e.set_type(s);
      if (name == "datacontenttype") e.set_data_content_type(s);
      if (name == "dataschema") e.set_data_schema(s);
      if (name == "subject") e.set_subject(s);
      if (name == "time") e.set_time(s);
      if (name == "datacontentencoding") encoding = s;
      if (name == "schemaurl" && !e.data_schema()) e.set_data_schema(s);
      continue;
    }
    if (!ce::IsValidAttributeName(name)) {
      return fail("invalid attribute name " + Quote(name) + ": names are lower-case letters a-z and digits 0-9");
    }
    if (v.is_string()) {
      e.set_extension(name, ExtensionValue::String(v.get<std::string>()));
    } else if (v.is_boolean()) {
      e.set_extension(name, ExtensionValue::Bool(v.get<bool>()));
    } else if (v.is_number_integer() && !v.is_number_unsigned()) {
      e.set_extension(name, ExtensionValue::Integer(v.get<std::int64_t>()));
    } else if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return fail("extension attribute " + Quote(name) + " is an integer out of range");
      }
      e.set_extension(name, ExtensionValue::Integer(v.get<std::int64_t>()));
    } else {
      return fail("extension attribute " + Quote(name) + " must be a JSON string, boolean or integer, got " +
                  (v.is_number_float() ? std::string("a non-integer number") : std::string(v.type_name())));
    }
  }
  if (data && data_base64) return fail("members \"data\" and \"data_base64\" must not both be present");
  if (data_base64) {
    if (!data_base64->is_string()) {
      return fail(std::string("member \"data_base64\" must be a JSON string, got ") + data_base64->type_name());
    }
    auto bytes = ofn::enc::Base64Decode(data_base64->get_ref<const std::string&>());
    if (!bytes) return fail("member \"data_base64\" is not valid Base64");
    e.set_data(std::move(*bytes));
  } else if (data) {
    const auto& ct = e.data_content_type();
    bool json_type = !ct || ce::IsJsonMediaType(*ct);
    if (data->is_string() && (!json_type || (v03 && encoding))) {
      e.set_data(data->get<std::string>());
    } else if (ct && json_type) {
      e.set_data(Dump(*data));
    } else {
      e.set_json_data(Dump(*data));
    }
  }
  return Status::Ok();
}

Result<CloudEvent> RefDecode(const json& obj, bool accept_v03) {
  CloudEvent e;
  std::optional<std::string> encoding;
  ce::DecodeOptions opts{.accept_v03 = accept_v03};
  if (Status s = RefObject(obj, accept_v03, e, encoding); !s.ok()) return s;
  if (Status s = ce::FinishDecode(e, opts, encoding, nullptr); !s.ok()) return s;
  return e;
}

const std::string* StringAt(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

Result<CloudEvent> RefRaw(const json& body, const json& entry, const std::string& base64) {
  auto bytes = ofn::enc::Base64Decode(base64);
  if (!bytes) return Status::InvalidArgument("event of a rawPayload entry is not valid Base64");
  const std::string* id = StringAt(entry, "entryId");
  CloudEvent e{id ? *id : "", "Dapr", "com.dapr.event.sent"};
  e.set_data_content_type("application/octet-stream");
  for (const char* name : {"topic", "pubsubname"}) {
    if (const std::string* v = StringAt(body, name)) e.set_extension(name, ExtensionValue::String(*v));
  }
  if (entry.contains("metadata")) {
    for (const char* name : {"traceid", "traceparent", "tracestate"}) {
      if (const std::string* v = StringAt(entry["metadata"], name)) {
        e.set_extension(name, ExtensionValue::String(*v));
      }
    }
  }
  e.set_data(std::move(*bytes));
  if (Status s = e.Validate(); !s.ok()) return s;
  return e;
}

Result<CloudEvent> RefEntryEvent(const json& body, const json& entry) {
  if (!entry.is_object() || !entry.contains("event")) return Status::InvalidArgument("entry has no event");
  const json& event = entry["event"];
  if (event.is_string()) return RefRaw(body, entry, event.get<std::string>());
  if (!event.is_object()) {
    return Status::InvalidArgument(std::string("event is neither a CloudEvent object nor Base64 raw data, got ") +
                                   event.type_name());
  }
  return RefDecode(event, false);
}

// --- Comparing.

void RequireSame(const Result<CloudEvent>& got, const Result<CloudEvent>& want) {
  Require(got.ok() == want.ok());
  if (!got.ok()) {
    Require(got.status().message() == want.status().message());
    return;
  }
  const CloudEvent& a = *got;
  const CloudEvent& b = *want;
  Require(a.spec_version() == b.spec_version() && a.id() == b.id() && a.source() == b.source() &&
          a.type() == b.type() && a.data_content_type() == b.data_content_type() &&
          a.data_schema() == b.data_schema() && a.subject() == b.subject() && a.time() == b.time() &&
          a.extensions() == b.extensions() && a.data_is_json() == b.data_is_json());
  Require(a.data().has_value() == b.data().has_value());
  if (!a.data() || *a.data() == *b.data()) return;
  // Only JSON data may differ in bytes: kept as sent, where the DOM dumped it.
  json x = json::parse(*a.data(), nullptr, false);
  Require(!x.is_discarded() && x == json::parse(*b.data(), nullptr, false));
}


// nlohmann's DOM of the body when it accepts it as CheckJson must. It also
// skips a leading byte order mark and refuses numbers beyond a double's range,
// both of which RFC 8259 leaves open; such bodies have no reference.
std::optional<json> Reference(std::string_view text, bool checked) {
  bool nlohmann_ok = text.find('\0') == std::string_view::npos && ofn::jsontext::NestingWithin(text, 512);
  json doc;
  if (nlohmann_ok) {
    try {
      doc = json::parse(text);
    } catch (const json::out_of_range&) {  // 406: number overflow
      return std::nullopt;
    } catch (const json::exception&) {
      nlohmann_ok = false;
    }
  }
  if (text.starts_with("\xEF\xBB\xBF")) return std::nullopt;
  Require(checked == nlohmann_ok);
  if (!nlohmann_ok) return std::nullopt;
  return doc;
}

void CheckBulk(std::string_view text, const dapr::Bulk& bulk, const json& body) {
  const json& entries = body["entries"];
  Require(bulk.entries.size() == entries.size());
  ofn::HttpRequest req;
  req.set_method("POST");
  req.set_target("/orders");
  std::vector<dapr::EntryStatus> statuses;
  for (size_t i = 0; i < entries.size(); ++i) {
    const dapr::Entry& entry = bulk.entries[i];
    const std::string* id = StringAt(entries[i], "entryId");
    Require(entry.id == (id ? *id : ""));
    const bool has_event = entries[i].is_object() && entries[i].contains("event");
    Require(has_event == !entry.event.empty());
    if (has_event) Require(json::parse(entry.event) == entries[i]["event"]);
    auto event = dapr::DecodeEntryEvent(bulk, entry, {});
    RequireSame(event, RefEntryEvent(body, entries[i]));
    if (event.ok()) Require(event->Validate().ok());
    dapr::EntryRequest r(req, bulk);
    r.Set(entry, entry.event);
    Require(r.request().body() == entry.event && r.request().method() == "POST");
    for (const auto& h : r.request().headers()) Require(ofn::enc::IsValidUtf8(h.value));
    if (!entry.id.empty()) statuses.push_back({entry.id, "SUCCESS"});
  }
  json answer = json::parse(dapr::StatusesJson(statuses), nullptr, false);
  Require(answer.is_object() && answer["statuses"].size() == statuses.size());
  (void)text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Status checked = ce::CheckJson(text);
  std::optional<json> body = Reference(text, checked.ok());
  if (!checked.ok()) {
    for (bool v03 : {false, true}) Require(!ce::DecodeStructured(text, {.accept_v03 = v03}).ok());
    return 0;
  }
  std::optional<dapr::Bulk> bulk = dapr::ReadBulk(text);
  if (body) {
    auto entries = body->is_object() ? body->find("entries") : body->end();
    Require(bulk.has_value() == (body->is_object() && entries != body->end() && entries->is_array()));
  }
  if (bulk) {
    if (body) CheckBulk(text, *bulk, *body);
    return 0;
  }
  for (bool v03 : {false, true}) {
    auto got = ce::DecodeStructured(text, {.accept_v03 = v03});
    if (!body) continue;
    if (!body->is_object()) {
      Require(!got.ok());
      continue;
    }
    RequireSame(got, RefDecode(*body, v03));
  }
  return 0;
}

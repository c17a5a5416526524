#include "framework/dapr_bulk.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/encoding.h"
#include "common/json_text.h"

namespace ofn::dapr {
namespace {

using jsontext::Kind;

bool IsString(std::string_view value) { return !value.empty() && jsontext::KindOf(value) == Kind::kString; }
bool IsObject(std::string_view value) { return !value.empty() && jsontext::KindOf(value) == Kind::kObject; }

// What Dapr's single raw path builds for a rawPayload message (§2.3): the
// trace context comes from the message's (the entry's) metadata.
Result<CloudEvent> RawEvent(const Bulk& bulk, const Entry& entry) {
  std::forward_list<std::string> unescaped;
  auto bytes = enc::Base64Decode(ce::JsonString(entry.event, unescaped));
  if (!bytes) return Status::InvalidArgument("event of a rawPayload entry is not valid Base64");
  CloudEvent e{entry.id, "Dapr", "com.dapr.event.sent"};
  e.set_data_content_type("application/octet-stream");
  for (auto [name, literal] : {std::pair{"topic", bulk.topic}, std::pair{"pubsubname", bulk.pubsubname}}) {
    if (!literal.empty()) e.set_extension(name, ExtensionValue::String(jsontext::Unquote(literal)));
  }
  if (!entry.metadata.empty()) {
    for (const auto& [name, value] : ce::DomMembers(entry.metadata, unescaped)) {
      if ((name == "traceid" || name == "traceparent" || name == "tracestate") && IsString(value)) {
        e.set_extension(std::string(name), ExtensionValue::String(jsontext::Unquote(value)));
      }
    }
  }
  e.set_data(std::move(*bytes));
  if (Status s = e.Validate(); !s.ok()) return s;
  return e;
}

}  // namespace

std::optional<Bulk> ReadBulk(std::string_view body) {
  Bulk bulk;
  std::string_view entries;
  for (const auto& [key, value] : jsontext::Members(body)) {
    // The last of a name wins: a later one replaces (or clears) an earlier one.
    if (jsontext::Equals(key, "entries")) {
      entries = value;
    } else if (jsontext::Equals(key, "topic")) {
      bulk.topic = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "pubsubname")) {
      bulk.pubsubname = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "metadata")) {
      bulk.metadata = IsObject(value) ? value : std::string_view();
    }
  }
  if (entries.empty() || jsontext::KindOf(entries) != Kind::kArray) return std::nullopt;
  bulk.entries = jsontext::Elements(entries);
  return bulk;
}

Entry ReadEntry(std::string_view entry) {
  Entry e;
  for (const auto& [key, value] : jsontext::Members(entry)) {
    if (jsontext::Equals(key, "entryId")) {
      e.id = IsString(value) ? jsontext::Unquote(value) : std::string();
    } else if (jsontext::Equals(key, "event")) {
      e.event = value;
    } else if (jsontext::Equals(key, "contentType")) {
      e.content_type = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "metadata")) {
      e.metadata = IsObject(value) ? value : std::string_view();
    }
  }
  return e;
}

bool IsRawEntry(const Entry& entry) { return IsString(entry.event); }

Result<CloudEvent> DecodeEntryEvent(const Bulk& bulk, const Entry& entry, const ce::DecodeOptions& opts) {
  if (entry.event.empty()) return Status::InvalidArgument("entry has no event");
  Kind kind = jsontext::KindOf(entry.event);
  if (kind == Kind::kString) return RawEvent(bulk, entry);
  if (kind != Kind::kObject) {
    return Status::InvalidArgument("event is neither a CloudEvent object nor Base64 raw data, got " +
                                   std::string(ce::JsonTypeName(kind)));
  }
  return ce::DecodeCheckedJson(entry.event, opts);
}

EntryRequest::EntryRequest(const HttpRequest& req, const Bulk& bulk, const Entry& entry, std::string_view body) {
  req_.set_method(req.method());
  req_.set_target(req.target());
  req_.set_http_minor(req.http_minor());
  if (!entry.content_type.empty()) req_.add_header("Content-Type", ce::JsonString(entry.content_type, unescaped_));
  AddStringMembers(entry.metadata);
  AddStringMembers(bulk.metadata);
  req_.set_body(body);
}

void EntryRequest::AddStringMembers(std::string_view object) {
  if (object.empty()) return;
  for (const auto& [name, value] : ce::DomMembers(object, unescaped_)) {
    if (IsString(value)) req_.add_header(name, ce::JsonString(value, unescaped_));
  }
}

std::string StatusesJson(const std::vector<EntryStatus>& statuses) {
  using json = nlohmann::json;
  json list = json::array();
  for (const auto& s : statuses) list.push_back({{"entryId", s.entry_id}, {"status", s.status}});
  return json{{"statuses", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ofn::dapr

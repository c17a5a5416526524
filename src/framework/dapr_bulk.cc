#include "framework/dapr_bulk.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/encoding.h"
#include "common/json_text.h"

namespace ofn::dapr {
namespace {

using jsontext::Kind;

bool IsString(std::string_view value) { return !value.empty() && jsontext::KindOf(value) == Kind::kString; }
bool IsObject(std::string_view value) { return !value.empty() && jsontext::KindOf(value) == Kind::kObject; }

// A walk over checked text (ce::CheckJson) that descends into the parts a
// bulk needs, so the body is scanned once.
using jsontext::SkipWs;
using jsontext::ValueEnd;

// `i` at an object's '{': calls `on_member(key literal, index of the value)`,
// which returns the index after the value, for each member in order; returns
// the index after the object.
template <typename F>
size_t WalkObject(std::string_view s, size_t i, F on_member) {
  i = SkipWs(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    size_t key_end = ValueEnd(s, i);
    std::string_view key = s.substr(i, key_end - i);
    i = SkipWs(s, SkipWs(s, key_end) + 1);  // past ':'
    if (i >= s.size()) return s.size();
    i = SkipWs(s, on_member(key, i));
    if (i < s.size() && s[i] == ',') i = SkipWs(s, i + 1);
  }
  return std::min(i + 1, s.size());  // past '}'
}

std::string_view ValueAt(std::string_view s, size_t i, size_t* end) {
  *end = ValueEnd(s, i);
  return s.substr(i, *end - i);
}

// `i` at an entry object's '{': fills `e`, the event's members
// included; returns the index after the entry.
size_t ReadEntryAt(std::string_view s, size_t i, Entry& e) {
  return WalkObject(s, i, [&](std::string_view key, size_t v) {
    size_t end;
    if (jsontext::Equals(key, "event")) {
      e.event_members.clear();
      if (s[v] != '{') {
        e.event = ValueAt(s, v, &end);
        return end;
      }
      e.event_members.reserve(16);  // an event's members, without regrowing
      end = WalkObject(s, v, [&](std::string_view name, size_t m) {
        size_t m_end;
        e.event_members.push_back({name, ValueAt(s, m, &m_end)});
        return m_end;
      });
      e.event = s.substr(v, end - v);
      return end;
    }
    std::string_view value = ValueAt(s, v, &end);
    if (jsontext::Equals(key, "entryId")) {
      e.id = IsString(value) ? jsontext::Unquote(value) : std::string();
    } else if (jsontext::Equals(key, "contentType")) {
      e.content_type = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "metadata")) {
      e.metadata = IsObject(value) ? value : std::string_view();
    }
    return end;
  });
}

// `i` at the entries array's '[': reads every entry into `bulk`; returns the
// index after the array.
size_t ReadEntriesAt(std::string_view s, size_t i, Bulk& bulk) {
  bulk.entries.clear();
  i = SkipWs(s, i + 1);
  while (i < s.size() && s[i] != ']') {
    Entry& e = bulk.entries.emplace_back();
    size_t end = s[i] == '{' ? ReadEntryAt(s, i, e) : ValueEnd(s, i);
    i = SkipWs(s, end);
    if (i < s.size() && s[i] == ',') i = SkipWs(s, i + 1);
  }
  return std::min(i + 1, s.size());
}

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
  size_t start = SkipWs(body, 0);
  if (start >= body.size() || body[start] != '{') return std::nullopt;
  Bulk bulk;
  bool has_entries = false;
  WalkObject(body, start, [&](std::string_view key, size_t v) {
    // The last of a name wins: a later one replaces (or clears) an earlier one.
    if (jsontext::Equals(key, "entries")) {
      has_entries = body[v] == '[';
      if (has_entries) return ReadEntriesAt(body, v, bulk);
      bulk.entries.clear();
      return ValueEnd(body, v);
    }
    size_t end;
    std::string_view value = ValueAt(body, v, &end);
    if (jsontext::Equals(key, "topic")) {
      bulk.topic = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "pubsubname")) {
      bulk.pubsubname = IsString(value) ? value : std::string_view();
    } else if (jsontext::Equals(key, "metadata")) {
      bulk.metadata = IsObject(value) ? value : std::string_view();
    }
    return end;
  });
  if (!has_entries) return std::nullopt;
  return bulk;
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
  return ce::DecodeCheckedMembers(entry.event_members, opts);
}

namespace {

// Calls add(name, value) for each string member of a checked object, in name
// order (the last of a name), unescaped into `unescaped` where needed.
template <typename F>
void ForStringMembers(std::string_view object, std::forward_list<std::string>& unescaped, F add) {
  if (object.empty()) return;
  for (const auto& [name, value] : ce::DomMembers(object, unescaped)) {
    if (IsString(value)) add(name, ce::JsonString(value, unescaped));
  }
}

}  // namespace

EntryRequest::EntryRequest(const HttpRequest& req, const Bulk& bulk) {
  req_.set_method(req.method());
  req_.set_target(req.target());
  req_.set_http_minor(req.http_minor());
  ForStringMembers(bulk.metadata, delivery_unescaped_, [this](std::string_view name, std::string_view value) {
    delivery_headers_.push_back({name, value});
  });
}

void EntryRequest::Set(const Entry& entry, std::string_view body) {
  unescaped_.clear();
  req_.clear_headers();  // keeps the list's storage for the next entry
  if (!entry.content_type.empty()) req_.add_header("Content-Type", ce::JsonString(entry.content_type, unescaped_));
  ForStringMembers(entry.metadata, unescaped_,
                   [this](std::string_view name, std::string_view value) { req_.add_header(name, value); });
  for (const Header& h : delivery_headers_) req_.add_header(h.name, h.value);
  req_.set_body(body);
}

std::string StatusesJson(const std::vector<EntryStatus>& statuses) {
  // By hand, as nlohmann wrote it (members in name order): ids are the only
  // variable part; the statuses are literals needing no escapes.
  std::string out = "{\"statuses\":[";
  out.reserve(out.size() + statuses.size() * 48);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"entryId\":";
    jsontext::AppendQuoted(out, statuses[i].entry_id);
    out += ",\"status\":\"";
    out += statuses[i].status;
    out += "\"}";
  }
  out += "]}";
  return out;
}

}  // namespace ofn::dapr

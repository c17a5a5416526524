#include "framework/dapr_bulk.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/encoding.h"

namespace ofn::dapr {
namespace {

using json = nlohmann::json;

const json* Member(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

const std::string* StringMember(const json& obj, const char* name) {
  const json* v = Member(obj, name);
  return v && v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
}

// What Dapr's single raw path builds for a rawPayload message (§2.3): the
// trace context comes from the message's (the entry's) metadata.
Result<CloudEvent> RawEvent(const json& body, const json& entry, const std::string& base64) {
  auto bytes = enc::Base64Decode(base64);
  if (!bytes) return Status::InvalidArgument("event of a rawPayload entry is not valid Base64");
  CloudEvent e{std::string(EntryId(entry)), "Dapr", "com.dapr.event.sent"};
  e.set_data_content_type("application/octet-stream");
  for (const char* name : {"topic", "pubsubname"}) {
    if (const std::string* v = StringMember(body, name)) e.set_extension(name, ExtensionValue::String(*v));
  }
  if (const json* metadata = Member(entry, "metadata")) {
    for (const char* name : {"traceid", "traceparent", "tracestate"}) {
      if (const std::string* v = StringMember(*metadata, name)) e.set_extension(name, ExtensionValue::String(*v));
    }
  }
  e.set_data(std::move(*bytes));
  if (Status s = e.Validate(); !s.ok()) return s;
  return e;
}

// A cursor over text that is valid JSON (it parsed): it only finds where
// tokens end, and stays in bounds on any text.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool Eat(char c) {
    SkipSpace();
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }

  // One value (or a member name) as it is written; empty at the end.
  std::string_view Value() {
    SkipSpace();
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '"') {
      SkipString();
    } else if (i_ < s_.size() && (s_[i_] == '{' || s_[i_] == '[')) {
      SkipContainer();
    } else {
      while (i_ < s_.size() && !IsSpace(s_[i_]) && s_[i_] != ',' && s_[i_] != ':' && s_[i_] != '}' && s_[i_] != ']') {
        ++i_;
      }
    }
    return s_.substr(start, i_ - start);
  }

  // Calls f(name token, value) for each member of the object at the cursor.
  template <typename F>
  void Members(F&& f) {
    if (!Eat('{') || Eat('}')) return;
    do {
      std::string_view name = Value();
      if (name.empty() || !Eat(':')) return;
      f(name, Value());
    } while (Eat(','));
  }

 private:
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
  }
  void SkipContainer() {
    int depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '"') {
        SkipString();
        continue;
      }
      ++i_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return;
      }
    }
  }
  void SkipString() {
    for (++i_; i_ < s_.size(); ++i_) {
      if (s_[i_] == '\\') {
        ++i_;
      } else if (s_[i_] == '"') {
        ++i_;
        return;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Whether a member name token ("\"entries\"") spells `name`; escapes are rare.
bool NameIs(std::string_view token, std::string_view name) {
  if (token.find('\\') == std::string_view::npos) {
    return token.size() == name.size() + 2 && token.substr(1, name.size()) == name;
  }
  json decoded = json::parse(token, nullptr, /*allow_exceptions=*/false);
  return decoded.is_string() && decoded.get_ref<const std::string&>() == name;
}

// The last value of member `name` in the object `text`, as nlohmann keeps it.
std::string_view LastMember(std::string_view text, std::string_view name) {
  std::string_view found;
  Scanner(text).Members([&](std::string_view n, std::string_view v) {
    if (NameIs(n, name)) found = v;
  });
  return found;
}

}  // namespace

bool IsBulkBody(const json& body) {
  const json* entries = Member(body, "entries");
  return entries && entries->is_array();
}

std::string_view EntryId(const json& entry) {
  const std::string* id = StringMember(entry, "entryId");
  return id ? std::string_view(*id) : std::string_view();
}

bool IsRawEntry(const json& entry) {
  const json* event = Member(entry, "event");
  return event && event->is_string();
}

Result<CloudEvent> DecodeEntryEvent(const json& body, const json& entry, const ce::DecodeOptions& opts) {
  const json* event = Member(entry, "event");
  if (!event) return Status::InvalidArgument("entry has no event");
  if (event->is_string()) return RawEvent(body, entry, event->get_ref<const std::string&>());
  if (!event->is_object()) {
    return Status::InvalidArgument(std::string("event is neither a CloudEvent object nor Base64 raw data, got ") +
                                   event->type_name());
  }
  return ce::DecodeJson(*event, opts);
}

std::vector<std::string_view> EntryEventTexts(std::string_view text) {
  std::vector<std::string_view> events;
  Scanner entries(LastMember(text, "entries"));
  if (!entries.Eat('[') || entries.Eat(']')) return events;
  do {
    std::string_view entry = entries.Value();
    events.push_back(entry.starts_with('{') ? LastMember(entry, "event") : std::string_view());
  } while (entries.Eat(','));
  return events;
}

HttpRequest EntryRequest(const HttpRequest& req, const json& body_json, const json& entry, std::string_view body) {
  HttpRequest r;
  r.set_method(req.method());
  r.set_target(req.target());
  r.set_http_minor(req.http_minor());
  if (const std::string* ct = StringMember(entry, "contentType")) r.add_header("Content-Type", *ct);
  for (const json* metadata : {Member(entry, "metadata"), Member(body_json, "metadata")}) {
    if (!metadata || !metadata->is_object()) continue;
    for (auto it = metadata->begin(); it != metadata->end(); ++it) {
      if (it->is_string()) r.add_header(it.key(), it->get_ref<const std::string&>());
    }
  }
  r.set_body(body);
  return r;
}

std::string StatusesJson(const std::vector<EntryStatus>& statuses) {
  json list = json::array();
  for (const auto& s : statuses) list.push_back({{"entryId", s.entry_id}, {"status", s.status}});
  return json{{"statuses", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ofn::dapr

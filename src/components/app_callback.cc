#include "components/app_callback.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include "common/encoding.h"
#include "common/json_text.h"
#include "common/uuid.h"

namespace ofn::components {

using Json = nlohmann::json;

namespace {

Verdict FromStatus(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.empty() || s == "SUCCESS") return Verdict::kSuccess;
  if (s == "DROP") return Verdict::kDrop;
  return Verdict::kRetry;  // RETRY, and any status Dapr does not know
}

// Broker metadata comes from publishers: bytes that are not UTF-8 are
// replaced, never thrown on (AppendQuoted).
void AppendMetadata(std::string& out, const std::map<std::string, std::string>& metadata) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : metadata) {
    if (!first) out += ',';
    first = false;
    jsontext::AppendQuoted(out, k);
    out += ':';
    jsontext::AppendQuoted(out, v);
  }
  out += '}';
}

}  // namespace

Verdict Judge(EventKind kind, int status, std::string_view body) {
  const bool ok = status >= 200 && status < 300;
  if (kind == EventKind::kBinding) return ok ? Verdict::kSuccess : Verdict::kRetry;
  if (status == 404) return Verdict::kDrop;
  if (!ok) return Verdict::kRetry;
  auto j = Json::parse(body, nullptr, false);
  if (!j.is_object()) return Verdict::kSuccess;  // empty or not JSON: Dapr acks
  auto it = j.find("status");
  if (it == j.end() || !it->is_string()) return Verdict::kSuccess;
  return FromStatus(it->get<std::string>());
}

std::string RawEnvelope(const Message& m) {
  auto pubsub = m.metadata.find("pubsubName");
  Json ce = {{"id", NewUuid()},
             {"specversion", "1.0"},
             {"datacontenttype", "application/octet-stream"},
             {"source", "Dapr"},
             {"type", "com.dapr.event.sent"},
             {"topic", m.topic},
             {"pubsubname", pubsub != m.metadata.end() ? pubsub->second : ""},
             {"data_base64", enc::Base64Encode(m.data)}};
  for (const char* k : {"traceid", "traceparent", "tracestate"}) {
    if (auto it = m.metadata.find(k); it != m.metadata.end()) ce[k] = it->second;
  }
  return ce.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsJsonObject(std::string_view data) {
  size_t first = data.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && data[first] == '{' && jsontext::Valid(data);
}

std::string BulkBody(std::string_view id, std::string_view topic, std::string_view pubsub,
                     const std::vector<BulkEntry>& entries) {
  size_t size = 128;
  for (const auto& e : entries) size += e.message->data.size() * (e.raw ? 2 : 1) + 128;
  std::string out;
  out.reserve(size);
  out += R"({"id":)";
  jsontext::AppendQuoted(out, id);
  out += R"(,"type":"com.dapr.event.sent.bulk","topic":)";
  jsontext::AppendQuoted(out, topic);
  out += R"(,"pubsubname":)";
  jsontext::AppendQuoted(out, pubsub);
  out += R"(,"metadata":{},"entries":[)";
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (i) out += ',';
    out += R"({"entryId":)";
    jsontext::AppendQuoted(out, e.entry_id);
    out += R"(,"event":)";
    if (e.raw) {
      out += '"';
      out += enc::Base64Encode(e.message->data);
      out += R"(","contentType":"application/octet-stream")";
    } else {
      out += e.message->data;  // checked by IsJsonObject
      out += R"(,"contentType":"application/cloudevents+json")";
    }
    out += R"(,"metadata":)";
    AppendMetadata(out, e.message->metadata);
    out += '}';
  }
  out += "]}";
  return out;
}

std::vector<Verdict> JudgeBulk(int status, std::string_view body, const std::vector<BulkEntry>& entries) {
  if (status == 404) return std::vector<Verdict>(entries.size(), Verdict::kDrop);
  std::vector<Verdict> out(entries.size(), Verdict::kRetry);
  if (status < 200 || status >= 300 || !jsontext::Valid(body)) return out;
  std::string_view statuses;
  for (const auto& [key, value] : jsontext::Members(body)) {
    if (jsontext::Equals(key, "statuses")) statuses = value;  // the last of a name wins
  }
  if (statuses.empty() || jsontext::KindOf(statuses) != jsontext::Kind::kArray) return out;
  size_t k = 0;  // apps answer in entry order: try the next entry first
  for (std::string_view s : jsontext::Elements(statuses)) {
    if (jsontext::KindOf(s) != jsontext::Kind::kObject) continue;
    std::string_view id, st;
    for (const auto& [key, value] : jsontext::Members(s)) {
      const bool str = jsontext::KindOf(value) == jsontext::Kind::kString;
      if (jsontext::Equals(key, "entryId")) id = str ? value : std::string_view();
      if (jsontext::Equals(key, "status")) st = str ? value : std::string_view();
    }
    if (id.empty() || st.empty()) continue;
    size_t at = k < entries.size() && jsontext::Equals(id, entries[k].entry_id) ? k : entries.size();
    for (size_t i = 0; at == entries.size() && i < entries.size(); ++i) {
      if (jsontext::Equals(id, entries[i].entry_id)) at = i;
    }
    if (at == entries.size()) continue;
    out[at] = FromStatus(jsontext::Unquote(st));
    k = at + 1;
  }
  return out;
}

}  // namespace ofn::components

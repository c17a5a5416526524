#include "events/event_codec.h"

#include <ctime>

#include "common/encoding.h"
#include "common/rfc3339.h"

namespace ofn::events {

using enc::Base64Decode;
using enc::Base64Encode;
using enc::IsValidUtf8;
using enc::PercentDecode;
using enc::ToLower;
using enc::Trim;

using nlohmann::json;

namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ToLower(s.substr(0, prefix.size())) == prefix;
}

bool IsJsonType(std::string_view ct) {
  std::string base = ToLower(Trim(ct.substr(0, ct.find(';'))));
  return base == "application/json" || base == "text/json" || (base.size() > 5 && base.ends_with("+json"));
}

// CloudEvents attribute names: lower-case letters and digits, at most 20.
bool IsAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 20) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string AttributeText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace


json FromMessage(std::string_view data, std::string_view content_type, const Origin& origin, const std::string& id,
                 std::chrono::system_clock::time_point now) {
  json parsed = json::parse(data, nullptr, false);
  if (parsed.is_object() && parsed.value("specversion", "") == "1.0" && parsed.contains("id") &&
      parsed.contains("source") && parsed.contains("type")) {
    return parsed;
  }
  json ce = {{"specversion", "1.0"},
             {"id", id},
             {"source", "/apis/events.openfunction.io/v1alpha1/namespaces/" + origin.ns + "/eventsources/" +
                            origin.event_source},
             {"type", "io.openfunction.events." + origin.kind},
             {"subject", origin.event},
             {"time", FormatRfc3339(now, 6)}};
  if (!parsed.is_discarded() && (content_type.empty() || IsJsonType(content_type))) {
    ce["datacontenttype"] = "application/json";
    ce["data"] = std::move(parsed);
  } else if (IsValidUtf8(data) && (content_type.empty() || !StartsWithIgnoreCase(content_type, "application/octet"))) {
    ce["datacontenttype"] = content_type.empty() ? "text/plain" : std::string(content_type);
    ce["data"] = std::string(data);
  } else {
    ce["datacontenttype"] = content_type.empty() ? "application/octet-stream" : std::string(content_type);
    ce["data_base64"] = Base64Encode(data);
  }
  return ce;
}

Result<json> FromHttp(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
                      const Origin& origin, const std::string& id, std::chrono::system_clock::time_point now) {
  std::string content_type;
  bool binary = false;
  for (const auto& [k, v] : headers) {
    if (k == "content-type") content_type = v;
    if (k == "ce-specversion") binary = true;
  }
  if (StartsWithIgnoreCase(content_type, "application/cloudevents+json")) {
    auto ev = ParseEvent(body);
    if (!ev.ok()) return Status::InvalidArgument("structured CloudEvent: " + ev.status().message());
    if (ev->value("specversion", "") != "1.0") {
      return Status::InvalidArgument("structured CloudEvent: specversion must be \"1.0\"");
    }
    return ev;
  }
  if (!binary) return FromMessage(body, content_type, origin, id, now);
  json ce = json::object();
  for (const auto& [k, v] : headers) {
    if (!k.starts_with("ce-")) continue;
    std::string name = k.substr(3);
    if (!IsAttributeName(name)) return Status::InvalidArgument("header " + k + ": not a CloudEvents attribute name");
    auto decoded = PercentDecode(v);
    ce[name] = decoded ? *decoded : v;
  }
  for (const char* required : {"id", "source", "type"}) {
    if (!ce.contains(required) || ce[required].get<std::string>().empty()) {
      return Status::InvalidArgument(std::string("binary CloudEvent: header ce-") + required + " is missing");
    }
  }
  if (ce["specversion"] != "1.0") return Status::InvalidArgument("binary CloudEvent: ce-specversion must be \"1.0\"");
  if (!content_type.empty()) ce["datacontenttype"] = content_type;
  if (!body.empty()) {
    json parsed = IsJsonType(content_type) || content_type.empty() ? json::parse(body, nullptr, false)
                                                                   : json(json::value_t::discarded);
    if (!parsed.is_discarded()) {
      ce["data"] = std::move(parsed);
    } else if (IsValidUtf8(body)) {
      ce["data"] = std::string(body);
    } else {
      ce["data_base64"] = Base64Encode(body);
    }
  }
  return ce;
}

Result<json> ParseEvent(std::string_view text) {
  json ev = json::parse(text, nullptr, false);
  if (!ev.is_object()) return Status::InvalidArgument("not a JSON object");
  for (const char* a : {"id", "source", "type"}) {
    auto it = ev.find(a);
    if (it == ev.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument(std::string("attribute ") + a + " is missing or not a string");
    }
  }
  return ev;
}

BinaryRequest ToBinary(const json& event) {
  BinaryRequest r;
  for (const auto& [k, v] : event.items()) {
    if (k == "data" || k == "data_base64") continue;
    if (k == "datacontenttype") {
      r.content_type = AttributeText(v);
      continue;
    }
    if (!IsAttributeName(k) || v.is_null()) continue;
    // Header values travel percent-encoded where they must (CloudEvents HTTP binding §3.1.3.2).
    std::string text = AttributeText(v), value;
    for (unsigned char c : text) {
      if (c < 0x20 || c == 0x7f || c >= 0x80 || c == '%' || c == '"') {
        char buf[4];
        snprintf(buf, sizeof buf, "%%%02X", c);
        value += buf;
      } else {
        value += static_cast<char>(c);
      }
    }
    r.headers.emplace_back("ce-" + k, std::move(value));
  }
  if (auto it = event.find("data_base64"); it != event.end() && it->is_string()) {
    r.body = Base64Decode(it->get<std::string>()).value_or("");
    if (r.content_type.empty()) r.content_type = "application/octet-stream";
  } else if (auto d = event.find("data"); d != event.end()) {
    bool json_type = r.content_type.empty() || IsJsonType(r.content_type);
    r.body = d->is_string() && !json_type ? d->get<std::string>() : d->dump();
    if (r.content_type.empty()) r.content_type = "application/json";
  }
  return r;
}

json WithFailure(json event, const std::string& reason, const std::string& destination) {
  event["ofnerror"] = reason;
  event["ofnerrordest"] = destination;
  return event;
}

}  // namespace ofn::events

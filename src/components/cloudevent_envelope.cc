#include "components/cloudevent_envelope.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/go_bool.h"
#include "common/rfc3339.h"
#include "ofn/http_request.h"  // EqualsIgnoreCase

namespace ofn::components {
namespace {

using nlohmann::json;

constexpr size_t kMaxDepth = 10000;  // Go's encoding/json limit
// time.Duration caps a TTL at MaxInt64 nanoseconds.
constexpr int64_t kMaxTtlSeconds = INT64_MAX / 1000000000;

bool HasBaseType(std::string_view content_type, std::string_view expected) {
  std::string lower = enc::ToLower(content_type);
  return std::string_view(lower).substr(0, lower.find(';')) == expected;
}

// Builds the tree json::parse would, with a depth limit and, optionally,
// float numbers kept as their text (see ParseGoJson).
class GoJsonBuilder {
 public:
  explicit GoJsonBuilder(bool keep_number_text) : keep_number_text_(keep_number_text) {}

  bool null() { return Add(json(nullptr)) != nullptr; }
  bool boolean(bool v) { return Add(json(v)) != nullptr; }
  bool number_integer(json::number_integer_t v) { return Add(json(v)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return Add(json(v)) != nullptr; }
  bool number_float(json::number_float_t v, const std::string& text) {
    if (!keep_number_text_) return Add(json(v)) != nullptr;
    return Add(json::binary(std::vector<std::uint8_t>(text.begin(), text.end()))) != nullptr;
  }
  bool string(std::string& v) { return Add(json(std::move(v))) != nullptr; }
  bool binary(json::binary_t&) { return false; }  // JSON text has none
  bool start_object(std::size_t) { return Open(json::object()); }
  bool key(std::string& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

  json result;

 private:
  // The new value's place in the tree. Pointers to open containers stay
  // valid: a parent gets no further member while a child is open.
  json* Add(json v) {
    if (open_.empty()) {
      result = std::move(v);
      return &result;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[key_];  // a repeated key: the last one wins, as in Go
    slot = std::move(v);
    return &slot;
  }
  bool Open(json container) {
    if (open_.size() >= kMaxDepth) return false;
    open_.push_back(Add(std::move(container)));
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  const bool keep_number_text_;
  std::vector<json*> open_;
  std::string key_;
};

// The length of the valid UTF-8 sequence at the start of s, 0 if invalid
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = b(0);
  size_t n = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  if (lead < 0xc2 || lead > 0xf4 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  if (lead == 0xe0 && b(1) < 0xa0) return 0;  // overlong
  if (lead == 0xed && b(1) > 0x9f) return 0;  // surrogate
  if (lead == 0xf0 && b(1) < 0x90) return 0;  // overlong
  if (lead == 0xf4 && b(1) > 0x8f) return 0;  // past U+10FFFF
  return n;
}

// Go's encodeState.string with HTML escaping on.
void AppendGoString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    const size_t n = Utf8Length(s.substr(i));
    if (n == 0) {
      out += "\\ufffd";  // one per invalid byte, as Go writes it
      ++i;
    } else if (n == 3 && s.compare(i, 2, "\xe2\x80") == 0 && (s[i + 2] == '\xa8' || s[i + 2] == '\xa9')) {
      out += s[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

// strconv.AppendFloat(f, 'f' or 'e', -1, 64) as encoding/json picks it.
void AppendGoFloat(double f, std::string& out) {
  const double a = std::fabs(f);
  const bool exponent = a != 0 && (a < 1e-6 || a >= 1e21);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (exponent && s.size() >= 4 && s.compare(s.size() - 4, 3, "e-0") == 0) s.erase(s.size() - 2, 1);  // e-07 -> e-7
  out += s;
}

void AppendGoJson(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, member] : v.items()) {
        if (!first) out += ',';
        first = false;
        AppendGoString(k, out);
        out += ':';
        AppendGoJson(member, out);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        AppendGoJson(v[i], out);
      }
      out += ']';
      return;
    }
    case json::value_t::string: return AppendGoString(v.get_ref<const std::string&>(), out);
    case json::value_t::binary: {
      const auto& text = v.get_binary();
      out.append(reinterpret_cast<const char*>(text.data()), text.size());
      return;
    }
    case json::value_t::number_float: return AppendGoFloat(v.get<double>(), out);
    default: out += v.dump();  // null, booleans, integers
  }
}

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Seconds, not a time_point: now plus a long TTL overflows nanoseconds.
std::string Rfc3339(int64_t unix_seconds) { return FormatRfc3339Seconds(unix_seconds); }

// metadata ttlInSeconds (alias ttl): a positive integer. daprd ignores an
// invalid one when it builds the envelope.
std::optional<std::chrono::seconds> Ttl(const std::map<std::string, std::string>& metadata) {
  for (const char* key : {"ttlInSeconds", "ttl"}) {
    auto it = metadata.find(key);
    if (it == metadata.end()) continue;
    std::string_view v = it->second;
    if (v.starts_with('+')) v.remove_prefix(1);  // strconv.ParseInt takes a sign
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n <= 0) return std::nullopt;
    return std::chrono::seconds(std::min(n, kMaxTtlSeconds));
  }
  return std::nullopt;
}

// The cloudevent.* metadata of a new event; empty: not overridden.
struct Overrides {
  std::string id, source, type, subject, traceid, traceparent, tracestate;
};

Overrides FindOverrides(const std::map<std::string, std::string>& metadata) {
  Overrides o;
  const std::pair<std::string_view, std::string*> fields[] = {
      {"cloudevent.id", &o.id},           {"cloudevent.source", &o.source},
      {"cloudevent.type", &o.type},       {"cloudevent.subject", &o.subject},
      {"cloudevent.traceid", &o.traceid}, {"cloudevent.traceparent", &o.traceparent},
      {"cloudevent.tracestate", &o.tracestate},
  };
  for (const auto& [key, value] : metadata) {
    for (const auto& [name, field] : fields) {
      if (field->empty() && EqualsIgnoreCase(key, name)) *field = value;
    }
  }
  return o;
}

std::string Or(const std::string& a, const std::string& b) { return a.empty() ? b : a; }

json NewEvent(const EnvelopeInput& in, std::string_view content_type) {
  Overrides o = FindOverrides(in.metadata);
  const std::string trace = Or(o.traceparent, Or(o.traceid, in.traceparent));
  json ce = {
      {"id", Or(o.id, in.id)},
      {"source", Or(o.source, Or(in.source, "Dapr"))},
      {"type", Or(o.type, "com.dapr.event.sent")},
      {"specversion", "1.0"},
      {"datacontenttype", content_type},
      {"topic", in.topic},
      {"pubsubname", in.pubsub_name},
      {"traceid", trace},
      {"traceparent", trace},
      {"tracestate", Or(o.tracestate, in.tracestate)},
      {"time", Rfc3339(UnixSeconds(in.now))},
  };
  if (!o.subject.empty()) ce["subject"] = o.subject;
  if (IsJsonContentType(content_type)) {
    std::optional<json> data = ParseGoJson(in.data, /*keep_number_text=*/true);
    ce["data"] = data ? std::move(*data) : json(std::string(in.data));
  } else if (IsBinaryContentType(content_type) || HasBaseType(content_type, "application/cloudevents+protobuf") ||
             HasBaseType(content_type, "application/x-protobuf")) {
    ce["data_base64"] = enc::Base64Encode(in.data);
  } else {
    ce["data"] = std::string(in.data);
  }
  return ce;
}

// The app's own event, completed the way daprd completes it.
Result<json> CompleteEvent(const EnvelopeInput& in) {
  std::optional<json> ce = ParseGoJson(in.data, /*keep_number_text=*/true);
  if (!ce || !ce->is_object()) {
    return Status::InvalidArgument("the application/cloudevents+json body is not a JSON object");
  }
  auto missing = [&](const char* name) {
    auto it = ce->find(name);
    return it == ce->end() || it->is_null();
  };
  (*ce)["topic"] = in.topic;
  (*ce)["pubsubname"] = in.pubsub_name;
  if (missing("time")) (*ce)["time"] = Rfc3339(UnixSeconds(in.now));
  if (missing("traceid")) {
    (*ce)["traceid"] = in.traceparent;
    (*ce)["traceparent"] = in.traceparent;
  }
  if (missing("tracestate")) (*ce)["tracestate"] = in.tracestate;
  if (missing("source")) (*ce)["source"] = "Dapr";
  if (missing("type")) (*ce)["type"] = "com.dapr.event.sent";
  if (missing("specversion")) (*ce)["specversion"] = "1.0";
  return std::move(*ce);
}

}  // namespace

bool IsCloudEventContentType(std::string_view content_type) {
  return HasBaseType(content_type, "application/cloudevents+json");
}
bool IsJsonContentType(std::string_view content_type) { return HasBaseType(content_type, "application/json"); }
bool IsBinaryContentType(std::string_view content_type) {
  return HasBaseType(content_type, "application/octet-stream");
}
bool IsStringContentType(std::string_view content_type) {
  return enc::ToLower(content_type).starts_with("text/") || HasBaseType(content_type, "application/xml");
}

Result<bool> IsRawPayload(const std::map<std::string, std::string>& metadata) {
  auto it = metadata.find("rawPayload");
  if (it == metadata.end() || it->second.empty()) return false;
  std::optional<bool> v = ParseGoBool(it->second);
  if (!v) return Status::InvalidArgument("rawPayload value must be a valid boolean: actual is '" + it->second + "'");
  return *v;
}

Result<std::string> MakeEnvelope(const EnvelopeInput& in) {
  const std::string_view content_type = in.content_type.empty() ? "text/plain" : in.content_type;
  json ce;
  if (IsCloudEventContentType(content_type)) {
    auto completed = CompleteEvent(in);
    if (!completed.ok()) return completed.status();
    ce = std::move(*completed);
  } else {
    ce = NewEvent(in, content_type);
  }
  // Redis, Kafka, JetStream and MQTT have no message TTL of their own, so
  // the envelope carries it for the subscriber side to enforce.
  if (auto ttl = Ttl(in.metadata)) ce["expiration"] = Rfc3339(UnixSeconds(in.now) + ttl->count());
  return GoJson(ce);
}

Result<std::string> BulkEventBytes(const json& event, std::string_view content_type) {
  auto mismatch = [&] {
    return Status::InvalidArgument("event of content type " + std::string(content_type) + " must be a JSON string");
  };
  if (IsBinaryContentType(content_type)) {
    if (!event.is_string()) return mismatch();
    auto bytes = enc::Base64Decode(event.get_ref<const std::string&>());
    if (!bytes) return Status::InvalidArgument("unable to decode base64 event data");
    return std::move(*bytes);
  }
  if (IsStringContentType(content_type)) {
    if (!event.is_string()) return mismatch();
    return event.get<std::string>();
  }
  if (IsJsonContentType(content_type) || IsCloudEventContentType(content_type)) return GoJson(event);
  return Status::InvalidArgument("cannot convert event with content type '" + std::string(content_type) + "'");
}

std::optional<json> ParseGoJson(std::string_view text, bool keep_number_text) {
  GoJsonBuilder builder(keep_number_text);
  if (!json::sax_parse(text, &builder)) return std::nullopt;
  return std::move(builder.result);
}

std::string GoJson(const json& value) {
  std::string out;
  AppendGoJson(value, out);
  return out;
}

}  // namespace ofn::components

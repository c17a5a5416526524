// CloudEvents HTTP protocol binding: content-mode detection, binary mode
// (ce-* headers), and the helpers shared with the JSON format in
// cloud_event.cc.
#include "framework/cloudevent_http.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"

namespace ofn::ce {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// The parameters part of a Content-Type, after the first ';'.
bool HasCharsetParam(std::string_view content_type) {
  size_t semi = content_type.find(';');
  while (semi != std::string_view::npos) {
    std::string_view rest = content_type.substr(semi + 1);
    size_t next = rest.find(';');
    std::string_view param = rest.substr(0, next);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && enc::ToLower(enc::Trim(param.substr(0, eq))) == "charset") return true;
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return false;
}

// RFC 7230 §3.2.6: a quoted-string's content with quoted-pairs resolved;
// nullopt when `v` is not exactly one quoted-string.
std::optional<std::string> Unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c == '"') {
      if (i + 1 != v.size()) return std::nullopt;
      return out;
    }
    if (c == '\\') {
      if (++i == v.size()) return std::nullopt;
      auto q = static_cast<unsigned char>(v[i]);
      if (!(q == '\t' || (q >= 0x20 && q != 0x7F))) return std::nullopt;  // HTAB / SP / VCHAR / obs-text
      out.push_back(static_cast<char>(q));
      continue;
    }
    if (!(c == '\t' || (c >= 0x20 && c != 0x7F))) return std::nullopt;  // qdtext
    out.push_back(static_cast<char>(c));
  }
  return std::nullopt;  // no closing quote
}

// Binding §3.1.3.2 encoding: space, '"', '%' and everything outside printable
// ASCII; nothing else, so values stay readable. Upper-case hex.
std::string HeaderEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool HasControlChar(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

std::string QuoteForMessage(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    // Header names are tokens, but be safe: keep messages printable ASCII.
    out.push_back(c >= 0x20 && c < 0x7F && c != '"' ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMax) out += "...";
  return out + "\"";
}

Result<CloudEvent> DecodeBinary(const HttpRequest& req, const DecodeOptions& opts) {
  // Decode every ce-* header first: specversion decides how the others map.
  std::map<std::string, std::string> attrs;
  for (const Header& h : req.headers()) {
    if (h.name.size() <= 3 || !EqualsIgnoreCase(h.name.substr(0, 3), "ce-")) continue;
    std::string name = enc::ToLower(h.name.substr(3));
    if (!IsValidAttributeName(name)) {
      return Status::InvalidArgument("invalid attribute name " + QuoteForMessage(name) + " in header " +
                                     QuoteForMessage(h.name) + ": names are lower-case letters a-z and digits 0-9");
    }
    if (attrs.contains(name)) return Status::InvalidArgument("duplicate header for attribute \"" + name + "\"");
    std::string_view raw = enc::Trim(h.value);
    std::optional<std::string> unquoted = Unquote(raw);
    if (unquoted) raw = *unquoted;
    std::optional<std::string> value = enc::PercentDecode(raw);
    if (!value) return Status::InvalidArgument("attribute \"" + name + "\" has invalid percent-encoding");
    if (!enc::IsValidUtf8(*value)) {
      return Status::InvalidArgument("attribute \"" + name + "\" is not valid UTF-8 after percent-decoding");
    }
    attrs.emplace(std::move(name), std::move(*value));
  }

  CloudEvent e;
  e.set_spec_version("");  // absent unless a header gives it
  if (auto it = attrs.find("specversion"); it != attrs.end()) e.set_spec_version(it->second);
  bool v03 = opts.accept_v03 && e.spec_version() == "0.3";
  std::optional<std::string> encoding, header_content_type;
  for (auto& [name, value] : attrs) {
    if (name == "specversion") continue;
    if (name == "id")
      e.set_id(std::move(value));
    else if (name == "source")
      e.set_source(std::move(value));
    else if (name == "type")
      e.set_type(std::move(value));
    else if (name == "dataschema")
      e.set_data_schema(std::move(value));
    else if (name == "subject")
      e.set_subject(std::move(value));
    else if (name == "time")
      e.set_time(std::move(value));
    // Not allowed beside Content-Type (§3.1.1); used only when that is missing.
    else if (name == "datacontenttype")
      header_content_type = std::move(value);
    else if (name == "data")
      return Status::InvalidArgument("header \"ce-data\": \"data\" is not an attribute name");
    else if (v03 && name == "schemaurl")
      e.set_data_schema(std::move(value));
    else if (v03 && name == "datacontentencoding")
      encoding = std::move(value);
    else
      e.set_extension(name, ExtensionValue::String(std::move(value)));
  }
  if (auto ct = req.header("Content-Type"); ct && !enc::Trim(*ct).empty()) {
    e.set_data_content_type(std::string(enc::Trim(*ct)));
  } else if (header_content_type && !header_content_type->empty()) {
    e.set_data_content_type(std::move(header_content_type));
  }
  if (!req.body().empty()) e.set_data(std::string(req.body()));  // empty body: no data
  if (Status s = FinishDecode(e, opts, encoding, nullptr); !s.ok()) return s;
  return e;
}

}  // namespace

std::string MediaType(std::string_view content_type) {
  return enc::ToLower(enc::Trim(content_type.substr(0, content_type.find(';'))));
}

bool IsJsonMediaType(std::string_view content_type) {
  std::string mt = MediaType(content_type);
  size_t slash = mt.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  std::string_view sub = std::string_view(mt).substr(slash + 1);
  return sub == "json" || (sub.size() > 5 && sub.ends_with("+json"));
}

bool IsTextMediaType(std::string_view content_type) {
  if (IsJsonMediaType(content_type) || HasCharsetParam(content_type)) return true;
  std::string mt = MediaType(content_type);
  if (mt.starts_with("text/")) return true;
  size_t slash = mt.find('/');
  if (slash == std::string::npos) return false;
  std::string_view sub = std::string_view(mt).substr(slash + 1);
  return sub == "xml" || (sub.size() > 4 && sub.ends_with("+xml"));
}

bool IsRfc3339(std::string_view s) {
  size_t i = 0;
  auto number = [&](size_t n, int& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!IsDigit(s[i + k])) return false;
      out = out * 10 + (s[i + k] - '0');
    }
    i += n;
    return true;
  };
  auto literal = [&](char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!number(4, year) || !literal('-') || !number(2, month) || !literal('-') || !number(2, day)) return false;
  if (!literal('T') && !literal('t')) return false;
  if (!number(2, hour) || !literal(':') || !number(2, minute) || !literal(':') || !number(2, second)) return false;
  if (literal('.')) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (!literal('Z') && !literal('z')) {
    if (!literal('+') && !literal('-')) return false;
    int off_hour, off_minute;
    if (!number(2, off_hour) || !literal(':') || !number(2, off_minute)) return false;
    if (off_hour > 23 || off_minute > 59) return false;
  }
  if (i != s.size()) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month) && hour <= 23 && minute <= 59 &&
         second <= 60;  // 60: a leap second
}

bool IsValidAttributeName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c))) return false;
  }
  return true;
}

Status FinishDecode(CloudEvent& e, const DecodeOptions& opts, const std::optional<std::string>& content_encoding,
                    std::string* attr, bool strings_utf8) {
  if (opts.accept_v03 && e.spec_version() == "0.3") {
    if (content_encoding) {
      if (enc::ToLower(*content_encoding) != "base64") {
        if (attr) *attr = "datacontentencoding";
        return Status::InvalidArgument("attribute \"datacontentencoding\" must be \"base64\"");
      }
      if (e.data()) {
        auto bytes = enc::Base64Decode(*e.data());
        if (!bytes) {
          if (attr) *attr = "data";
          return Status::InvalidArgument("data is not valid Base64 although datacontentencoding is \"base64\"");
        }
        e.set_data(std::move(*bytes));
      }
    }
    e.set_spec_version("1.0");
  }
  return CheckEvent(e, attr, strings_utf8);
}

Mode DetectMode(const HttpRequest& req) {
  if (auto ct = req.header("Content-Type")) {
    std::string mt = MediaType(*ct);
    if (mt == "application/cloudevents+json") return Mode::kStructured;
    if (mt == "application/cloudevents-batch+json") return Mode::kBatch;
  }
  for (const Header& h : req.headers()) {
    if (EqualsIgnoreCase(h.name, "ce-specversion")) return Mode::kBinary;
  }
  return Mode::kNone;
}

Result<CloudEvent> DecodeRequest(const HttpRequest& req, const DecodeOptions& opts) {
  switch (DetectMode(req)) {
    case Mode::kStructured:
      return DecodeStructured(req.body(), opts);  // the body wins over any ce-* headers
    case Mode::kBinary:
      return DecodeBinary(req, opts);
    case Mode::kBatch:
      return Status::InvalidArgument(
          "batched content mode (application/cloudevents-batch+json) is not accepted here; send one event");
    case Mode::kNone:
      break;
  }
  return Status::InvalidArgument(
      "not a CloudEvent: missing required attribute \"specversion\" (no ce-specversion header, and Content-Type "
      "is not application/cloudevents+json)");
}

void EncodeBinary(const CloudEvent& e, HttpResponse& out) {
  auto put = [&out](std::string_view attr, std::string_view value) {
    out.set_header("ce-" + std::string(attr), HeaderEncode(value));
  };
  put("specversion", e.spec_version());
  put("id", e.id());
  put("source", e.source());
  put("type", e.type());
  if (e.data_schema()) put("dataschema", *e.data_schema());
  if (e.subject()) put("subject", *e.subject());
  if (e.time()) put("time", *e.time());
  for (const auto& [name, value] : e.extensions()) {
    if (IsValidAttributeName(name)) put(name, value.text);  // anything else could forge header syntax
  }
  const auto& ct = e.data_content_type();
  if (ct && !HasControlChar(*ct)) {
    out.set_header("Content-Type", *ct);
  } else if (e.data() && e.data_is_json()) {
    // Structured JSON data without a type is JSON (JSON format §3.1); say so,
    // or the receiver sees opaque bytes.
    out.set_header("Content-Type", "application/json");
  }
  out.set_body(e.data().value_or(std::string()));
}

void EncodeStructured(const CloudEvent& e, HttpResponse& out) {
  out.set_header("Content-Type", "application/cloudevents+json; charset=utf-8");
  out.set_body(e.ToJson());
}

}  // namespace ofn::ce

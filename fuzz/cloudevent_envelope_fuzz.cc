// Fuzzes the Dapr publish envelope and the Go JSON codec beneath it
// (components/cloudevent_envelope.h) and checks what must always hold:
//   - any content type but cloudevents+json yields an envelope;
//   - an envelope is a JSON object with the request's topic, pubsubname and
//     a time, and a new event carries the body faithfully (data_base64
//     decodes to it, text data equals it, JSON data is its Go re-encoding);
//   - GoJson output parses again and re-encodes to the same bytes.
//
// Input: the Content-Type on the first line, publish metadata on the second
// ("k=v&k2=v2"), the body after that.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "components/cloudevent_envelope.h"

namespace {

using nlohmann::json;
namespace oc = ofn::components;

void Require(bool ok) {
  if (!ok) __builtin_trap();
}

std::string_view Line(std::string_view& input) {
  size_t eol = input.find('\n');
  std::string_view line = input.substr(0, eol);
  input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  return line;
}

std::map<std::string, std::string> Metadata(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    size_t eq = pair.find('=');
    out.emplace(pair.substr(0, eq), eq == std::string_view::npos ? "" : pair.substr(eq + 1));
  }
  return out;
}

std::string Reencode(const std::string& text, bool keep_number_text) {
  Require(json::accept(text));
  auto again = oc::ParseGoJson(text, keep_number_text);
  Require(again.has_value());
  return oc::GoJson(*again);
}

// GoJson output is JSON that GoJson writes back byte for byte. As floats,
// -0.0 is written "-0", which reads back as the integer 0: one more round.
void CheckStable(const json& value, bool keep_number_text) {
  std::string text = oc::GoJson(value);
  std::string again = Reencode(text, keep_number_text);
  if (keep_number_text) {
    Require(again == text);
  } else {
    Require(Reencode(again, false) == again);
  }
}

void CheckNewEvent(const json& ce, std::string_view content_type, std::string_view body) {
  const std::string_view type = content_type.empty() ? "text/plain" : content_type;
  Require(ce.contains("data") != ce.contains("data_base64"));
  if (ofn::enc::IsValidUtf8(type)) Require(ce.value("datacontenttype", "") == type);
  Require(ce.contains("id") && ce.contains("source") && ce.contains("type") && ce.value("specversion", "") == "1.0");
  if (ce.contains("data_base64")) {
    Require(ofn::enc::Base64Decode(ce["data_base64"].get<std::string>()) == std::string(body));
  } else if (!oc::IsJsonContentType(type) && ofn::enc::IsValidUtf8(body)) {
    Require(ce["data"] == std::string(body));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view content_type = Line(input);
  const std::map<std::string, std::string> metadata = Metadata(Line(input));
  const std::string_view body = input;

  (void)oc::IsRawPayload(metadata);
  oc::EnvelopeInput in{.data = body,
                       .content_type = content_type,
                       .id = "id",
                       .source = "app",
                       .topic = "a/topic",
                       .pubsub_name = "ps",
                       .traceparent = "00-tp",
                       .tracestate = "",
                       .metadata = metadata,
                       .now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000))};
  auto envelope = oc::MakeEnvelope(in);
  const bool completes = oc::IsCloudEventContentType(content_type);
  Require(envelope.ok() || completes);
  if (envelope.ok()) {
    json ce = json::parse(*envelope, nullptr, /*allow_exceptions=*/false);
    Require(ce.is_object());
    Require(ce.value("topic", "") == "a/topic" && ce.value("pubsubname", "") == "ps" && ce.contains("time"));
    if (!completes) CheckNewEvent(ce, content_type, body);
  }

  for (bool keep : {false, true}) {
    auto value = oc::ParseGoJson(body, keep);
    if (!value) continue;
    CheckStable(*value, keep);
    if (keep && envelope.ok() && !completes && oc::IsJsonContentType(content_type)) {
      Require(envelope->find("\"data\":" + oc::GoJson(*value)) != std::string::npos);
    }
    if (!keep) {
      auto bytes = oc::BulkEventBytes(*value, content_type);
      if (oc::IsJsonContentType(content_type)) Require(bytes.ok() && *bytes == oc::GoJson(*value));
    }
  }
  return 0;
}

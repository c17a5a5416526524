// Fuzzes the CloudEvents codec: HTTP binding decode (binary, structured,
// batch) and the JSON format, and checks that whatever decodes re-encodes
// into something that decodes again with the same attributes.
//
// Input: header lines "Name: value" up to the first blank line ("\n\n"),
// then the body. Without a blank line the whole input is the body.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framework/cloudevent_http.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"

namespace {

using ofn::CloudEvent;
using ofn::HttpRequest;
using ofn::HttpResponse;

void Require(bool ok) {
  if (!ok) __builtin_trap();
}

bool SameAttributes(const CloudEvent& a, const CloudEvent& b) {
  return a.spec_version() == b.spec_version() && a.id() == b.id() && a.source() == b.source() && a.type() == b.type() &&
         a.subject() == b.subject() && a.time() == b.time() && a.data_schema() == b.data_schema();
}

// The JSON form with a null data member dropped: null counts as absent.
nlohmann::json Normalized(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text);
  if (j.contains("data") && j["data"].is_null()) j.erase("data");
  return j;
}

std::string Trimmed(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r";
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(kSpace) - first + 1));
}

void CheckJsonRoundTrip(const CloudEvent& e) {
  std::string text = e.ToJson();
  auto back = CloudEvent::FromJson(text);
  Require(back.ok());
  Require(SameAttributes(e, *back));
  Require(e.extensions() == back->extensions());  // JSON keeps extension kinds
  Require(e.data_content_type() == back->data_content_type());
  // Data comes back byte for byte: JSON data is spliced in and read back as
  // sent, but for whitespace around it.
  if (e.data_is_json() && e.data() && ofn::ce::CheckJson(*e.data()).ok()) {
    Require(back->data() == Trimmed(*e.data()));
  } else {
    Require(e.data() == back->data());
  }
  Require(Normalized(text) == Normalized(back->ToJson()));
}

void CheckBinaryRoundTrip(const CloudEvent& e) {
  HttpResponse resp;
  ofn::ce::EncodeBinary(e, resp);
  HttpRequest req;
  for (const auto& [name, value] : resp.headers()) req.add_header(name, value);
  req.set_body(resp.body());
  // A datacontenttype of application/cloudevents+json reads as structured
  // mode: an ambiguity of the binding itself, not of the codec.
  if (ofn::ce::DetectMode(req) != ofn::ce::Mode::kBinary) return;
  auto back = ofn::ce::DecodeRequest(req);
  Require(back.ok());
  Require(SameAttributes(e, *back));
  Require(e.extensions().size() == back->extensions().size());
  for (const auto& [name, value] : e.extensions()) {
    auto it = back->extensions().find(name);
    Require(it != back->extensions().end() && it->second.text == value.text);
  }
  if (e.data() && !e.data()->empty()) Require(e.data() == back->data());
}

void CheckStructuredRoundTrip(const CloudEvent& e) {
  HttpResponse resp;
  ofn::ce::EncodeStructured(e, resp);
  HttpRequest req;
  for (const auto& [name, value] : resp.headers()) req.add_header(name, value);
  req.set_body(resp.body());
  Require(ofn::ce::DecodeRequest(req).ok());
}

void Check(const CloudEvent& e) {
  Require(e.Validate().ok());  // decoders only return valid events
  CheckJsonRoundTrip(e);
  CheckBinaryRoundTrip(e);
  CheckStructuredRoundTrip(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view head, body = input;
  if (size_t blank = input.find("\n\n"); blank != std::string_view::npos) {
    head = input.substr(0, blank);
    body = input.substr(blank + 2);
  }
  HttpRequest req;
  req.set_method("POST");
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.add_header(line.substr(0, colon), value);
  }
  req.set_body(body);

  (void)ofn::ce::DetectMode(req);
  for (bool v03 : {false, true}) {
    ofn::ce::DecodeOptions opts{.accept_v03 = v03};
    if (auto e = ofn::ce::DecodeRequest(req, opts); e.ok()) Check(*e);
    if (auto batch = ofn::ce::DecodeBatch(body, opts); batch.ok()) {
      for (const CloudEvent& e : *batch) Check(e);
    }
  }
  if (auto e = CloudEvent::FromJson(input); e.ok()) Check(*e);
  return 0;
}

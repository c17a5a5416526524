// Fuzzes the Dapr bulk-subscribe body (framework/dapr_bulk.h) and the
// decode-from-DOM entry points beneath it, and checks what must always hold:
//   - EntryEventTexts stays in bounds on any text, and on a bulk body agrees
//     with the DOM: one text per entry, each parsing to that entry's event;
//   - a decoded entry is a valid CloudEvent, a raw one as Dapr builds it;
//   - a single body decodes the same through DecodeJson and DecodeStructured;
//   - the statuses answer is JSON with one status per entry.
//
// Input: the body of a POST on a pub/sub route.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "framework/cloudevent_http.h"
#include "framework/dapr_bulk.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"

namespace {

using nlohmann::json;
namespace dapr = ofn::dapr;

void Require(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckEntry(const json& body, const json& entry, std::string_view text, const ofn::HttpRequest& req) {
  const bool has_event = entry.is_object() && entry.contains("event");
  Require(has_event == !text.empty());
  if (has_event) Require(json::parse(text, nullptr, false) == entry["event"]);
  auto event = dapr::DecodeEntryEvent(body, entry, {});
  if (event.ok()) {
    Require(event->Validate().ok());
    if (dapr::IsRawEntry(entry)) {
      Require(event->id() == dapr::EntryId(entry) && event->data_content_type() == "application/octet-stream");
    }
  }
  ofn::HttpRequest r = dapr::EntryRequest(req, body, entry, text);
  Require(r.body() == text && r.method() == "POST");
}

void CheckBulk(std::string_view text, const json& body, const ofn::HttpRequest& req) {
  const json& entries = body["entries"];
  std::vector<std::string_view> texts = dapr::EntryEventTexts(text);
  Require(texts.size() == entries.size());
  std::vector<dapr::EntryStatus> statuses;
  for (size_t i = 0; i < entries.size(); ++i) {
    CheckEntry(body, entries[i], texts[i], req);
    std::string_view id = dapr::EntryId(entries[i]);
    if (!id.empty()) statuses.push_back({id, "SUCCESS"});
  }
  json answer = json::parse(dapr::StatusesJson(statuses), nullptr, false);
  Require(answer.is_object() && answer["statuses"].size() == statuses.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dapr::EntryEventTexts(text);  // any text: bounds only

  auto body = ofn::ce::ParseJson(text);
  if (!body.ok()) return 0;
  ofn::HttpRequest req;
  req.set_method("POST");
  req.set_target("/orders");
  req.set_body(text);
  if (dapr::IsBulkBody(*body)) {
    CheckBulk(text, *body, req);
  } else if (body->is_object()) {
    auto a = ofn::ce::DecodeJson(*body);
    auto b = ofn::ce::DecodeStructured(text);
    Require(a.ok() == b.ok());
    if (a.ok()) Require(*a == *b);
  }
  return 0;
}

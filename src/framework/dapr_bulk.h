// Dapr bulk subscribe, the app's side (Dapr fact sheet §2.3, "Bulk delivery"):
// reading the entries of one bulk POST and writing the per-entry statuses.
// Views into the body's text, checked once (ce::CheckJson): no tree of the
// body is built, and each entry's event is decoded from its text as sent.
// Pure functions; thread-safe.
//
//   {"id":"<uuid>","type":"com.dapr.event.sent.bulk","topic":"t","pubsubname":"p","metadata":{...},
//    "entries":[{"entryId":"e1","event":{<CloudEvent>},"contentType":"application/cloudevents+json",
//                "metadata":{"k":"v"}},
//               {"entryId":"e2","event":"<Base64 of raw bytes>","contentType":"application/octet-stream"}]}
//   -> {"statuses":[{"entryId":"e1","status":"SUCCESS"},{"entryId":"e2","status":"DROP"}]}
//
// Of members with the same name the last one counts, as in a DOM.
#pragma once

#include <forward_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.h"
#include "framework/cloudevent_http.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"
#include "ofn/status.h"

namespace ofn::dapr {

// One entry of a bulk delivery: views into the body's text.
struct Entry {
  // Empty when missing or not a string: such an entry gets no status, which
  // Dapr counts as RETRY.
  std::string id;
  std::string_view event;         // the event's text as sent; empty when missing
  std::string_view content_type;  // a string literal; empty unless a string
  std::string_view metadata;      // an object's text; empty unless an object
  // The members of `event` when it is an object (as jsontext::Members gives
  // them), found while reading it: the event's text is not scanned again.
  std::vector<jsontext::Member> event_members;
};

// A bulk delivery: views into the body's text.
struct Bulk {
  std::vector<Entry> entries;             // in order; a non-object entry is all empty
  std::string_view topic;                 // string literals (quotes included);
  std::string_view pubsubname;            // empty when absent or not strings
  std::string_view metadata;              // the delivery's metadata; empty unless an object
};

// The bulk delivery in `body`, text ce::CheckJson accepted: an object with an
// "entries" array. No CloudEvent has that shape (extension values are
// scalars), so it decides whatever the headers say. nullopt otherwise.
// One walk over the text finds the entries and their events' members.
std::optional<Bulk> ReadBulk(std::string_view body);


// Whether the entry's event is a JSON string: raw bytes (rawPayload).
bool IsRawEntry(const Entry& entry);

// The entry's event. A JSON object is a CloudEvent (ce::DecodeCheckedJson:
// the body was checked). A JSON string is a rawPayload message, its bytes in
// Base64: the event is the one the single raw path gets from Dapr (id
// entryId, source "Dapr", type com.dapr.event.sent, datacontenttype
// application/octet-stream, topic and pubsubname, traceid/traceparent/
// tracestate from the entry's metadata), whatever the entry's contentType.
// Anything else is an error.
Result<CloudEvent> DecodeEntryEvent(const Bulk& bulk, const Entry& entry, const ce::DecodeOptions& opts);

// The request the function sees for one entry: `req`'s method and target;
// as headers the entry's contentType as Content-Type, then the string members
// of its metadata and of the delivery's (each in name order; the first of a
// name wins), as a single event carries its broker metadata; `body` as body.
// Views into `req`, the body's text, `body` and this object (the names and
// values that had escapes): keep them alive, and this object in place.
class EntryRequest {
 public:
  // For the entries of one delivery in turn: Set() each. The delivery's
  // headers are read once and the header list's storage is reused.
  EntryRequest(const HttpRequest& req, const Bulk& bulk);
  EntryRequest(const EntryRequest&) = delete;
  EntryRequest& operator=(const EntryRequest&) = delete;

  // Makes request() the one for `entry` (views from the previous one end).
  void Set(const Entry& entry, std::string_view body);
  const HttpRequest& request() const { return req_; }

 private:
  std::forward_list<std::string> unescaped_;           // of the current entry
  std::forward_list<std::string> delivery_unescaped_;  // of delivery_headers_
  std::vector<Header> delivery_headers_;
  HttpRequest req_;
};

struct EntryStatus {
  std::string entry_id;
  std::string_view status;  // SUCCESS, RETRY or DROP
};
// {"statuses":[{"entryId":...,"status":...},...]}
std::string StatusesJson(const std::vector<EntryStatus>& statuses);

}  // namespace ofn::dapr

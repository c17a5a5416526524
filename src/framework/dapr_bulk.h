// Dapr bulk subscribe, the app's side (Dapr fact sheet §2.3, "Bulk delivery"):
// reading the entries of one bulk POST and writing the per-entry statuses.
// Pure functions over the body parsed once (ce::ParseJson); thread-safe.
//
//   {"id":"<uuid>","type":"com.dapr.event.sent.bulk","topic":"t","pubsubname":"p","metadata":{...},
//    "entries":[{"entryId":"e1","event":{<CloudEvent>},"contentType":"application/cloudevents+json",
//                "metadata":{"k":"v"}},
//               {"entryId":"e2","event":"<Base64 of raw bytes>","contentType":"application/octet-stream"}]}
//   -> {"statuses":[{"entryId":"e1","status":"SUCCESS"},{"entryId":"e2","status":"DROP"}]}
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "framework/cloudevent_http.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"
#include "ofn/status.h"

namespace ofn::dapr {

// A bulk delivery: an object with an "entries" array. No CloudEvent has that
// shape (extension values are scalars), so it decides whatever the headers say.
bool IsBulkBody(const nlohmann::json& body);

// The entry's entryId; empty when it is missing or not a string (such an
// entry gets no status: Dapr counts it as RETRY).
std::string_view EntryId(const nlohmann::json& entry);

// The entry's event. A JSON object is a CloudEvent (ce::DecodeJson). A JSON
// string is a rawPayload message, its bytes in Base64: the event is the one
// the single raw path gets from Dapr (id entryId, source "Dapr", type
// com.dapr.event.sent, datacontenttype application/octet-stream, topic and
// pubsubname, traceid/traceparent/tracestate from the entry's metadata),
// whatever the entry's contentType. Anything else is an error.
Result<CloudEvent> DecodeEntryEvent(const nlohmann::json& body, const nlohmann::json& entry,
                                    const ce::DecodeOptions& opts);

// Whether the entry's event is a JSON string: raw bytes (rawPayload).
bool IsRawEntry(const nlohmann::json& entry);

// The text of each entry's "event" member in `text`, the JSON a bulk body was
// parsed from, by entry index (empty when an entry has none): the function
// sees the event as sent, without a dump of the DOM. `text` must be valid
// JSON; duplicate members resolve as in the DOM (the last wins).
std::vector<std::string_view> EntryEventTexts(std::string_view text);

// The request the function sees for one entry: `req`'s method and target;
// as headers the entry's contentType as Content-Type, then its metadata and
// the delivery's (string values; the first of a name wins), as a single event
// carries its broker metadata; `body` as body. Views into `req`, `body_json`,
// `entry` and `body`.
HttpRequest EntryRequest(const HttpRequest& req, const nlohmann::json& body_json, const nlohmann::json& entry,
                         std::string_view body);

struct EntryStatus {
  std::string_view entry_id;
  std::string_view status;  // SUCCESS, RETRY or DROP
};
// {"statuses":[{"entryId":...,"status":...},...]}
std::string StatusesJson(const std::vector<EntryStatus>& statuses);

}  // namespace ofn::dapr

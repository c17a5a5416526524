// CloudEvent envelopes for Dapr's publish API: how the body of
// POST /v1.0/publish/{pubsub}/{topic} (or one bulk-publish entry) becomes the
// bytes handed to the broker, byte for byte as daprd writes them
// (dapr-fact-sheet §1.1, §1.2), and the Go encoding/json reading and writing
// those rules rest on.
//
// Pure functions of their arguments (the caller supplies the event id and the
// clock); thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::components {

// Dapr's content-type classes: compared case-insensitively, parameters after
// ';' ignored. IsJsonContentType is the exact base type application/json
// ("+json" suffixes do not count); IsStringContentType is text/* and
// application/xml; IsBinaryContentType is application/octet-stream.
bool IsCloudEventContentType(std::string_view content_type);
bool IsJsonContentType(std::string_view content_type);
bool IsBinaryContentType(std::string_view content_type);
bool IsStringContentType(std::string_view content_type);

// Publish metadata "rawPayload": true publishes the body without an envelope.
// Absent or empty is false; anything Go's ParseBool rejects is an
// InvalidArgument naming the key.
Result<bool> IsRawPayload(const std::map<std::string, std::string>& metadata);

struct EnvelopeInput {
  std::string_view data;          // the request body
  std::string_view content_type;  // the request's Content-Type; empty means text/plain
  std::string id;                 // of a new event (daprd: a fresh UUIDv4)
  std::string source;             // the publisher's app id; empty means "Dapr"
  std::string topic;
  std::string pubsub_name;
  std::string traceparent;  // W3C trace context of the request; empty when untraced
  std::string tracestate;
  // The publish metadata: cloudevent.* overrides (keys case-insensitive) and
  // ttlInSeconds (alias ttl), which adds `expiration`.
  std::map<std::string, std::string> metadata;
  std::chrono::system_clock::time_point now;
};

// The CloudEvent 1.0 JSON daprd publishes for this request: a new event
// wrapping the body by its content type, or, for application/cloudevents+json,
// the app's own event with topic/pubsubname overwritten and missing
// attributes added. InvalidArgument when a cloudevents+json body is not a
// JSON object.
Result<std::string> MakeEnvelope(const EnvelopeInput& in);

// A bulk-publish entry's `event` as the bytes its `contentType` calls for:
// octet-stream decodes a base64 string, text/* and application/xml take a
// string as is, JSON types are JSON-encoded. InvalidArgument otherwise.
Result<std::string> BulkEventBytes(const nlohmann::json& event, std::string_view content_type);

// Parses JSON text as Go's encoding/json decodes it into an interface{}:
// nesting deeper than 10000 levels is rejected (no deep recursion later).
// With keep_number_text (json.Decoder.UseNumber), each non-integer number
// keeps its text, so GoJson writes it back unchanged: such a number is held
// as a JSON binary value, a kind JSON text never produces. nullopt when the
// text is not one JSON value.
std::optional<nlohmann::json> ParseGoJson(std::string_view text, bool keep_number_text = false);

// What Go's json.Marshal writes for a decoded value: compact, object keys in
// byte order, <, >, &, U+2028 and U+2029 escaped, invalid UTF-8 replaced by
// U+FFFD, floats in Go's shortest form (1 not 1.0, 1e-7 not 1e-07), and
// numbers parsed with keep_number_text as they were written.
std::string GoJson(const nlohmann::json& value);

}  // namespace ofn::components

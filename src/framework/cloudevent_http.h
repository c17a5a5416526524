// CloudEvents HTTP protocol binding (v1.0.2): turns HTTP requests into
// CloudEvents (binary, structured and batched content modes) and events into
// HTTP responses. Pure functions over value types; thread-safe.
//
// Decoding errors are Status::InvalidArgument whose message names the
// attribute or JSON member at fault; the framework answers them with 400.
#pragma once

#include <forward_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.h"
#include "ofn/cloud_event.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"
#include "ofn/status.h"

namespace ofn::ce {

enum class Mode { kNone, kBinary, kStructured, kBatch };

struct DecodeOptions {
  // Accept specversion "0.3" and upgrade the event to 1.0 (schemaurl becomes
  // dataschema, datacontentencoding "base64" is decoded into the data bytes).
  bool accept_v03 = false;
};

// Structured: Content-Type media type application/cloudevents+json; batch:
// application/cloudevents-batch+json (both case-insensitive, any parameters);
// binary: a ce-specversion header (any case); otherwise kNone.
Mode DetectMode(const HttpRequest& req);

// One event, in binary or structured mode (by DetectMode). A batch or a
// request that is no CloudEvent is an error.
Result<CloudEvent> DecodeRequest(const HttpRequest& req, const DecodeOptions& opts = {});

// A body in the JSON batch format: an array of structured events. Errors
// name the element: `[2].id: missing required attribute "id"`.
Result<std::vector<CloudEvent>> DecodeBatch(std::string_view body, const DecodeOptions& opts = {});

// One event in the JSON format (a structured-mode body). A `data` member
// holding JSON becomes the event's data as sent, not parsed and re-serialized.
Result<CloudEvent> DecodeStructured(std::string_view body, const DecodeOptions& opts = {});

// A JSON body checked as DecodeStructured checks its own, in one pass
// (jsontext::Valid): JSON whose strings are UTF-8, nested at most 512 levels
// (functions may hand data to recursive parsers). The errors are
// DecodeStructured's: "body is not valid UTF-8", "body nests JSON deeper than
// 512 levels", "body is not valid JSON".
Status CheckJson(std::string_view body);
// One event from text CheckJson accepted, alone or as part of a checked
// document (an entry of a Dapr bulk delivery): DecodeStructured without the
// second look at the text.
Result<CloudEvent> DecodeCheckedJson(std::string_view event, const DecodeOptions& opts = {});
// DecodeCheckedJson of a checked object whose members (jsontext::Members of
// it) are already known: its text is not scanned again.
Result<CloudEvent> DecodeCheckedMembers(std::span<const jsontext::Member> members, const DecodeOptions& opts = {});

// ce-* headers (values percent-encoded as the binding requires), Content-Type
// from datacontenttype (application/json for JSON data without one), and the
// data as body. Replaces same-named headers already in `out`.
void EncodeBinary(const CloudEvent& e, HttpResponse& out);
// Content-Type application/cloudevents+json; charset=utf-8 and ToJson() as body.
void EncodeStructured(const CloudEvent& e, HttpResponse& out);

// --- Helpers shared by the codec files (cloud_event.cc, cloudevent_http.cc).

// The media type of a Content-Type value: lower-cased, without parameters and
// surrounding whitespace ("Text/Plain; charset=x" -> "text/plain").
std::string MediaType(std::string_view content_type);
// */json or */*+json.
bool IsJsonMediaType(std::string_view content_type);
// Data of this type is text: text/*, JSON, XML, or any type with a charset.
bool IsTextMediaType(std::string_view content_type);
// RFC 3339 date-time with range checks (leap second 60 allowed, fractional
// seconds of any length, 'T'/'t' and 'Z'/'z').
bool IsRfc3339(std::string_view s);
// Lower-case ASCII letters and digits, non-empty.
bool IsValidAttributeName(std::string_view name);
// Validate(), and the name of the attribute at fault in `*attr` on error.
// `strings_utf8`: the strings were unquoted from checked JSON, so are UTF-8
// (not looked at again).
Status CheckEvent(const CloudEvent& e, std::string* attr, bool strings_utf8 = false);
// A member of a JSON object: its name (unescaped) and its value's text.
struct JsonMember {
  std::string_view name;
  std::string_view value;
};
// The members of a checked JSON object as a DOM (nlohmann's) holds them: one
// per name, the last written wins, in name order. Names with escapes are
// unescaped into `unescaped`; the views stay valid while it lives.
std::vector<JsonMember> DomMembers(std::string_view object, std::forward_list<std::string>& unescaped);
// The same from the object's members as jsontext::Members gives them.
std::vector<JsonMember> DomMembers(std::span<const jsontext::Member> members,
                                   std::forward_list<std::string>& unescaped);
// The string a checked JSON string literal denotes: a view into it when it
// has no escapes (the common case), else into a copy added to `unescaped`.
std::string_view JsonString(std::string_view literal, std::forward_list<std::string>& unescaped);
// nlohmann's name for a kind of JSON value ("object", "number"...), which
// error messages have always used.
std::string_view JsonTypeName(jsontext::Kind kind);
// The last decoding step: for an accepted v0.3 event, applies
// datacontentencoding and upgrades specversion to 1.0; then CheckEvent.
Status FinishDecode(CloudEvent& e, const DecodeOptions& opts, const std::optional<std::string>& content_encoding,
                    std::string* attr, bool strings_utf8 = false);

}  // namespace ofn::ce

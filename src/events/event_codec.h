// How the events engine writes and reads CloudEvents (1.0, JSON format):
// what a source's message becomes on the bus, how a bus event goes to an
// HTTP sink (binary mode, as Knative delivers), and how a dead letter says
// why it was given up on.
//
// Pure functions of their arguments (the caller supplies ids and clocks);
// thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"

namespace ofn::events {

// Where an event came from: the CloudEvent's `source` and `type`.
struct Origin {
  std::string ns;
  std::string event_source;  // the EventSource's name
  std::string kind;          // "kafka", "cron", "webhook", ...
  std::string event;         // the event's name: the CloudEvent's subject
};

// The CloudEvent for a message a source read. A message that already is a
// structured CloudEvent 1.0 (a JSON object with specversion, id, source and
// type) travels as it is; any other bytes become the data of a new event:
// JSON as JSON, UTF-8 text as text/plain, anything else as data_base64.
// source "/apis/events.openfunction.io/v1alpha1/namespaces/NS/eventsources/NAME",
// type "io.openfunction.events.KIND", subject the event's name.
nlohmann::json FromMessage(std::string_view data, std::string_view content_type, const Origin& origin,
                           const std::string& id, std::chrono::system_clock::time_point now);

// A webhook request as a CloudEvent: binary mode (ce-* headers), structured
// mode (application/cloudevents+json), or a plain body (FromMessage).
// `headers` are (lower-case name, value). InvalidArgument names what is
// wrong with a CloudEvent the request claims to be.
Result<nlohmann::json> FromHttp(const std::vector<std::pair<std::string, std::string>>& headers,
                                std::string_view body, const Origin& origin, const std::string& id,
                                std::chrono::system_clock::time_point now);

// Reads a bus message back. InvalidArgument when it is not a JSON object
// with a string id, source and type (what FromMessage writes).
Result<nlohmann::json> ParseEvent(std::string_view text);

// A CloudEvent in HTTP binary mode: ce-* headers (extensions too),
// Content-Type from datacontenttype, the data as the body.
struct BinaryRequest {
  std::vector<std::pair<std::string, std::string>> headers;  // without Content-Type
  std::string content_type;
  std::string body;
};
BinaryRequest ToBinary(const nlohmann::json& event);

// The event with why delivery gave up: extensions `ofnerror` (the reason)
// and `ofnerrordest` (where it was going).
nlohmann::json WithFailure(nlohmann::json event, const std::string& reason, const std::string& destination);

}  // namespace ofn::events

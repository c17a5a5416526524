// `ofn describe` text: kubectl's describe layout for an object — Name,
// Namespace, Labels, Annotations, API Version, Kind, Metadata, then the Spec
// (for a Function its highlights: version, image, build source, triggers,
// outputs, scaling, timeout, params, command) and the Status (serving and
// build state/reason/message, replicas, addresses, conditions), keys in
// Title Case and values aligned. For an EventSource or a Trigger, the live
// counts the server keeps (GET /v1/events/stats/...) follow the Status: an
// EventSource's "Events:" one entry per event, a Trigger's "Subscribers:" one
// entry per subscriber in spec order.
//
// Pure function; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/age.h"

namespace ofn::cli {

// `stats` is the stats endpoint's answer ({"items": [...]}, or the items
// array); null (the default) when there is none, e.g. an older server.
std::string Describe(const nlohmann::json& obj, SysTime now, const nlohmann::json& stats = nullptr);

// "creationTimestamp" -> "Creation Timestamp", "uid" -> "UID".
std::string TitleCase(std::string_view key);

}  // namespace ofn::cli

// `ofn describe` text: kubectl's describe layout for an object — Name,
// Namespace, Labels, Annotations, API Version, Kind, Metadata, then the Spec
// (for a Function its highlights: version, image, build source, triggers,
// outputs, scaling, timeout, params, command) and the Status (serving and
// build state/reason/message, replicas, addresses, conditions), keys in
// Title Case and values aligned.
//
// Pure function; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/age.h"

namespace ofn::cli {

std::string Describe(const nlohmann::json& obj, SysTime now);

// "creationTimestamp" -> "Creation Timestamp", "uid" -> "UID".
std::string TitleCase(std::string_view key);

}  // namespace ofn::cli

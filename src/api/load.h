// Loading resources: the whole path from manifest text to what Ofn stores.
//
// For each document: validate it (validate.h); convert a v1beta1 Function to
// v1beta2 and validate that too (convert.h); then decode the typed view
// (function.h, gateway.h, events.h) with its semantic checks. What `ofn apply` and the
// API call; everything a user should see is in errors (the resource is
// rejected) and ignored (accepted, with notes). Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "api/diagnostic.h"
#include "api/events.h"
#include "api/function.h"
#include "api/gateway.h"
#include "api/manifest.h"
#include "ofn/status.h"

namespace ofn::api {

struct Resource {
  // The document in its stored version (a v1beta1 Function converted to
  // v1beta2, converted_from saying so); positions point at the source.
  Document document;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> ignored;   // unknown fields, fields not acted on, conversion notes
  std::vector<Diagnostic> notes;     // Ofn extensions used (validate.h)
  bool supported = false;            // false: not a kind Ofn handles (see ignored)
  std::optional<Function> function;  // Functions without errors
  std::optional<Gateway> gateway;    // Gateways without errors
  std::optional<EventSource> event_source;  // the events kinds, without errors
  std::optional<EventBus> event_bus;        // EventBus or ClusterEventBus
  std::optional<Trigger> trigger;

  bool ok() const { return errors.empty(); }
};

Resource LoadResource(Document doc);

// Parses and loads every document of a file. The Status is for text that
// cannot be read at all (syntax errors...); per-resource problems are in
// each Resource.
Result<std::vector<Resource>> LoadManifests(std::string_view text, std::string_view source_name);

}  // namespace ofn::api

#include "api/load.h"

#include <algorithm>
#include <set>

#include "api/convert.h"
#include "api/validate.h"

namespace ofn::api {
namespace {

void SortByLine(std::vector<Diagnostic>* v) {
  std::stable_sort(v->begin(), v->end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.position.line < b.position.line; });
}

void Append(std::vector<Diagnostic>* to, std::vector<Diagnostic> from) {
  for (Diagnostic& d : from) to->push_back(std::move(d));
}

}  // namespace

Resource LoadResource(Document doc) {
  Resource r;
  ValidationReport report = Validate(doc);
  r.supported = report.supported;
  r.errors = std::move(report.errors);
  r.ignored = std::move(report.ignored);
  r.notes = std::move(report.notes);
  if (!r.ok() || !r.supported) {
    r.document = std::move(doc);
    return r;
  }
  if (doc.group() == "core.openfunction.io" && doc.kind == "Function" && doc.version() == "v1beta1") {
    Conversion c = ConvertFunctionToV1beta2(doc);
    Append(&r.errors, std::move(c.errors));
    Append(&r.ignored, std::move(c.notes));
    ValidationReport converted = Validate(c.document);
    for (Diagnostic& d : converted.errors) {
      d.message = "after conversion to v1beta2: " + d.message;
      r.errors.push_back(std::move(d));
    }
    // Unknown fields were reported against what the user wrote; keep the
    // notes that are new (fields not acted on, status).
    std::set<std::pair<int, int>> seen;
    for (const Diagnostic& d : r.ignored) seen.insert({d.position.line, d.position.column});
    for (Diagnostic& d : converted.ignored) {
      if (seen.count({d.position.line, d.position.column}) && d.message.starts_with("unknown field")) continue;
      if (d.pointer == "/status") continue;
      r.ignored.push_back(std::move(d));
    }
    doc = std::move(c.document);
  }
  if (r.ok()) {
    if (doc.kind == "Function" && doc.group() == "core.openfunction.io") {
      Function fn = DecodeFunction(doc, &r.errors);
      if (r.ok()) r.function = std::move(fn);
    } else if (doc.kind == "Gateway" && doc.group() == "networking.openfunction.io") {
      Gateway gw = DecodeGateway(doc, &r.errors);
      if (r.ok()) r.gateway = std::move(gw);
    } else if (doc.group() == "events.openfunction.io") {
      if (doc.kind == "EventSource") {
        EventSource es = DecodeEventSource(doc, &r.errors);
        if (r.ok()) r.event_source = std::move(es);
      } else if (doc.kind == "EventBus" || doc.kind == "ClusterEventBus") {
        EventBus bus = DecodeEventBus(doc, &r.errors);
        if (r.ok()) r.event_bus = std::move(bus);
      } else if (doc.kind == "Trigger") {
        Trigger t = DecodeTrigger(doc, &r.errors);
        if (r.ok()) r.trigger = std::move(t);
      }
    }
  }
  SortByLine(&r.errors);
  SortByLine(&r.ignored);
  r.document = std::move(doc);
  return r;
}

Result<std::vector<Resource>> LoadManifests(std::string_view text, std::string_view source_name) {
  auto docs = ParseManifests(text, source_name);
  if (!docs.ok()) return docs.status();
  std::vector<Resource> out;
  out.reserve(docs->size());
  for (Document& d : *docs) out.push_back(LoadResource(std::move(d)));
  return out;
}

}  // namespace ofn::api

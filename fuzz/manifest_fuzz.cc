// libFuzzer target: manifest text -> documents -> validation, v1beta1
// conversion and the typed views, plus the quantity and duration parsers, on
// arbitrary bytes. Nothing may crash, hang or leak; every message must print.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/load.h"
#include "api/quantity.h"
#include "common/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 64) {
    (void)ofn::api::Quantity::Parse(text);
    (void)ofn::ParseGoDuration(text);
  }
  ofn::api::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_nodes = 1 << 16;
  auto docs = ofn::api::ParseManifests(text, "fuzz.yaml", limits);
  if (!docs.ok()) return 0;
  for (ofn::api::Document& doc : *docs) {
    std::vector<ofn::api::Diagnostic> errors;
    // The typed views on whatever came in, validated or not.
    if (doc.kind == "Function") ofn::api::DecodeFunction(doc, &errors);
    if (doc.kind == "Gateway") ofn::api::DecodeGateway(doc, &errors);
    ofn::api::Resource r = ofn::api::LoadResource(std::move(doc));
    for (const auto& d : r.errors) (void)d.ToString();
    for (const auto& d : r.ignored) (void)d.ToString();
    if (r.function && r.function->serving && r.function->serving->timeout) {
      (void)ofn::FormatDuration(*r.function->serving->timeout);
    }
  }
  return 0;
}

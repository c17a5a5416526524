// A sync CloudEvent function that a Trigger calls for big orders
// (examples/events/orders.yaml): it logs each one, and records it in
// OFN_EXAMPLE_EVENTS_FILE when set, so tests can count deliveries.
#include <nlohmann/json.hpp>
#include <ofn/ofn.h>

#include "../async/event_log.h"

namespace {

ofn::Result<std::optional<ofn::CloudEvent>> Alert(const ofn::CloudEvent& in) {
  auto order = nlohmann::json::parse(in.data().value_or(""), nullptr, /*allow_exceptions=*/false);
  if (!order.is_object() || !order.contains("total") || !order["total"].is_number()) {
    return ofn::Status::InvalidArgument("data must be a JSON object with a number \"total\"");
  }
  examples::RecordEvent("big order " + in.id() + " from " + in.source() + ": " + order.dump());
  return std::optional<ofn::CloudEvent>();
}

}  // namespace

OFN_REGISTER(ofn::CloudEventFunction("order-alert", Alert));

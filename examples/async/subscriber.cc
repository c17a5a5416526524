// OpenFunction's pub/sub subscriber sample (autoscaling-subscriber): logs
// every event of its topic. EXAMPLE_FAIL_ON (optional) makes events whose
// data contains that text fail, to show retries and dead letters;
// EXAMPLE_DELAY_MS (optional) makes each event take that long.
#include <chrono>
#include <cstdlib>
#include <thread>

#include <ofn/ofn.h>

#include "event_log.h"

OFN_REGISTER(ofn::OpenFunction("autoscaling-subscriber", [](ofn::Context& ctx, std::string_view input) {
  const char* fail_on = std::getenv("EXAMPLE_FAIL_ON");
  if (fail_on != nullptr && *fail_on != '\0' && input.find(fail_on) != std::string_view::npos) {
    return ctx.ReturnOnInternalError().WithData("refused");
  }
  if (const char* delay = std::getenv("EXAMPLE_DELAY_MS")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
  }
  const ofn::CloudEvent* ce = ctx.cloud_event();
  examples::RecordEvent("event " + (ce ? ce->id() : std::string("?")) + ": " + std::string(input));
  return ctx.ReturnOnSuccess();
}));

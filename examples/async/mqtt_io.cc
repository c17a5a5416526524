// OpenFunction's mqtt-io sample (tryAsync in the Node.js version, the
// FUNCTION_TARGET its manifest names): what arrives on the MQTT input
// "mqtt-in" goes out, unchanged, to "mqtt-out".
#include <ofn/ofn.h>

#include "event_log.h"

OFN_REGISTER(ofn::OpenFunction("tryAsync", [](ofn::Context& ctx, std::string_view input) {
  auto sent = ctx.Send("mqtt-out", input);
  if (!sent.ok()) return ctx.ReturnOnInternalError().WithData(sent.status().message());
  examples::RecordEvent("forwarded " + std::string(input));
  return ctx.ReturnOnSuccess();
}));

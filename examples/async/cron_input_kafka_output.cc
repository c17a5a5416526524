// OpenFunction's cron-input-kafka-output sample: every cron tick sends a
// greeting to the bindings.kafka output "kafka-server".
#include <ofn/ofn.h>

#include "event_log.h"

OFN_REGISTER(ofn::OpenFunction("cron-input-kafka-output", [](ofn::Context& ctx, std::string_view) {
  const ofn::HttpRequest* req = ctx.http_request();
  auto when = req ? req->header("readTimeUTC") : std::nullopt;
  std::string msg = R"({"message":"Hello from cron at )" + std::string(when ? *when : "?") + R"("})";
  auto sent = ctx.Send("kafka-server", msg);
  if (!sent.ok()) {
    examples::RecordEvent("send failed: " + sent.status().message());
    return ctx.ReturnOnInternalError();
  }
  examples::RecordEvent("sent " + msg);
  return ctx.ReturnOnSuccess();
}));

// OpenFunction's cron-input sample (HandleCronInput): a bindings.cron input
// fires the function on a schedule; it logs the tick.
#include <ofn/ofn.h>

#include "event_log.h"

OFN_REGISTER(ofn::OpenFunction("cron-input", [](ofn::Context& ctx, std::string_view input) {
  const ofn::HttpRequest* req = ctx.http_request();
  auto when = req ? req->header("readTimeUTC") : std::nullopt;
  examples::RecordEvent("cron fired at " + std::string(when ? *when : "?") + " (input " +
                        std::string(ctx.input_name()) + ")");
  return ctx.ReturnOnSuccess();
}));

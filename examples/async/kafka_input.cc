// OpenFunction's kafka-input sample (HandleKafkaInput): logs each message a
// bindings.kafka input delivers.
#include <ofn/ofn.h>

#include "event_log.h"

OFN_REGISTER(ofn::OpenFunction("kafka-input", [](ofn::Context& ctx, std::string_view input) {
  examples::RecordEvent("message from Kafka: " + std::string(input));
  return ctx.ReturnOnSuccess();
}));

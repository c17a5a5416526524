#include "api/ofn_extensions.h"

namespace ofn::api {

const std::vector<SchemaExtension>& OfnSchemaExtensions() {
  static const std::vector<SchemaExtension> extensions = {
      {"events.openfunction.io", "EventSource", "nats", R"({
        "type": "object",
        "additionalProperties": {
          "type": "object",
          "required": ["natsURL"],
          "properties": {
            "natsURL": {"type": "string"},
            "subject": {"type": "string"},
            "streamName": {"type": "string"},
            "durableName": {"type": "string"},
            "deliverPolicy": {"type": "string"},
            "ackWait": {"type": "string"},
            "maxDeliver": {"type": "integer"}
          }
        }})"},
      {"events.openfunction.io", "EventSource", "webhook", R"({
        "type": "object",
        "additionalProperties": {
          "type": "object",
          "properties": {
            "secret": {"type": "string"},
            "signatureHeader": {"type": "string"}
          }
        }})"},
  };
  static const std::vector<SchemaExtension> with_buses = [] {
    std::vector<SchemaExtension> all = extensions;
    constexpr std::string_view kPubSub = R"({
        "type": "object",
        "required": ["type"],
        "properties": {
          "type": {"type": "string"},
          "version": {"type": "string"},
          "metadata": {
            "type": "array",
            "items": {
              "type": "object",
              "required": ["name"],
              "properties": {"name": {"type": "string"}, "value": {"x-kubernetes-preserve-unknown-fields": true}}
            }
          }
        }})";
    all.push_back({"events.openfunction.io", "EventBus", "pubsub", kPubSub});
    all.push_back({"events.openfunction.io", "ClusterEventBus", "pubsub", kPubSub});
    return all;
  }();
  return with_buses;
}

}  // namespace ofn::api

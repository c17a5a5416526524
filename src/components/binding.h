// Dapr bindings: input bindings push events from outside (cron, Kafka, MQTT)
// into functions; output bindings are invoked by functions through
// POST /v1.0/bindings/{name}.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/pubsub.h"
#include "ofn/status.h"

namespace ofn::components {

struct BindingRequest {
  std::string operation;  // e.g. "create"
  std::string data;       // bytes, as Dapr re-encodes them (see dapr-fact-sheet §1.3)
  std::map<std::string, std::string> metadata;
};

struct BindingResponse {
  std::string data;
  std::map<std::string, std::string> metadata;  // become `metadata.<key>` response headers
  std::string content_type;                      // empty: application/json
};

class OutputBinding {
 public:
  virtual ~OutputBinding() = default;
  // The operations Invoke accepts (Dapr rejects others before calling it).
  virtual std::vector<std::string> Operations() const = 0;
  // nullopt: no response object (Dapr answers 204). Thread-safe.
  virtual Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) = 0;
};

struct ReadRequest {
  size_t max_in_flight = 1;
};

class InputBinding {
 public:
  virtual ~InputBinding() = default;
  // Starts reading; each event goes to `handler` with the same Ack contract
  // as pub/sub (pubsub.h). Message::topic may be empty.
  virtual Result<std::unique_ptr<Subscription>> Read(const ReadRequest& request, MessageHandler handler) = 0;
};

}  // namespace ofn::components

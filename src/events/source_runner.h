// SourceRunner: one EventSource at work.
//
// Each event of the source is read by the Dapr component it decoded to (an
// input binding, or a pub/sub subscription for redis and nats; webhooks
// arrive through Accept). Every message becomes a CloudEvent (event_codec.h)
// that is published to the bus topic "{namespace}-{eventSource}-{event}"
// and/or POSTed to the sink, with the same retries as a Trigger's sink. The
// message is acknowledged to its broker only once the bus accepted it and
// the sink took it (or it was given up on), so nothing the broker handed
// over is lost when Ofn stops.
//
// Thread-safety: Accept and Stats from any thread; destruction stops the
// readers (messages in flight stay with their brokers).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/events.h"
#include "components/delivery.h"
#include "components/registry.h"
#include "events/event_codec.h"
#include "events/trigger_runner.h"

namespace ofn::events {

struct SourceEventStats {
  std::string event;
  std::string kind;
  uint64_t received = 0;
  uint64_t published = 0;       // accepted by the bus
  uint64_t publish_failed = 0;  // the bus refused: left with the source
  uint64_t delivered = 0;       // taken by the sink
  uint64_t dead_lettered = 0;
  uint64_t dropped = 0;         // the sink failed every attempt
  uint64_t rejected = 0;        // webhook requests refused (signature, malformed CloudEvent)
};

class SourceRunner {
 public:
  struct Options {
    const components::Registry* registry = nullptr;
    std::string data_dir;  // for components that keep files
    std::shared_ptr<components::PubSub> bus;  // null: no bus
    SinkResolver resolve;
    components::RetryPolicy retry;
    std::chrono::milliseconds call_timeout{30000};
    size_t max_in_flight = 256;
  };

  // Starts a reader per event. Errors name the event whose component could
  // not be created or started.
  static Result<std::unique_ptr<SourceRunner>> Start(const api::EventSource& source, Options options);
  ~SourceRunner();

  // A webhook request for `event`: headers as (lower-case name, value).
  // Calls `done` (from any thread, exactly once) with the HTTP status and a
  // body: 202 accepted (published, or queued for the sink), 400 a malformed
  // CloudEvent, 401 a bad signature, 404 no such webhook event, 503 the bus
  // refused it.
  void Accept(const std::string& event, const std::vector<std::pair<std::string, std::string>>& headers,
              const std::string& body, std::function<void(int, std::string)> done);

  std::vector<SourceEventStats> Stats() const;

 private:
  struct Ev;
  SourceRunner() = default;
  // Publishes and/or hands the event to the sink; `ack` gets the outcome.
  void Forward(Ev& ev, const nlohmann::json& event, components::Ack ack);
  Status Publish(Ev& ev, const std::string& text);
  void ToSink(Ev& ev, const nlohmann::json& event, components::Ack ack);

  api::EventSource spec_;
  Options options_;
  std::unique_ptr<components::Deliverer> sink_;
  std::vector<std::unique_ptr<Ev>> events_;
};

// Whether `signature` ("sha256=<hex>", as GitHub sends it) is the
// HMAC-SHA256 of body under secret; compared in constant time.
bool ValidSignature(std::string_view secret, std::string_view body, std::string_view signature);

}  // namespace ofn::events

// Engine: OpenFunction's events, in process.
//
// It runs every EventSource (SourceRunner) and Trigger (TriggerRunner) it is
// given, on the EventBus each names, and answers webhook requests. Buses are
// pub/sub components created through the component Registry and shared by
// everyone on the same bus; the embedded bus (an EventBus without a broker,
// or the implicit "default") is Ofn's pubsub.ofn under
// DATA_DIR/events/<namespace | "cluster">/<bus>/.
//
// Which bus a name means (EventBus of the namespace, else ClusterEventBus) is
// the caller's decision (the server's events controller reads the store);
// the engine takes the resolved api::EventBus.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/events.h"
#include "components/registry.h"
#include "events/source_runner.h"
#include "events/trigger_runner.h"

namespace ofn::events {

// Knobs a Trigger or EventSource sets through annotations (the controller parses them).
struct DeliveryKnobs {
  components::RetryPolicy retry;
  std::chrono::milliseconds window{60000};  // Trigger conditions only
};

// The directory of an embedded bus: DATA_DIR/events/<namespace | "cluster">/<name>.
std::string EmbeddedBusDir(const std::string& data_dir, const api::EventBus& bus);

class Engine {
 public:
  struct Options {
    const components::Registry* registry = nullptr;
    std::string data_dir;
    SinkResolver resolve;
    const autoscaler::Clock* clock = &autoscaler::SystemClock::Get();
  };

  explicit Engine(Options options);
  ~Engine();  // Stop()
  // Stops every source and trigger: events they hold go back to their
  // brokers and buses. Deliveries in flight finish first.
  void Stop();

  // Starts (or restarts with the new spec) a source; `bus` null: no bus.
  Status ApplySource(const api::EventSource& source, const api::EventBus* bus, const DeliveryKnobs& knobs);
  void RemoveSource(const std::string& ns, const std::string& name);
  Status ApplyTrigger(const api::Trigger& trigger, const api::EventBus& bus, const DeliveryKnobs& knobs);
  void RemoveTrigger(const std::string& ns, const std::string& name);

  // A webhook request for /_eventsources/NS/NAME/EVENT (see SourceRunner::Accept).
  void Webhook(const std::string& ns, const std::string& name, const std::string& event,
               const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
               std::function<void(int, std::string)> done);

  // Watches a topic of a bus as consumer group `group` (ofn events tail).
  Result<std::unique_ptr<components::Subscription>> Watch(const api::EventBus& bus, const std::string& topic,
                                                          const std::string& group, components::MessageHandler handler);

  std::vector<SourceEventStats> SourceStats(const std::string& ns, const std::string& name);
  std::vector<SubscriberStats> TriggerStats(const std::string& ns, const std::string& name);
  // Prometheus text: ofn_eventsource_events_total, ofn_trigger_events_total.
  std::string Metrics();
  // Re-checks retry deadlines (tests with a fake clock).
  void Wake();

 private:
  Result<std::shared_ptr<components::PubSub>> Bus(const api::EventBus& bus);

  Options options_;
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<components::PubSub>> buses_;  // identity -> live bus
  // Runners are shared so a webhook can use one while it is being replaced.
  std::map<std::string, std::shared_ptr<SourceRunner>> sources_;  // "ns/name"
  std::map<std::string, std::shared_ptr<TriggerRunner>> triggers_;
};

}  // namespace ofn::events

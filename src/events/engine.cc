#include "events/engine.h"

#include <filesystem>
#include <sstream>

#include "components/sqlite_pubsub.h"

namespace ofn::events {

std::string EmbeddedBusDir(const std::string& data_dir, const api::EventBus& bus) {
  return data_dir + "/events/" + (bus.cluster ? std::string("cluster") : bus.ns) + "/" + bus.name;
}

Engine::Engine(Options options) : options_(std::move(options)) {}

Engine::~Engine() { Stop(); }

void Engine::Stop() {
  std::map<std::string, std::shared_ptr<SourceRunner>> sources;
  std::map<std::string, std::shared_ptr<TriggerRunner>> triggers;
  {
    std::lock_guard lk(mu_);
    sources.swap(sources_);
    triggers.swap(triggers_);
  }
  sources.clear();
  triggers.clear();
}

Result<std::shared_ptr<components::PubSub>> Engine::Bus(const api::EventBus& bus) {
  const std::string scope = bus.cluster ? "cluster" : bus.ns;
  const bool embedded = bus.component_type.empty();
  const std::string identity = scope + "/" + bus.name + "|" + (embedded ? "" : bus.ComponentSpecJson());
  std::lock_guard lk(mu_);
  if (auto it = buses_.find(identity); it != buses_.end()) {
    if (auto live = it->second.lock()) return live;
  }
  std::string spec_json = embedded ? api::EventBus{.component_type = std::string(components::kEmbeddedPubSubType)}
                                         .ComponentSpecJson()
                                   : bus.ComponentSpecJson();
  auto spec = components::ParseComponentSpec(spec_json, "eventbus-" + bus.name, bus.cluster ? "" : bus.ns,
                                             "eventbus-" + bus.name);
  if (!spec.ok()) return spec.status();
  spec->data_dir = EmbeddedBusDir(options_.data_dir, bus);
  auto created = options_.registry->Create(*spec);
  if (!created.ok()) return created.status();
  if (!created->pubsub) return Status::InvalidArgument(spec->Describe() + " is not a pub/sub component");
  buses_[identity] = created->pubsub;
  return created->pubsub;
}

Status Engine::ApplySource(const api::EventSource& source, const api::EventBus* bus, const DeliveryKnobs& knobs) {
  const std::string key = source.ns + "/" + source.name;
  RemoveSource(source.ns, source.name);  // its readers stop before new ones take their consumer groups
  SourceRunner::Options o;
  o.registry = options_.registry;
  o.data_dir = options_.data_dir;
  o.resolve = options_.resolve;
  o.retry = knobs.retry;
  if (bus != nullptr) {
    auto b = Bus(*bus);
    if (!b.ok()) return Status(b.status().code(), "event bus " + bus->name + ": " + b.status().message());
    o.bus = *b;
  }
  auto runner = SourceRunner::Start(source, std::move(o));
  if (!runner.ok()) return runner.status();
  std::lock_guard lk(mu_);
  sources_[key] = std::move(*runner);
  return Status::Ok();
}

void Engine::RemoveSource(const std::string& ns, const std::string& name) {
  std::shared_ptr<SourceRunner> old;
  {
    std::lock_guard lk(mu_);
    auto it = sources_.find(ns + "/" + name);
    if (it == sources_.end()) return;
    old = std::move(it->second);
    sources_.erase(it);
  }
}

Status Engine::ApplyTrigger(const api::Trigger& trigger, const api::EventBus& bus, const DeliveryKnobs& knobs) {
  RemoveTrigger(trigger.ns, trigger.name);
  auto b = Bus(bus);
  if (!b.ok()) return Status(b.status().code(), "event bus " + bus.name + ": " + b.status().message());
  TriggerRunner::Options o;
  o.bus = *b;
  o.resolve = options_.resolve;
  o.retry = knobs.retry;
  o.window = knobs.window;
  o.clock = options_.clock;
  auto runner = TriggerRunner::Start(trigger, std::move(o));
  if (!runner.ok()) return runner.status();
  std::lock_guard lk(mu_);
  triggers_[trigger.ns + "/" + trigger.name] = std::move(*runner);
  return Status::Ok();
}

void Engine::RemoveTrigger(const std::string& ns, const std::string& name) {
  std::shared_ptr<TriggerRunner> old;
  {
    std::lock_guard lk(mu_);
    auto it = triggers_.find(ns + "/" + name);
    if (it == triggers_.end()) return;
    old = std::move(it->second);
    triggers_.erase(it);
  }
}

void Engine::Webhook(const std::string& ns, const std::string& name, const std::string& event,
                     const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                     std::function<void(int, std::string)> done) {
  std::shared_ptr<SourceRunner> runner;
  {
    std::lock_guard lk(mu_);
    auto it = sources_.find(ns + "/" + name);
    if (it != sources_.end()) runner = it->second;
  }
  if (!runner) {
    done(404, "no eventsource " + ns + "/" + name + " is running\n");
    return;
  }
  runner->Accept(event, headers, body, std::move(done));
}

Result<std::unique_ptr<components::Subscription>> Engine::Watch(const api::EventBus& bus, const std::string& topic,
                                                                const std::string& group,
                                                                components::MessageHandler handler) {
  auto b = Bus(bus);
  if (!b.ok()) return b.status();
  components::SubscribeRequest req;
  req.topic = topic;
  req.metadata["consumerID"] = group;
  req.metadata["initialOffset"] = "newest";  // a watch shows what arrives from now (where the backend can)
  req.max_in_flight = 64;
  return (*b)->Subscribe(req, std::move(handler));
}

std::vector<SourceEventStats> Engine::SourceStats(const std::string& ns, const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = sources_.find(ns + "/" + name);
  return it == sources_.end() ? std::vector<SourceEventStats>{} : it->second->Stats();
}

std::vector<SubscriberStats> Engine::TriggerStats(const std::string& ns, const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = triggers_.find(ns + "/" + name);
  return it == triggers_.end() ? std::vector<SubscriberStats>{} : it->second->Stats();
}

void Engine::Wake() {
  std::lock_guard lk(mu_);
  for (auto& [k, t] : triggers_) t->Wake();
}

std::string Engine::Metrics() {
  std::map<std::string, std::shared_ptr<SourceRunner>> sources;
  std::map<std::string, std::shared_ptr<TriggerRunner>> triggers;
  {
    std::lock_guard lk(mu_);
    sources = sources_;
    triggers = triggers_;
  }
  std::ostringstream m;
  auto split = [](const std::string& key) {
    size_t slash = key.find('/');
    return std::pair{key.substr(0, slash), key.substr(slash + 1)};
  };
  m << "# HELP ofn_eventsource_events_total Events an EventSource read, by what became of them.\n"
       "# TYPE ofn_eventsource_events_total counter\n";
  for (const auto& [key, runner] : sources) {
    auto [ns, name] = split(key);
    for (const auto& s : runner->Stats()) {
      for (auto [outcome, value] :
           {std::pair{"received", s.received}, std::pair{"published", s.published},
            std::pair{"publish_failed", s.publish_failed}, std::pair{"delivered", s.delivered},
            std::pair{"dropped", s.dropped}, std::pair{"rejected", s.rejected}}) {
        m << "ofn_eventsource_events_total{namespace=\"" << ns << "\",eventsource=\"" << name << "\",event=\""
          << s.event << "\",outcome=\"" << outcome << "\"} " << value << "\n";
      }
    }
  }
  m << "# HELP ofn_trigger_events_total Events a Trigger subscriber read, by what became of them.\n"
       "# TYPE ofn_trigger_events_total counter\n";
  for (const auto& [key, runner] : triggers) {
    auto [ns, name] = split(key);
    auto stats = runner->Stats();
    for (size_t i = 0; i < stats.size(); ++i) {
      const auto& s = stats[i];
      for (auto [outcome, value] :
           {std::pair{"received", s.received}, std::pair{"matched", s.matched}, std::pair{"filtered", s.filtered},
            std::pair{"invalid", s.invalid}, std::pair{"published", s.published},
            std::pair{"delivered", s.delivered}, std::pair{"retried", s.retried},
            std::pair{"dead_lettered", s.dead_lettered}, std::pair{"dropped", s.dropped}}) {
        m << "ofn_trigger_events_total{namespace=\"" << ns << "\",trigger=\"" << name << "\",subscriber=\"" << i
          << "\",outcome=\"" << outcome << "\"} " << value << "\n";
      }
    }
  }
  return m.str();
}

}  // namespace ofn::events

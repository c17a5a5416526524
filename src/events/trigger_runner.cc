#include "events/trigger_runner.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "api/trigger_condition.h"
#include "common/log.h"
#include "events/event_codec.h"
#include "net/http_client.h"

namespace ofn::events {

using components::Message;
using components::Outcome;
using nlohmann::json;

struct TriggerRunner::Sub {
  std::string name;  // "ns/trigger[i]", for logs
  api::Subscriber spec;
  std::optional<api::TriggerCondition> condition;
  Options* options = nullptr;
  std::shared_ptr<Options> owned_options;
  std::string sink_url;  // resolved at start (refs are resolved again per call)
  std::string sink_route;  // its path
  // The inputs the condition names: events of other inputs do not concern it
  // (all do when it names none, e.g. a filter on attributes only).
  std::set<std::string, std::less<>> mentioned;
  std::unique_ptr<components::Deliverer> deliverer;
  std::unique_ptr<net::HttpClient> dead_letter_client;
  std::vector<std::unique_ptr<components::Subscription>> subscriptions;

  std::mutex mu;
  std::map<std::string, autoscaler::Clock::TimePoint> seen;  // input -> its last event
  std::atomic<uint64_t> received{0}, matched{0}, filtered{0}, invalid{0}, published{0};

  void OnEvent(const std::vector<std::string>& inputs, Message m, components::Ack ack);
  Status DeadLetter(const std::string& event, const std::string& reason);
  std::string Destination() const {
    std::string d;
    if (!spec.sink.empty()) d = "sink " + sink_url;
    if (!spec.topic.empty()) d += std::string(d.empty() ? "" : ", ") + "topic " + spec.topic;
    return d;
  }
};

namespace {

Result<std::string> SinkUrl(const api::Sink& sink, const SinkResolver& resolve) {
  if (!sink.uri.empty()) return sink.uri;
  if (!resolve) return Status::FailedPrecondition("sink references cannot be resolved here");
  return resolve(*sink.ref);
}

}  // namespace

void TriggerRunner::Sub::OnEvent(const std::vector<std::string>& inputs, Message m, components::Ack ack) {
  ++received;
  auto now = options->clock->Now();
  auto event = ParseEvent(m.data);
  if (!event.ok()) {
    ++invalid;
    log::Warn("trigger: a bus event is not a CloudEvent; dropped",
              {{"trigger", name}, {"topic", m.topic}, {"error", event.status().message()}});
    ack(Outcome::kDrop);
    return;
  }
  std::map<std::string, autoscaler::Clock::TimePoint> seen_now;
  {
    std::lock_guard lk(mu);
    for (const auto& in : inputs) seen[in] = now;
    seen_now = seen;
  }
  if (!mentioned.empty() &&
      std::none_of(inputs.begin(), inputs.end(), [&](const std::string& in) { return mentioned.count(in) > 0; })) {
    ++filtered;
    ack(Outcome::kSuccess);
    return;
  }
  const auto window = options->window;
  bool match = condition->Evaluate(
      [&](std::string_view input) {
        auto it = seen_now.find(std::string(input));
        return it != seen_now.end() && now - it->second <= window;
      },
      *event);
  if (!match) {
    ++filtered;
    ack(Outcome::kSuccess);
    return;
  }
  ++matched;
  if (!spec.topic.empty()) {
    Status s = options->bus->Publish({.topic = spec.topic, .data = m.data, .metadata = {}});
    if (!s.ok()) {
      log::Warn("trigger: republishing failed; the bus keeps the event",
                {{"trigger", name}, {"topic", spec.topic}, {"error", s.message()}});
      --matched;  // it comes back and is counted then
      ack(Outcome::kRetry);
      return;
    }
    ++published;
  }
  if (!deliverer) {
    ack(Outcome::kSuccess);
    return;
  }
  BinaryRequest req = ToBinary(*event);
  components::Event e;
  e.kind = components::EventKind::kBinding;
  e.route = sink_route;
  e.content_type = req.content_type;
  e.message.topic = m.topic;
  e.message.data = std::move(req.body);
  for (auto& [k, v] : req.headers) e.message.metadata.emplace(std::move(k), std::move(v));
  e.ack = std::move(ack);
  if (!spec.dead_letter_topic.empty() || !spec.dead_letter_sink.empty()) {
    e.dead_letter = [this, original = std::move(m.data)](const Message&, const std::string& reason) {
      return DeadLetter(original, reason);
    };
  }
  deliverer->Submit(std::move(e));
}

Status TriggerRunner::Sub::DeadLetter(const std::string& event_text, const std::string& reason) {
  auto event = ParseEvent(event_text);
  if (!event.ok()) return event.status();
  json failed = WithFailure(std::move(*event), reason, Destination());
  if (!spec.dead_letter_topic.empty()) {
    return options->bus->Publish({.topic = spec.dead_letter_topic, .data = failed.dump(), .metadata = {}});
  }
  auto url = SinkUrl(spec.dead_letter_sink, options->resolve);
  if (!url.ok()) return url.status();
  BinaryRequest b = ToBinary(failed);
  net::ClientRequest req;
  req.url = *url;
  req.headers = std::move(b.headers);
  req.headers.emplace_back("Content-Type", b.content_type);
  req.body = std::move(b.body);
  req.timeout = options->call_timeout;
  auto resp = dead_letter_client->Do(req);
  if (!resp.ok()) return resp.status();
  if (resp->status < 200 || resp->status >= 300) {
    return Status::Unavailable("dead-letter sink answered " + std::to_string(resp->status));
  }
  return Status::Ok();
}

Result<std::unique_ptr<TriggerRunner>> TriggerRunner::Start(const api::Trigger& trigger, Options options) {
  std::unique_ptr<TriggerRunner> runner(new TriggerRunner());
  auto shared = std::make_shared<Options>(std::move(options));
  std::set<std::string, std::less<>> names;
  std::map<std::string, std::vector<std::string>> by_topic;  // bus topic -> inputs
  for (const auto& in : trigger.inputs) {
    names.insert(in.name);
    by_topic[in.Topic()].push_back(in.name);
  }
  for (size_t i = 0; i < trigger.subscribers.size(); ++i) {
    auto sub = std::make_unique<Sub>();
    Sub* s = sub.get();
    s->name = trigger.ns + "/" + trigger.name + "[" + std::to_string(i) + "]";
    s->spec = trigger.subscribers[i];
    s->owned_options = shared;
    s->options = shared.get();
    const std::string at = "subscribers[" + std::to_string(i) + "]";
    auto cond = api::TriggerCondition::Parse(s->spec.condition, names);
    if (!cond.ok()) return Status::InvalidArgument(at + ".condition: " + cond.status().message());
    s->condition = std::move(*cond);
    for (const auto& in : s->condition->Inputs()) s->mentioned.insert(in);
    if (!s->spec.sink.empty()) {
      auto url = SinkUrl(s->spec.sink, shared->resolve);
      if (!url.ok()) return Status(url.status().code(), at + ".sink: " + url.status().message());
      auto parsed = net::ParseUrl(*url);
      if (!parsed.ok()) return Status::InvalidArgument(at + ".sink: " + parsed.status().message());
      s->sink_url = *url;
      s->sink_route = parsed->target;
      components::Deliverer::Options d;
      d.name = "trigger " + s->name;
      d.per_instance = 32;
      d.retry = shared->retry;
      d.call_timeout = shared->call_timeout;
      d.clock = shared->clock;
      d.on_demand = [] {};
      d.unreachable_is_failure = true;
      const std::string route = parsed->target;
      if (s->spec.sink.ref) {
        // Followed per call: a Function's path may change with the Gateway's template.
        d.prepare = [s, route](components::Event& e) {
          auto now = SinkUrl(s->spec.sink, s->options->resolve);
          auto p = now.ok() ? net::ParseUrl(*now) : Result<net::ParsedUrl>(now.status());
          e.route = p.ok() ? p->target : route;
        };
      }
      s->deliverer = std::make_unique<components::Deliverer>(std::move(d));
      s->deliverer->SetEndpoints({components::Endpoint{.id = "sink", .host = parsed->host, .port = parsed->port}});
    }
    if (!s->spec.dead_letter_sink.empty()) {
      auto url = SinkUrl(s->spec.dead_letter_sink, shared->resolve);
      if (!url.ok()) return Status(url.status().code(), at + ".deadLetterSink: " + url.status().message());
      s->dead_letter_client = std::make_unique<net::HttpClient>();
    }
    const std::string group = "trigger-" + trigger.ns + "-" + trigger.name + "-" + std::to_string(i);
    for (const auto& entry : by_topic) {
      const std::string& topic = entry.first;
      const std::vector<std::string>& inputs = entry.second;
      components::SubscribeRequest req;
      req.topic = topic;
      req.metadata["consumerID"] = group;
      req.max_in_flight = shared->max_in_flight;
      auto subscription = shared->bus->Subscribe(
          req, [s, inputs](Message m, components::Ack ack) { s->OnEvent(inputs, std::move(m), std::move(ack)); });
      if (!subscription.ok()) {
        return Status(subscription.status().code(),
                      at + ": subscribing to topic " + topic + ": " + subscription.status().message());
      }
      s->subscriptions.push_back(std::move(*subscription));
    }
    runner->subs_.push_back(std::move(sub));
  }
  return runner;
}

TriggerRunner::~TriggerRunner() {
  // Consumers first (nothing new arrives), then the deliverers (what they hold goes back to the bus).
  for (auto& s : subs_) s->subscriptions.clear();
  for (auto& s : subs_) s->deliverer.reset();
}

void TriggerRunner::Wake() {
  for (auto& s : subs_) {
    if (s->deliverer) s->deliverer->Wake();
  }
}

std::vector<SubscriberStats> TriggerRunner::Stats() const {
  std::vector<SubscriberStats> out;
  for (const auto& s : subs_) {
    SubscriberStats st;
    st.condition = s->spec.condition;
    st.destination = s->Destination();
    st.received = s->received;
    st.matched = s->matched;
    st.filtered = s->filtered;
    st.invalid = s->invalid;
    st.published = s->published;
    if (s->deliverer) {
      auto d = s->deliverer->Stats();
      st.delivered = d.delivered;
      st.retried = d.retried;
      st.dead_lettered = d.dead_lettered;
      st.dropped = d.dropped;
      st.in_flight = d.in_flight + d.queued;
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace ofn::events

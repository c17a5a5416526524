#include "api/events.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "api/decode_reader.h"
#include "api/trigger_condition.h"
#include "api/validate.h"

namespace ofn::api {

using nlohmann::json;

namespace {

std::string SpecJson(const std::string& type, const std::vector<std::pair<std::string, std::string>>& metadata) {
  json md = json::array();
  for (const auto& [k, v] : metadata) md.push_back({{"name", k}, {"value", v}});
  return json{{"type", type}, {"version", "v1"}, {"metadata", md}}.dump();
}

// A scalar as Dapr metadata takes it: strings as they are, numbers and bools
// as Go prints them.
std::optional<std::string> Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

void Set(std::vector<std::pair<std::string, std::string>>& md, const std::string& key, const std::string& value) {
  for (auto& [k, v] : md) {
    if (k == key) {
      v = value;
      return;
    }
  }
  md.emplace_back(key, value);
}

bool Has(const std::vector<std::pair<std::string, std::string>>& md, const std::string& key) {
  return std::any_of(md.begin(), md.end(), [&](const auto& kv) { return kv.first == key && !kv.second.empty(); });
}

Sink DecodeSink(DecodeReader& r, const json* v, const FieldPath& at, const std::string& ns) {
  Sink s;
  if (!r.Object(v, at) || v == nullptr) return s;
  r.String(DecodeReader::Member(v, "uri"), at.Child("uri"), &s.uri);
  if (!s.uri.empty() && !s.uri.starts_with("http://")) {
    r.Error(at.Child("uri"), "\"" + s.uri + "\" is not an http:// URL (Ofn sends plain HTTP; https is not supported yet)");
  }
  const json* ref = DecodeReader::Member(v, "ref");
  if (ref != nullptr && r.Object(ref, at.Child("ref"))) {
    SinkRef sr;
    r.String(DecodeReader::Member(ref, "apiVersion"), at.Child("ref").Child("apiVersion"), &sr.api_version);
    r.String(DecodeReader::Member(ref, "kind"), at.Child("ref").Child("kind"), &sr.kind);
    r.String(DecodeReader::Member(ref, "name"), at.Child("ref").Child("name"), &sr.name);
    r.String(DecodeReader::Member(ref, "namespace"), at.Child("ref").Child("namespace"), &sr.ns);
    if (sr.ns.empty()) sr.ns = ns;
    if (sr.kind != "Function" && sr.kind != "Service") {
      r.Error(at.Child("ref").Child("kind"),
              "\"" + sr.kind + "\" cannot be a sink: refer to a Function (or the Knative Service of one), or give a uri");
    }
    if (sr.name.empty()) r.Error(at.Child("ref").Child("name"), "required field missing");
    s.ref = std::move(sr);
  }
  if (!s.uri.empty() && s.ref) r.Error(at, "give either uri or ref, not both");
  return s;
}

// Copies an entry's scalar fields into Dapr metadata, except `skip`.
std::vector<std::pair<std::string, std::string>> Metadata(const json& entry, const std::set<std::string>& skip) {
  std::vector<std::pair<std::string, std::string>> md;
  for (const auto& [k, v] : entry.items()) {
    if (skip.count(k)) continue;
    if (auto s = Scalar(v)) md.emplace_back(k, *s);
  }
  return md;
}

}  // namespace

const char* SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kKafka: return "kafka";
    case SourceKind::kCron: return "cron";
    case SourceKind::kRedis: return "redis";
    case SourceKind::kMqtt: return "mqtt";
    case SourceKind::kNats: return "nats";
    case SourceKind::kWebhook: return "webhook";
  }
  return "?";
}

std::string SourceEvent::ComponentSpecJson() const { return SpecJson(component_type, metadata); }
std::string EventBus::ComponentSpecJson() const { return SpecJson(component_type, metadata); }

std::string EventTopic(const std::string& ns, const std::string& source, const std::string& event) {
  return ns + "-" + source + "-" + event;
}

EventSource DecodeEventSource(const Document& doc, std::vector<Diagnostic>* errors) {
  DecodeReader r(doc, errors);
  EventSource es;
  es.name = doc.name;
  es.ns = doc.ns;
  es.annotations = doc.annotations;
  const json* spec = DecodeReader::Member(&doc.object, "spec");
  FieldPath at = FieldPath().Child("spec");
  if (!r.Object(spec, at) || spec == nullptr) {
    r.Error(at, "an EventSource needs a spec with at least one source");
    return es;
  }
  r.String(DecodeReader::Member(spec, "eventBus"), at.Child("eventBus"), &es.event_bus);
  es.sink = DecodeSink(r, DecodeReader::Member(spec, "sink"), at.Child("sink"), es.ns);
  // A consumer group / client id of the source's own, stable across restarts.
  const std::string owner = "eventsource-" + es.ns + "-" + es.name;

  struct KindField {
    const char* field;
    SourceKind kind;
  };
  for (auto [field, kind] : {KindField{"kafka", SourceKind::kKafka}, KindField{"cron", SourceKind::kCron},
                             KindField{"redis", SourceKind::kRedis}, KindField{"mqtt", SourceKind::kMqtt},
                             KindField{"nats", SourceKind::kNats}, KindField{"webhook", SourceKind::kWebhook}}) {
    const json* group = DecodeReader::Member(spec, field);
    FieldPath gat = at.Child(field);
    if (!r.Object(group, gat) || group == nullptr) continue;
    for (const auto& item : group->items()) {
      const std::string& event = item.key();
      const json& entry = item.value();
      FieldPath eat = gat.Key(event);
      if (!r.Object(&entry, eat)) continue;
      if (!IsDnsLabel(event)) {
        // It becomes part of a topic, a consumer group and a webhook path.
        r.Error(eat, "event name \"" + event + "\" must be a DNS label (a-z, 0-9, '-')");
        continue;
      }
      SourceEvent ev;
      ev.name = event;
      ev.kind = kind;
      ev.field = eat.path();
      const std::string id = owner + "-" + event;
      auto need = [&](const char* key) {
        const json* v = DecodeReader::Member(&entry, key);
        if (v == nullptr || (v->is_string() && v->get<std::string>().empty())) {
          r.Error(eat.Child(key), "required field missing");
          return false;
        }
        return true;
      };
      switch (kind) {
        case SourceKind::kKafka:
          need("brokers");
          need("topic");
          ev.component_type = "bindings.kafka";
          ev.metadata = Metadata(entry, {"topic", "scaleOption"});
          Set(ev.metadata, "topics", entry.value("topic", ""));
          if (!Has(ev.metadata, "consumerGroup")) Set(ev.metadata, "consumerGroup", id);
          break;
        case SourceKind::kCron:
          need("schedule");
          ev.component_type = "bindings.cron";
          ev.metadata = Metadata(entry, {});
          break;
        case SourceKind::kRedis:
          need("redisHost");
          ev.component_type = "pubsub.redis";
          ev.metadata = Metadata(entry, {});
          ev.topic = event;  // OpenFunction's spec names no stream: the event's name is the stream's
          Set(ev.metadata, "consumerID", id);
          break;
        case SourceKind::kMqtt:
          need("url");
          need("topic");
          ev.component_type = "bindings.mqtt3";
          ev.metadata = Metadata(entry, {});
          if (!Has(ev.metadata, "consumerID")) Set(ev.metadata, "consumerID", id);
          break;
        case SourceKind::kNats:
          need("natsURL");
          ev.component_type = "pubsub.jetstream";
          ev.metadata = Metadata(entry, {"subject"});
          ev.topic = entry.value("subject", event);
          if (!Has(ev.metadata, "durableName")) Set(ev.metadata, "durableName", id);
          break;
        case SourceKind::kWebhook:
          r.String(DecodeReader::Member(&entry, "secret"), eat.Child("secret"), &ev.secret);
          r.String(DecodeReader::Member(&entry, "signatureHeader"), eat.Child("signatureHeader"),
                   &ev.signature_header);
          break;
      }
      es.events.push_back(std::move(ev));
    }
  }
  if (es.events.empty() && errors->empty()) {
    r.Error(at, "no source: give at least one event under kafka, cron, redis, mqtt, nats or webhook");
  }
  if (es.event_bus.empty() && es.sink.empty() && errors->empty()) {
    r.Error(at, "events go nowhere: set eventBus, sink, or both");
  }
  return es;
}

EventBus DecodeEventBus(const Document& doc, std::vector<Diagnostic>* errors) {
  DecodeReader r(doc, errors);
  EventBus bus;
  bus.name = doc.name;
  bus.cluster = doc.kind == "ClusterEventBus";
  bus.ns = bus.cluster ? "" : doc.ns;
  const json* spec = DecodeReader::Member(&doc.object, "spec");
  FieldPath at = FieldPath().Child("spec");
  if (!r.Object(spec, at) || spec == nullptr) return bus;  // the embedded bus
  const json* nats = DecodeReader::Member(spec, "natsStreaming");
  const json* pubsub = DecodeReader::Member(spec, "pubsub");
  if (nats != nullptr && pubsub != nullptr) {
    r.Error(at, "give either natsStreaming or pubsub, not both");
    return bus;
  }
  if (nats != nullptr && r.Object(nats, at.Child("natsStreaming"))) {
    // NATS Streaming is deprecated upstream; the same server's JetStream carries the bus.
    std::string url;
    r.String(DecodeReader::Member(nats, "natsURL"), at.Child("natsStreaming").Child("natsURL"), &url);
    if (url.empty()) r.Error(at.Child("natsStreaming").Child("natsURL"), "required field missing");
    bus.component_type = "pubsub.jetstream";
    bus.metadata.emplace_back("natsURL", url);
    bool deliver_all = nats->value("deliverAll", false);
    if (deliver_all) bus.metadata.emplace_back("deliverPolicy", "all");
    if (nats->value("deliverNew", false)) bus.metadata.emplace_back("deliverPolicy", "new");
    if (const json* ack = DecodeReader::Member(nats, "ackWaitTime"); ack && ack->is_string()) {
      bus.metadata.emplace_back("ackWait", ack->get<std::string>());
    }
    bus.note = "natsStreaming is served by NATS JetStream at " + url +
               " (NATS Streaming is deprecated); natsStreamingClusterID and subscriptionType are not used";
  }
  if (pubsub != nullptr && r.Object(pubsub, at.Child("pubsub"))) {
    FieldPath pat = at.Child("pubsub");
    r.String(DecodeReader::Member(pubsub, "type"), pat.Child("type"), &bus.component_type);
    if (!bus.component_type.starts_with("pubsub.")) {
      r.Error(pat.Child("type"), "\"" + bus.component_type + "\" is not a pub/sub component type (pubsub.*)");
    }
    const json* md = DecodeReader::Member(pubsub, "metadata");
    if (r.Array(md, pat.Child("metadata")) && md != nullptr) {
      for (size_t i = 0; i < md->size(); ++i) {
        const json& item = (*md)[i];
        FieldPath iat = pat.Child("metadata").Index(i);
        std::string name;
        if (!r.Object(&item, iat) || !r.String(DecodeReader::Member(&item, "name"), iat.Child("name"), &name)) continue;
        auto value = item.contains("value") ? Scalar(item["value"]) : std::nullopt;
        if (name.empty() || !value) {
          r.Error(iat, "each entry needs a name and a string, number or bool value");
          continue;
        }
        bus.metadata.emplace_back(name, *value);
      }
    }
  }
  return bus;
}

Trigger DecodeTrigger(const Document& doc, std::vector<Diagnostic>* errors) {
  DecodeReader r(doc, errors);
  Trigger t;
  t.name = doc.name;
  t.ns = doc.ns;
  t.annotations = doc.annotations;
  const json* spec = DecodeReader::Member(&doc.object, "spec");
  FieldPath at = FieldPath().Child("spec");
  if (!r.Object(spec, at) || spec == nullptr) return t;
  r.String(DecodeReader::Member(spec, "eventBus"), at.Child("eventBus"), &t.event_bus);
  if (t.event_bus.empty()) r.Error(at.Child("eventBus"), "required field missing");
  const json* inputs = DecodeReader::Member(spec, "inputs");
  std::set<std::string, std::less<>> names;
  if (r.Object(inputs, at.Child("inputs")) && inputs != nullptr) {
    for (const auto& [name, in] : inputs->items()) {
      FieldPath iat = at.Child("inputs").Key(name);
      if (!r.Object(&in, iat)) continue;
      TriggerInput ti;
      ti.name = name;
      r.String(DecodeReader::Member(&in, "namespace"), iat.Child("namespace"), &ti.ns);
      r.String(DecodeReader::Member(&in, "eventSource"), iat.Child("eventSource"), &ti.event_source);
      r.String(DecodeReader::Member(&in, "event"), iat.Child("event"), &ti.event);
      if (ti.ns.empty()) ti.ns = t.ns;
      if (ti.event_source.empty()) r.Error(iat.Child("eventSource"), "required field missing");
      if (ti.event.empty()) r.Error(iat.Child("event"), "required field missing");
      names.insert(name);
      t.inputs.push_back(std::move(ti));
    }
  }
  if (t.inputs.empty()) r.Error(at.Child("inputs"), "a Trigger needs at least one input");
  const json* subs = DecodeReader::Member(spec, "subscribers");
  if (r.Array(subs, at.Child("subscribers")) && subs != nullptr) {
    for (size_t i = 0; i < subs->size(); ++i) {
      const json& s = (*subs)[i];
      FieldPath sat = at.Child("subscribers").Index(i);
      if (!r.Object(&s, sat)) continue;
      Subscriber sub;
      r.String(DecodeReader::Member(&s, "condition"), sat.Child("condition"), &sub.condition);
      if (sub.condition.empty()) {
        r.Error(sat.Child("condition"), "required field missing");
      } else if (!t.inputs.empty()) {
        auto parsed = TriggerCondition::Parse(sub.condition, names);
        if (!parsed.ok()) r.Error(sat.Child("condition"), parsed.status().message());
      }
      sub.sink = DecodeSink(r, DecodeReader::Member(&s, "sink"), sat.Child("sink"), t.ns);
      sub.dead_letter_sink = DecodeSink(r, DecodeReader::Member(&s, "deadLetterSink"), sat.Child("deadLetterSink"), t.ns);
      r.String(DecodeReader::Member(&s, "topic"), sat.Child("topic"), &sub.topic);
      r.String(DecodeReader::Member(&s, "deadLetterTopic"), sat.Child("deadLetterTopic"), &sub.dead_letter_topic);
      if (sub.sink.empty() && sub.topic.empty()) r.Error(sat, "a subscriber needs a sink, a topic, or both");
      if (!sub.dead_letter_sink.empty() && !sub.dead_letter_topic.empty()) {
        r.Error(sat, "give either deadLetterSink or deadLetterTopic, not both");
      }
      t.subscribers.push_back(std::move(sub));
    }
  }
  if (t.subscribers.empty()) r.Error(at.Child("subscribers"), "a Trigger needs at least one subscriber");
  return t;
}

}  // namespace ofn::api

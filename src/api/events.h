// The typed views of OpenFunction's events kinds (events.openfunction.io/
// v1alpha1): EventSource, EventBus / ClusterEventBus and Trigger.
//
// Decoding also turns each source and bus into the Dapr component that
// carries it (type and metadata), so the events engine needs no more
// knowledge of OpenFunction's field names, and checks each Trigger
// condition (trigger_condition.h), so a bad one is rejected at apply with
// its field, line and column.
//
// Ofn extensions beyond OpenFunction's schema (ofn_extensions.h): the `nats`
// and `webhook` sources, and an EventBus's `pubsub` (any Dapr pub/sub
// component). Values only; thread-safe to share.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"

namespace ofn::api {

// A `sink` / `deadLetterSink`: a URI, or a reference to something
// addressable. Ofn resolves references to Functions (kind Function, or a
// Knative Service named after the function: OpenFunction's samples point at
// the Knative Service of a function, `<fn>-serving-<id>-ksvc...`).
struct SinkRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string ns;  // defaults to the referring object's namespace
};

struct Sink {
  std::string uri;
  std::optional<SinkRef> ref;
  bool empty() const { return uri.empty() && !ref; }
};

enum class SourceKind { kKafka, kCron, kRedis, kMqtt, kNats, kWebhook };
const char* SourceKindName(SourceKind kind);  // "kafka", ...

// One named event of an EventSource (`spec.kafka.<event>`, ...).
struct SourceEvent {
  std::string name;  // the event's name (its map key)
  SourceKind kind = SourceKind::kCron;
  std::string field;  // "spec.kafka[sample-one]", for messages
  // The Dapr component that reads it: an input binding (kafka, cron, mqtt)
  // or a pub/sub subscription of `topic` (redis: the stream named after the
  // event; nats: the subject). Empty for webhooks.
  std::string component_type;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string topic;
  // webhook: the HMAC-SHA256 key that signs the body (GitHub's
  // X-Hub-Signature-256: "sha256=<hex>"); empty: unsigned requests accepted.
  std::string secret;
  std::string signature_header = "X-Hub-Signature-256";

  // The component spec JSON ({type, version, metadata[{name, value}]}).
  std::string ComponentSpecJson() const;
};

struct EventSource {
  std::string name;
  std::string ns;
  std::string event_bus;  // empty: events go only to the sink
  Sink sink;
  std::vector<SourceEvent> events;
  std::map<std::string, std::string> annotations;
};

// The bus topic of a source's event: OpenFunction's "{namespace}-{eventSource}-{event}".
std::string EventTopic(const std::string& ns, const std::string& source, const std::string& event);

struct EventBus {
  std::string name;
  std::string ns;        // empty for a ClusterEventBus
  bool cluster = false;  // a ClusterEventBus
  // The pub/sub component that carries it; empty type: Ofn's embedded bus.
  std::string component_type;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string note;  // e.g. how natsStreaming was mapped, for status

  std::string ComponentSpecJson() const;
};

struct TriggerInput {
  std::string name;  // the key in spec.inputs (what conditions name)
  std::string ns;    // the EventSource's namespace (default: the Trigger's)
  std::string event_source;
  std::string event;
  std::string Topic() const { return EventTopic(ns, event_source, event); }
};

struct Subscriber {
  std::string condition;
  Sink sink;
  Sink dead_letter_sink;
  std::string topic;
  std::string dead_letter_topic;
};

struct Trigger {
  std::string name;
  std::string ns;
  std::string event_bus;
  std::vector<TriggerInput> inputs;  // ordered by name
  std::vector<Subscriber> subscribers;
  std::map<std::string, std::string> annotations;
};

// Each appends an error per semantic problem (with field and line); the
// value is complete only when none was appended.
EventSource DecodeEventSource(const Document& doc, std::vector<Diagnostic>* errors);
EventBus DecodeEventBus(const Document& doc, std::vector<Diagnostic>* errors);  // EventBus or ClusterEventBus
Trigger DecodeTrigger(const Document& doc, std::vector<Diagnostic>* errors);

}  // namespace ofn::api

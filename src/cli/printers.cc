#include "cli/printers.h"

#include "cli/command.h"
#include "cli/table.h"

namespace ofn::cli {

std::string PreferredAddress(const json& obj) {
  const json* addresses = Find(obj, {"status", "addresses"});
  if (!addresses || !addresses->is_array() || addresses->empty()) return "";
  for (const json& a : *addresses) {
    if (Str(a, {"type"}) == "Internal") return Str(a, {"value"});
  }
  return Str((*addresses)[0], {"value"});
}

namespace {

// The spec keys of an EventSource that hold events (event name -> settings).
bool IsSourceKind(std::string_view key) {
  for (std::string_view k : {"cron", "kafka", "mqtt", "nats", "redis", "webhook"}) {
    if (key == k) return true;
  }
  return false;
}

// OpenFunction's STATUS column: the type of the last condition.
std::string LastConditionType(const json& obj) {
  const json* conditions = Find(obj, {"status", "conditions"});
  if (!conditions || !conditions->is_array() || conditions->empty()) return "";
  return Str(conditions->back(), {"type"});
}

std::string SinkCell(const json& obj) {
  if (std::string ref = Str(obj, {"spec", "sink", "ref", "name"}); !ref.empty()) return ref;
  return Str(obj, {"spec", "sink", "uri"});
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

// "kafka/sample-one,webhook/push": kinds and names in the spec's (sorted) order.
std::string SourceEvents(const json& obj) {
  std::vector<std::string> events;
  const json* spec = Find(obj, {"spec"});
  if (!spec || !spec->is_object()) return "";
  for (const auto& [kind, entries] : spec->items()) {
    if (!IsSourceKind(kind) || !entries.is_object()) continue;
    for (const auto& [name, settings] : entries.items()) events.push_back(kind + "/" + name);
  }
  return Joined(events);
}

std::string BusBackend(const json& obj) {
  if (Find(obj, {"spec", "natsStreaming"})) return "pubsub.jetstream (natsStreaming)";
  if (std::string type = Str(obj, {"spec", "pubsub", "type"}); !type.empty()) return type;
  return "pubsub.ofn (embedded)";
}

}  // namespace

std::string RenderTable(const std::vector<json>& items, const TableOptions& options, SysTime now) {
  if (items.empty()) return "";
  const std::string kind = Str(items[0], {"kind"});
  std::vector<std::string> headers;
  if (options.all_namespaces) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  if (kind == "Function") {
    for (const char* h : {"BUILDSTATE", "SERVINGSTATE", "BUILDER", "SERVING", "URL", "AGE"}) headers.push_back(h);
    if (options.wide) {
      headers.push_back("REPLICAS");
      headers.push_back("READY");
    }
  } else if (kind == "Gateway") {
    for (const char* h : {"DOMAIN", "HOSTTEMPLATE", "PATHTEMPLATE", "AGE"}) headers.push_back(h);
  } else if (kind == "EventSource") {
    for (const char* h : {"EVENTBUS", "SINK", "STATUS", "AGE"}) headers.push_back(h);
    if (options.wide) {
      headers.push_back("EVENTS");
      headers.push_back("TOPICS");
    }
  } else if (kind == "Trigger") {
    for (const char* h : {"EVENTBUS", "STATUS", "AGE"}) headers.push_back(h);
    if (options.wide) {
      headers.push_back("INPUTS");
      headers.push_back("SUBSCRIBERS");
    }
  } else if (kind == "EventBus" || kind == "ClusterEventBus") {
    headers.push_back("BACKEND");
    headers.push_back("AGE");
  } else {
    headers.push_back("AGE");
  }
  Table table(headers);
  for (const json& obj : items) {
    std::vector<std::string> row;
    if (options.all_namespaces) row.push_back(Str(obj, {"metadata", "namespace"}));
    row.push_back(options.kind_prefix ? ObjectName(obj) : Str(obj, {"metadata", "name"}));
    const std::string age = AgeSince(Str(obj, {"metadata", "creationTimestamp"}), now);
    if (kind == "Function") {
      row.push_back(Str(obj, {"status", "build", "state"}));
      row.push_back(Str(obj, {"status", "serving", "state"}));
      row.push_back(Str(obj, {"status", "build", "resourceRef"}));
      row.push_back(Str(obj, {"status", "serving", "resourceRef"}));
      row.push_back(PreferredAddress(obj));
      row.push_back(age);
      if (options.wide) {
        row.push_back(Str(obj, {"status", "serving", "replicas"}));
        row.push_back(Str(obj, {"status", "serving", "readyReplicas"}));
      }
    } else if (kind == "Gateway") {
      row.push_back(Str(obj, {"spec", "domain"}));
      row.push_back(Str(obj, {"spec", "hostTemplate"}));
      row.push_back(Str(obj, {"spec", "pathTemplate"}));
      row.push_back(age);
    } else if (kind == "EventSource") {
      row.push_back(Str(obj, {"spec", "eventBus"}));
      row.push_back(SinkCell(obj));
      row.push_back(LastConditionType(obj));
      row.push_back(age);
      if (options.wide) {
        row.push_back(SourceEvents(obj));
        std::vector<std::string> topics;
        if (const json* t = Find(obj, {"status", "topics"}); t && t->is_array()) {
          for (const json& topic : *t) topics.push_back(topic.is_string() ? topic.get<std::string>() : topic.dump());
        }
        row.push_back(Joined(topics));
      }
    } else if (kind == "Trigger") {
      row.push_back(Str(obj, {"spec", "eventBus"}));
      row.push_back(LastConditionType(obj));
      row.push_back(age);
      if (options.wide) {
        std::vector<std::string> inputs;
        if (const json* in = Find(obj, {"spec", "inputs"}); in && in->is_object()) {
          for (const auto& [name, input] : in->items()) inputs.push_back(name);
        }
        row.push_back(Joined(inputs));
        const json* subs = Find(obj, {"spec", "subscribers"});
        row.push_back(std::to_string(subs && subs->is_array() ? subs->size() : 0));
      }
    } else if (kind == "EventBus" || kind == "ClusterEventBus") {
      row.push_back(BusBackend(obj));
      row.push_back(age);
    } else {
      row.push_back(age);
    }
    table.AddRow(std::move(row));
  }
  return table.Render();
}

}  // namespace ofn::cli

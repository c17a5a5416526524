#include "api/acted_on.h"

#include <map>
#include <memory>

namespace ofn::api {
namespace {

using nlohmann::json;

const std::vector<std::string> kMetadata = {
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.annotations",
};

std::vector<std::string> WithMetadata(std::vector<std::string> fields) {
  fields.insert(fields.begin(), kMetadata.begin(), kMetadata.end());
  return fields;
}

// core.openfunction.io Function, in its stored version (v1beta2): what the
// controller, the process runtime (FUNC_CONTEXT and the environment), the
// gateway and the autoscaler read. Builds are read by the builder, which
// reports in status what it cannot do yet.
const std::vector<std::string>& FunctionFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.version",
      "spec.image",
      "spec.imageCredentials",
      "spec.build",
      "spec.serving.triggers.http.port",
      "spec.serving.triggers.http.route.hostnames",
      "spec.serving.triggers.http.route.gatewayRef",
      "spec.serving.triggers.http.route.rules[*].matches",
      "spec.serving.triggers.dapr[*].name",
      "spec.serving.triggers.dapr[*].type",
      "spec.serving.triggers.dapr[*].topic",
      "spec.serving.triggers.dapr[*].inputName",
      "spec.serving.outputs[*].dapr",
      "spec.serving.bindings",
      "spec.serving.pubsub",
      "spec.serving.states",
      "spec.serving.scaleOptions.minReplicas",
      "spec.serving.scaleOptions.maxReplicas",
      "spec.serving.scaleOptions.knative",
      "spec.serving.scaleOptions.keda",
      "spec.serving.hooks",
      "spec.serving.params",
      "spec.serving.timeout",
      "spec.serving.annotations",
      "spec.serving.labels",
      "spec.serving.template.containers[name=function].name",
      "spec.serving.template.containers[name=function].command",
      "spec.serving.template.containers[name=function].args",
      "spec.serving.template.containers[name=function].env[*].name",
      "spec.serving.template.containers[name=function].env[*].value",
      "spec.serving.template.containers[name=function].workingDir",
      "spec.serving.template.containers[name=function].resources.limits",
      "spec.serving.template.containers[name=function].resources.requests",
  });
  return fields;
}

const std::vector<std::string>& GatewayFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.domain",
      "spec.clusterDomain",
      "spec.hostTemplate",
      "spec.pathTemplate",
  });
  return fields;
}

// dapr.io Component: `ofn server`'s component host creates the backend its
// type names from its metadata (initTimeout, ignoreErrors, auth and scopes
// are not acted on).
const std::vector<std::string>& ComponentFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.type",
      "spec.version",
      "spec.metadata",
  });
  return fields;
}

// events.openfunction.io: the events engine (src/events). Kafka's
// scaleOption is KEDA's business on Kubernetes; the sources run in-process
// here. TLS material (mqtt caCert, ...) is handed to the component, which
// refuses it (no broker TLS yet).
const std::vector<std::string>& EventSourceFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.eventBus",
      "spec.sink",
      "spec.kafka.*.brokers",
      "spec.kafka.*.topic",
      "spec.kafka.*.authRequired",
      "spec.kafka.*.saslUsername",
      "spec.kafka.*.saslPassword",
      "spec.kafka.*.maxMessageBytes",
      "spec.cron",
      "spec.redis",
      "spec.mqtt",
      "spec.nats",
      "spec.webhook",
  });
  return fields;
}

const std::vector<std::string>& EventBusFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.natsStreaming.natsURL",
      "spec.natsStreaming.deliverAll",
      "spec.natsStreaming.deliverNew",
      "spec.natsStreaming.ackWaitTime",
      "spec.pubsub",
  });
  return fields;
}

const std::vector<std::string>& TriggerFields() {
  static const std::vector<std::string> fields = WithMetadata({
      "spec.eventBus",
      "spec.inputs",
      "spec.subscribers",
  });
  return fields;
}

// One step of a pattern.
struct Step {
  enum class Kind { kField, kAnyKey, kAnyItem, kItemNamed } kind;
  std::string text;  // field name, or the name for kItemNamed
};

struct Trie {
  std::vector<std::pair<Step, std::unique_ptr<Trie>>> children;
  bool terminal = false;  // a pattern ends here: the whole subtree is acted on
};

std::vector<Step> ParsePattern(std::string_view p) {
  std::vector<Step> steps;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
    } else if (p[i] == '[') {
      std::size_t close = p.find(']', i);
      std::string_view inner = p.substr(i + 1, close - i - 1);
      if (inner == "*") {
        steps.push_back({Step::Kind::kAnyItem, ""});
      } else {
        steps.push_back({Step::Kind::kItemNamed, std::string(inner.substr(inner.find('=') + 1))});
      }
      i = close + 1;
    } else {
      std::size_t end = p.find_first_of(".[", i);
      std::string_view name = p.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
      steps.push_back({name == "*" ? Step::Kind::kAnyKey : Step::Kind::kField, std::string(name)});
      i = end == std::string_view::npos ? p.size() : end;
    }
  }
  return steps;
}

std::unique_ptr<Trie> BuildTrie(const std::vector<std::string>& patterns) {
  auto root = std::make_unique<Trie>();
  for (const std::string& p : patterns) {
    Trie* t = root.get();
    for (const Step& s : ParsePattern(p)) {
      Trie* next = nullptr;
      for (auto& [step, child] : t->children) {
        if (step.kind == s.kind && step.text == s.text) next = child.get();
      }
      if (next == nullptr) {
        t->children.emplace_back(s, std::make_unique<Trie>());
        next = t->children.back().second.get();
      }
      t = next;
    }
    t->terminal = true;
  }
  return root;
}

const Trie& TrieFor(std::string_view group, std::string_view kind) {
  static const auto* tries = [] {
    auto* m = new std::map<std::pair<std::string, std::string>, std::unique_ptr<Trie>>();
    for (auto [g, k] : {std::pair{"core.openfunction.io", "Function"},
                        std::pair{"networking.openfunction.io", "Gateway"}, std::pair{"dapr.io", "Component"},
                        std::pair{"events.openfunction.io", "EventSource"},
                        std::pair{"events.openfunction.io", "EventBus"},
                        std::pair{"events.openfunction.io", "ClusterEventBus"},
                        std::pair{"events.openfunction.io", "Trigger"},
                        std::pair{"", ""}}) {
      (*m)[{g, k}] = BuildTrie(ActedOnPatterns(g, k));
    }
    return m;
  }();
  auto it = tries->find({std::string(group), std::string(kind)});
  if (it == tries->end()) it = tries->find({"", ""});
  return *it->second;
}

// The child of t that `key` (of `container`) follows, or nullptr.
const Trie* Follow(const Trie& t, const json& container, const std::string& key, std::size_t index) {
  for (const auto& [step, child] : t.children) {
    switch (step.kind) {
      case Step::Kind::kField:
        if (container.is_object() && step.text == key) return child.get();
        break;
      case Step::Kind::kAnyKey:
        if (container.is_object()) return child.get();
        break;
      case Step::Kind::kAnyItem:
        if (container.is_array()) return child.get();
        break;
      case Step::Kind::kItemNamed:
        if (container.is_array()) {
          const json& item = container[index];
          if (item.is_object() && item.value("name", json()) == step.text) return child.get();
        }
        break;
    }
  }
  return nullptr;
}

bool Skipped(const std::string& pointer, const std::vector<std::string>& skip) {
  for (const std::string& s : skip) {
    if (PointerHasPrefix(pointer, s)) return true;
  }
  return false;
}

void Walk(const Document& doc, const Trie& t, const json& v, const FieldPath& at, const std::vector<std::string>& skip,
          std::vector<Diagnostic>* out) {
  if (t.terminal) return;
  auto visit = [&](const json& child, const FieldPath& child_at, const std::string& key, std::size_t index) {
    if (child.is_null() || Skipped(child_at.pointer(), skip)) return;
    const Trie* next = Follow(t, v, key, index);
    if (next == nullptr) {
      out->push_back(doc.At(child_at, "kept, not acted on yet"));
    } else {
      Walk(doc, *next, child, child_at, skip, out);
    }
  };
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) visit(it.value(), at.Child(it.key()), it.key(), 0);
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) visit(v[i], at.Index(i), std::string(), i);
  }
}

}  // namespace

const std::vector<std::string>& ActedOnPatterns(std::string_view group, std::string_view kind) {
  if (group == "core.openfunction.io" && kind == "Function") return FunctionFields();
  if (group == "networking.openfunction.io" && kind == "Gateway") return GatewayFields();
  if (group == "dapr.io" && kind == "Component") return ComponentFields();
  if (group == "events.openfunction.io") {
    if (kind == "EventSource") return EventSourceFields();
    if (kind == "EventBus" || kind == "ClusterEventBus") return EventBusFields();
    if (kind == "Trigger") return TriggerFields();
  }
  return kMetadata;
}

bool IsActedOn(const Document& doc, std::string_view pointer) {
  const Trie* t = &TrieFor(doc.group(), doc.kind);
  const json* v = &doc.object;
  for (const std::string& token : SplitPointer(pointer)) {
    if (t->terminal) return true;
    std::size_t index = 0;
    const json* child = nullptr;
    if (v->is_array()) {
      if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos || token.size() > 9) return false;
      index = std::stoul(token);
      if (index >= v->size()) return false;
      child = &(*v)[index];
    } else if (v->is_object()) {
      auto it = v->find(token);
      if (it == v->end()) return false;
      child = &*it;
    } else {
      return false;
    }
    t = Follow(*t, *v, token, index);
    if (t == nullptr) return false;
    v = child;
  }
  return t->terminal;
}

void CollectNotActedOn(const Document& doc, const std::vector<std::string>& skip, std::vector<Diagnostic>* out) {
  if (!doc.object.is_object()) return;
  const Trie& root = TrieFor(doc.group(), doc.kind);
  for (const char* top : {"metadata", "spec"}) {
    auto it = doc.object.find(top);
    if (it == doc.object.end() || it->is_null()) continue;
    FieldPath at = FieldPath().Child(top);
    if (Skipped(at.pointer(), skip)) continue;
    const Trie* t = Follow(root, doc.object, top, 0);
    if (t == nullptr) {
      out->push_back(doc.At(at, "kept, not acted on yet"));
    } else {
      Walk(doc, *t, *it, at, skip, out);
    }
  }
}

}  // namespace ofn::api

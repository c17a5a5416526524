#include "api/kinds.h"

#include "common/encoding.h"

namespace ofn::api {

std::string KindName::Qualified() const {
  std::string s(singular);
  if (!group.empty()) s += "." + std::string(group);
  return s;
}

std::string KindName::ApiVersion() const {
  return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
}

const std::vector<KindName>& KnownKinds() {
  // Short names as in OpenFunction's CRDs (specs/openfunction-crds), plus "gw"
  // which the server also accepts.
  static const std::vector<KindName> kinds = {
      {"Function", "core.openfunction.io", "v1beta2", "function", "functions", {"fn"}, true},
      {"Gateway", "networking.openfunction.io", "v1alpha1", "gateway", "gateways", {"gw"}, true},
      {"Component", "dapr.io", "v1alpha1", "component", "components", {}, true},
      {"EventSource", "events.openfunction.io", "v1alpha1", "eventsource", "eventsources", {"es"}, true},
      {"EventBus", "events.openfunction.io", "v1alpha1", "eventbus", "eventbuses", {"eb"}, true},
      {"ClusterEventBus", "events.openfunction.io", "v1alpha1", "clustereventbus", "clustereventbuses", {"ceb"},
       false},
      {"Trigger", "events.openfunction.io", "v1alpha1", "trigger", "triggers", {}, true},
  };
  return kinds;
}

const KindName* LookupKind(std::string_view name) {
  std::string n = enc::ToLower(name);
  for (const KindName& k : KnownKinds()) {
    std::string qualified_suffix = "." + std::string(k.group);
    std::string base = n;
    // "functions.core.openfunction.io" and "function.core.openfunction.io" too.
    if (base.size() > qualified_suffix.size() &&
        base.compare(base.size() - qualified_suffix.size(), qualified_suffix.size(), qualified_suffix) == 0) {
      base.resize(base.size() - qualified_suffix.size());
    }
    if (base == enc::ToLower(k.kind) || base == k.singular || base == k.plural) return &k;
    for (std::string_view s : k.short_names) {
      if (base == s) return &k;
    }
  }
  return nullptr;
}

std::string QualifiedResource(std::string_view api_version, std::string_view kind) {
  std::string s = enc::ToLower(kind);
  size_t slash = api_version.find('/');
  if (slash != std::string_view::npos) s += "." + std::string(api_version.substr(0, slash));
  return s;
}

}  // namespace ofn::api

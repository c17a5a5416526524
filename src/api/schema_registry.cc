#include "api/schema_registry.h"

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <tuple>

#include "api/embedded_crd_schemas.h"
#include "api/ofn_extensions.h"
#include "api/schema.h"

namespace ofn::api {
namespace {

struct VersionEntry {
  nlohmann::json schema;
  std::once_flag once;
  std::unique_ptr<Schema> compiled;
};

struct Registry {
  std::string source;
  std::vector<KindInfo> kinds;
  // (group, kind, version) -> schema
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<VersionEntry>, std::less<>> versions;
};

const Registry& Get() {
  // Function-local static: initialized once, thread-safely, on first use.
  static const Registry* registry = [] {
    auto* r = new Registry();  // never freed: pointers into it are handed out
    nlohmann::json bundle = nlohmann::json::parse(EmbeddedCrdSchemas(), nullptr, /*allow_exceptions=*/false);
    if (!bundle.is_object()) return r;  // a broken build; tests catch it
    r->source = bundle.value("source", "");
    for (const auto& k : bundle.value("kinds", nlohmann::json::array())) {
      KindInfo info;
      info.group = k.value("group", "");
      info.kind = k.value("kind", "");
      info.plural = k.value("plural", "");
      info.namespaced = k.value("namespaced", true);
      info.storage_version = k.value("storage", "");
      const nlohmann::json versions = k.value("versions", nlohmann::json::object());
      for (const auto& [version, schema] : versions.items()) {
        info.versions.push_back(version);
        auto entry = std::make_unique<VersionEntry>();
        entry->schema = schema;
        for (const SchemaExtension& x : OfnSchemaExtensions()) {
          if (x.group != info.group || x.kind != info.kind) continue;
          entry->schema["properties"]["spec"]["properties"][std::string(x.field)] = nlohmann::json::parse(x.schema);
        }
        r->versions.emplace(std::make_tuple(info.group, info.kind, version), std::move(entry));
      }
      r->kinds.push_back(std::move(info));
    }
    return r;
  }();
  return *registry;
}

VersionEntry* FindEntry(std::string_view group, std::string_view version, std::string_view kind) {
  const Registry& r = Get();
  auto it = r.versions.find(std::make_tuple(std::string(group), std::string(kind), std::string(version)));
  return it == r.versions.end() ? nullptr : it->second.get();
}

}  // namespace

const std::vector<KindInfo>& Kinds() { return Get().kinds; }

const KindInfo* FindKind(std::string_view group, std::string_view kind) {
  for (const KindInfo& k : Get().kinds) {
    if (k.group == group && k.kind == kind) return &k;
  }
  return nullptr;
}

const Schema* FindSchema(std::string_view group, std::string_view version, std::string_view kind) {
  VersionEntry* e = FindEntry(group, version, kind);
  if (e == nullptr) return nullptr;
  std::call_once(e->once, [e] {
    auto compiled = Schema::Compile(e->schema);
    if (compiled.ok()) e->compiled = std::move(compiled).value();
  });
  return e->compiled.get();
}

const nlohmann::json* FindSchemaJson(std::string_view group, std::string_view version, std::string_view kind) {
  VersionEntry* e = FindEntry(group, version, kind);
  return e == nullptr ? nullptr : &e->schema;
}

const std::string& SchemaSource() { return Get().source; }

}  // namespace ofn::api

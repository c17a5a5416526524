#include "components/component.h"

#include <functional>
#include <nlohmann/json.hpp>

#include "common/uuid.h"

namespace ofn::components {

namespace {

using Json = nlohmann::json;

// Dapr's load-time template tags ({podName} and {namespace} have no meaning
// on one machine without pods; {namespace} is Dapr's "<ns>.<appid>").
std::string ExpandTags(std::string value, const std::string& ns, const std::string& app_id) {
  auto replace_all = [&](std::string_view tag, const std::function<std::string()>& with) {
    size_t pos = 0;
    while ((pos = value.find(tag, pos)) != std::string::npos) {
      std::string w = with();
      value.replace(pos, tag.size(), w);
      pos += w.size();
    }
  };
  replace_all("{uuid}", [] { return NewUuid(); });
  replace_all("{appID}", [&] { return app_id; });
  replace_all("{namespace}", [&] { return ns + "." + app_id; });
  replace_all("{podName}", [&] { return app_id; });
  return value;
}

}  // namespace

Result<ComponentSpec> ParseComponentSpec(std::string_view spec_json, std::string name, std::string ns,
                                         std::string app_id) {
  Json spec = Json::parse(spec_json.empty() ? std::string_view("{}") : spec_json, nullptr, false);
  std::string who = "component " + name;
  if (!spec.is_object()) return Status::InvalidArgument(who + ": spec is not an object");
  ComponentSpec out;
  out.name = std::move(name);
  out.ns = ns.empty() ? "default" : std::move(ns);
  out.app_id = std::move(app_id);
  if (!spec.contains("type") || !spec["type"].is_string() || spec["type"].get<std::string>().empty())
    return Status::InvalidArgument(who + ": spec.type is required (e.g. pubsub.redis)");
  out.type = spec["type"].get<std::string>();
  if (spec.contains("version") && spec["version"].is_string()) out.version = spec["version"].get<std::string>();
  if (spec.contains("metadata") && !spec["metadata"].is_null()) {
    const Json& list = spec["metadata"];
    if (!list.is_array()) return Status::InvalidArgument(who + ": spec.metadata must be a list of {name, value}");
    for (size_t i = 0; i < list.size(); ++i) {
      const Json& item = list[i];
      std::string where = who + ": spec.metadata[" + std::to_string(i) + "]";
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string())
        return Status::InvalidArgument(where + ": name is required");
      std::string key = item["name"].get<std::string>();
      if (out.metadata.Has(key))
        return Status::InvalidArgument(where + ": duplicate metadata name " + key +
                                       " (names match case-insensitively)");
      auto value = item.find("value");
      if (value == item.end() || value->is_null()) {
        auto ref = item.find("secretKeyRef");
        bool ref_used = ref != item.end() && ref->is_object() && !ref->value("name", std::string()).empty();
        if (ref_used || item.contains("envRef"))
          return Status::Unimplemented(where + " (" + key +
                                       "): secretKeyRef and envRef are not supported yet; give a value");
        return Status::InvalidArgument(where + " (" + key + "): value is required");
      }
      std::string text;
      if (value->is_string()) {
        text = value->get<std::string>();
      } else if (value->is_boolean() || value->is_number()) {
        text = value->dump();
      } else {
        return Status::InvalidArgument(where + " (" + key + "): value must be a string, number or boolean");
      }
      out.metadata.Set(std::move(key), ExpandTags(std::move(text), out.ns, out.app_id));
    }
  }
  return out;
}

}  // namespace ofn::components

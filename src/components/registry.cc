#include "components/registry.h"

namespace ofn::components {

void Registry::Add(std::string type, Factory factory) { factories_[std::move(type)] = std::move(factory); }

bool Registry::Knows(std::string_view type) const { return factories_.find(type) != factories_.end(); }

std::vector<std::string> Registry::Types() const {
  std::vector<std::string> out;
  for (const auto& [type, f] : factories_) out.push_back(type);
  return out;
}

Result<Component> Registry::Create(const ComponentSpec& spec) const {
  auto it = factories_.find(spec.type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, f] : factories_) known += (known.empty() ? "" : ", ") + type;
    return Status::NotFound("component " + spec.name + ": unknown type " + spec.type + " (known: " + known + ")");
  }
  auto made = it->second(spec);
  if (!made.ok()) {
    return Status(made.status().code(), spec.Describe() + ": " + made.status().message());
  }
  return made;
}

}  // namespace ofn::components

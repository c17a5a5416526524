#include "build/descriptor.h"

namespace ofn::build {

nlohmann::json DescriptorToJson(const Descriptor& d) {
  nlohmann::json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = {{"architecture", d.platform->architecture}, {"os", d.platform->os}};
  return j;
}

Result<Descriptor> DescriptorFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("descriptor: not an object");
  auto media = j.find("mediaType");
  auto digest = j.find("digest");
  auto size = j.find("size");
  if (media == j.end() || !media->is_string()) return Status::InvalidArgument("descriptor: no mediaType");
  if (digest == j.end() || !digest->is_string()) return Status::InvalidArgument("descriptor: no digest");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Status::InvalidArgument("descriptor: no valid size");
  }
  auto parsed = Digest::Parse(digest->get<std::string>());
  if (!parsed.ok()) return parsed.status();
  Descriptor d{media->get<std::string>(), std::move(*parsed), size->get<int64_t>(), {}, std::nullopt};
  if (auto a = j.find("annotations"); a != j.end()) {
    if (!a->is_object()) return Status::InvalidArgument("descriptor: annotations is not an object");
    for (const auto& [k, v] : a->items()) {
      if (!v.is_string()) return Status::InvalidArgument("descriptor: annotation " + k + " is not a string");
      d.annotations[k] = v.get<std::string>();
    }
  }
  if (auto p = j.find("platform"); p != j.end()) {
    if (!p->is_object()) return Status::InvalidArgument("descriptor: platform is not an object");
    Platform pl;
    if (auto a = p->find("architecture"); a != p->end() && a->is_string()) pl.architecture = a->get<std::string>();
    if (auto o = p->find("os"); o != p->end() && o->is_string()) pl.os = o->get<std::string>();
    d.platform = std::move(pl);
  }
  return d;
}

}  // namespace ofn::build

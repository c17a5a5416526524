#include "build/image.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace ofn::build {

namespace {

using nlohmann::json;

// "8080" -> "8080/tcp"; the protocol must be tcp, udp or sctp.
Result<std::string> NormalizePort(const std::string& port) {
  std::string_view number = port;
  std::string_view proto = "tcp";
  if (auto slash = port.find('/'); slash != std::string::npos) {
    number = std::string_view(port).substr(0, slash);
    proto = std::string_view(port).substr(slash + 1);
  }
  int value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || value < 1 || value > 65535) {
    return Status::InvalidArgument("image: bad exposed port \"" + port + "\"");
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    return Status::InvalidArgument("image: bad protocol in exposed port \"" + port + "\"");
  }
  return std::to_string(value) + "/" + std::string(proto);
}

Result<std::string> Dump(const json& j, const char* what) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("image: ") + what + ": " + e.what());
  }
}

}  // namespace

std::string HostArchitecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
#error "unknown architecture: add its Go name (GOARCH) here"
#endif
}

Result<std::string> ImageConfigJson(const std::vector<Layer>& layers, const ImageConfig& config) {
  // Go's omitempty: absent rather than empty, as other tools write it.
  json exec = json::object();
  if (!config.entrypoint.empty()) exec["Entrypoint"] = config.entrypoint;
  if (!config.cmd.empty()) exec["Cmd"] = config.cmd;
  for (const auto& e : config.env) {
    if (e.empty() || e.front() == '=' || e.find('=') == std::string::npos) {
      return Status::InvalidArgument("image: env entry \"" + e + "\" is not KEY=VALUE");
    }
  }
  if (!config.env.empty()) exec["Env"] = config.env;
  if (!config.working_dir.empty()) exec["WorkingDir"] = config.working_dir;
  if (!config.user.empty()) exec["User"] = config.user;
  if (!config.exposed_ports.empty()) {
    json ports = json::object();
    for (const auto& p : config.exposed_ports) {
      auto n = NormalizePort(p);
      if (!n.ok()) return n.status();
      ports[*n] = json::object();
    }
    exec["ExposedPorts"] = std::move(ports);
  }
  for (const auto& [k, v] : config.labels) {
    if (k.empty()) return Status::InvalidArgument("image: empty label key");
  }
  if (!config.labels.empty()) exec["Labels"] = config.labels;

  json diff_ids = json::array();
  json history = json::array();
  for (const auto& l : layers) {
    diff_ids.push_back(l.diff_id.str());
    json h = {{"created", config.created}};
    if (!l.created_by.empty()) h["created_by"] = l.created_by;
    history.push_back(std::move(h));
  }
  json doc = {
      {"architecture", config.architecture.empty() ? HostArchitecture() : config.architecture},
      {"os", config.os},
      {"created", config.created},
      {"config", std::move(exec)},
      {"rootfs", {{"type", "layers"}, {"diff_ids", std::move(diff_ids)}}},
      {"history", std::move(history)},
  };
  return Dump(doc, "config");
}

Result<Descriptor> WriteImage(OciLayout& layout, const std::vector<Layer>& layers, const ImageConfig& config,
                              std::string_view tag) {
  if (!ValidTagName(tag)) return Status::InvalidArgument("image: invalid tag \"" + std::string(tag) + "\"");
  for (const auto& l : layers) {
    if (!layout.HasBlob(l.blob.digest)) {
      return Status::FailedPrecondition("image: layer " + l.blob.digest.str() + " is not in " + layout.dir());
    }
  }
  auto config_text = ImageConfigJson(layers, config);
  if (!config_text.ok()) return config_text.status();
  auto config_digest = layout.PutBlob(*config_text);
  if (!config_digest.ok()) return config_digest.status();

  json layer_descs = json::array();
  for (const auto& l : layers) layer_descs.push_back(DescriptorToJson(l.blob));
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", kMediaTypeManifest},
      {"config", DescriptorToJson(Descriptor{kMediaTypeConfig, *config_digest,
                                             static_cast<int64_t>(config_text->size()), {}, std::nullopt})},
      {"layers", std::move(layer_descs)},
  };
  auto manifest_text = Dump(manifest, "manifest");
  if (!manifest_text.ok()) return manifest_text.status();
  auto manifest_digest = layout.PutBlob(*manifest_text);
  if (!manifest_digest.ok()) return manifest_digest.status();

  Descriptor desc{kMediaTypeManifest, *manifest_digest, static_cast<int64_t>(manifest_text->size()), {},
                  Platform{config.architecture.empty() ? HostArchitecture() : config.architecture, config.os}};
  return layout.Tag(tag, desc);
}

}  // namespace ofn::build

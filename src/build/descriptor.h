// Descriptor: what the OCI image spec calls a content descriptor — the media
// type, digest and size of a blob, with optional annotations and platform —
// and the media types Ofn writes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "build/digest.h"
#include "ofn/status.h"

namespace ofn::build {

inline constexpr char kMediaTypeIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kMediaTypeManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kMediaTypeConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kMediaTypeLayerGzip[] = "application/vnd.oci.image.layer.v1.tar+gzip";
// The annotation that names a manifest in an image layout's index.json.
inline constexpr char kAnnotationRefName[] = "org.opencontainers.image.ref.name";

struct Platform {
  std::string architecture;  // Go's names: amd64, arm64, ...
  std::string os;            // linux
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;  // omitted when empty
  std::optional<Platform> platform;
};

// {"mediaType", "digest", "size", "annotations"?, "platform"?}.
nlohmann::json DescriptorToJson(const Descriptor& d);
// Strict: the digest must parse and size be a non-negative integer.
Result<Descriptor> DescriptorFromJson(const nlohmann::json& j);

}  // namespace ofn::build

// Image: writes an OCI image — config blob, manifest blob, tag — into an
// OciLayout from layers already there (layer.h) and an ImageConfig.
//
// The config and manifest are JSON with sorted keys and no whitespace
// (nlohmann's dump), every time in the config comes from ImageConfig.created
// (default the epoch), and nothing reads the clock or the environment beyond
// the architecture: the same layers and config give the same manifest digest
// on every run and machine of one architecture.
//
// Thread-safety: WriteImage may run concurrently (see oci_layout.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "build/descriptor.h"
#include "build/layer.h"
#include "build/oci_layout.h"
#include "ofn/status.h"

namespace ofn::build {

struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;             // "KEY=VALUE"
  std::string working_dir;
  std::string user;
  std::vector<std::string> exposed_ports;   // "8080" (means 8080/tcp), "8080/tcp", "53/udp"
  std::map<std::string, std::string> labels;
  std::string created = "1970-01-01T00:00:00Z";  // RFC 3339
  std::string architecture;                 // empty: this machine's (HostArchitecture)
  std::string os = "linux";
};

// Go's name for the architecture Ofn was built for: "amd64", "arm64", ...
std::string HostArchitecture();

// The config JSON (application/vnd.oci.image.config.v1+json) for these
// layers; InvalidArgument for an env entry without '=', a bad port, or text
// that is not UTF-8.
Result<std::string> ImageConfigJson(const std::vector<Layer>& layers, const ImageConfig& config);

// Writes the config and manifest blobs and tags the manifest `tag`; returns
// the manifest's descriptor as stored in index.json. Every layer's blob must
// be in the layout already.
Result<Descriptor> WriteImage(OciLayout& layout, const std::vector<Layer>& layers, const ImageConfig& config,
                              std::string_view tag);

}  // namespace ofn::build

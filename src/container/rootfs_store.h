// RootfsStore: unpacked root file systems of OCI images, one per manifest
// digest, shared read-only by every container of that image.
//
// Unpack applies the image's layers in order into a temporary directory
// beside the store's entries, then renames it to `<dir>/<manifest hex>`, so
// `<dir>/<hex>/rootfs` either is complete or does not exist. An flock on
// `<dir>/<hex>.lock` makes concurrent callers (threads or processes) for the
// same digest unpack once: the others wait and reuse the result.
//
// Each layer's blob is hashed while it is read (the layer is applied as it
// streams) and must match its descriptor's digest and size, else the whole
// unpack fails. Layers are gzip'd or plain tar (tar_reader.h). OCI
// whiteouts are honoured (`.wh.<name>` removes <name> of the lower layers,
// `.wh..wh..opq` empties the directory of what lower layers put there);
// modes (incl. setuid), uid/gid, mtimes, symlinks and hardlinks are kept;
// device nodes are skipped (the runtime gives containers their /dev).
//
// Nothing is ever written outside the rootfs: a path with a ".."
// component is rejected, and every parent directory is opened component by
// component with O_NOFOLLOW from the rootfs's own descriptor, so a symlink
// (from any layer) is never followed on the way to an entry — an entry below
// a symlink is an error naming both. The final component is never followed
// either (O_EXCL / *at calls with AT_SYMLINK_NOFOLLOW).
//
// The mount points the OCI runtime needs (proc, sys, dev, tmp) are created
// in every rootfs, so a runtime never writes into a shared read-only rootfs.
//
// Thread-safety: all methods may be called from any thread; several
// processes may share a store directory.
#pragma once

#include <string>
#include <vector>

#include "build/descriptor.h"
#include "build/oci_layout.h"
#include "ofn/status.h"

namespace ofn::container {

// What the runtime needs from the image config (`config` of the config blob).
struct ImageRunConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;            // "KEY=VALUE"
  std::string working_dir;
  std::string user;                        // "", "uid", "uid:gid", "name", "name:group"
  std::vector<std::string> exposed_ports;  // keys of ExposedPorts, e.g. "8080/tcp"
};

// Parses an image config blob (application/vnd.oci.image.config.v1+json).
Result<ImageRunConfig> ParseImageRunConfig(const std::string& config_json);

struct Rootfs {
  std::string path;       // <dir>/<hex>/rootfs
  ImageRunConfig config;
  bool unpacked = false;  // this call did the unpacking (false: it was there already)
};

class RootfsStore {
 public:
  explicit RootfsStore(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // The rootfs of the image whose manifest is `manifest` (in `layout`).
  // Errors: NotFound (a blob is missing), InvalidArgument (a malformed
  // manifest or config, an unsupported layer media type, an unsafe or
  // malformed layer entry — the message names the layer and the entry),
  // DataLoss-like Internal (a layer that does not match its digest).
  Result<Rootfs> Unpack(const build::OciLayout& layout, const build::Descriptor& manifest);

  // Removes the rootfs of a manifest digest (no-op when absent). The caller
  // makes sure no container uses it.
  Status Remove(const build::Digest& manifest);

 private:
  std::string dir_;
};

}  // namespace ofn::container

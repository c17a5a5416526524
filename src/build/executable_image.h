// ExecutableImage: an OCI image from a prebuilt ELF executable — the
// "prebuilt executable" build strategy, and the last step of the compiled
// ones.
//
// Two layers, the one that changes least first so registries and caches
// share it between apps built on the same machine:
//   1. the shared-library closure (elf_closure.h: the loader, libraries and
//      their symlinks at the paths where they were found), /etc/passwd and
//      /etc/group naming root and the non-root user `app` (65532:65532), and
//      an empty /tmp with mode 1777;
//   2. the app: the executable (default /app/<name>, mode 0755) and the
//      extra files and trees.
// With executable_in_base the executable goes into layer 1 instead: it is
// then a runtime (node) that apps share, with base_files (what it reads
// besides its libraries), and layer 2 holds only the app.
// Config: entrypoint (default the executable), env PATH=/usr/local/bin:
// /usr/bin:/bin, LD_LIBRARY_PATH when libraries came from ld.so.conf
// directories the loader does not search by itself (an image has no
// ld.so.cache), then the spec's (a spec PATH or LD_LIBRARY_PATH replaces
// ours), user 65532:65532,
// working dir /app, the exposed port and labels.
//
// Nothing reads the clock or the environment: the same executable, closure
// and spec give the same manifest digest.
//
// Thread-safety: WriteExecutableImage may run concurrently (see layer.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "build/descriptor.h"
#include "build/elf_closure.h"
#include "build/layer.h"
#include "build/oci_layout.h"
#include "ofn/status.h"

namespace ofn::build {

inline constexpr uint32_t kAppUid = 65532;

struct ExecutableImageSpec {
  std::string executable;                     // host path of the ELF executable
  std::string image_path;                     // empty: /app/<basename of executable>
  std::vector<LayerEntry> extra_files;        // into the app layer
  std::vector<LayerTree> extra_trees;         // host directories into the app layer
  bool executable_in_base = false;            // the executable is a runtime: into layer 1
  std::vector<LayerEntry> base_files;         // into layer 1
  std::vector<std::string> env;               // "KEY=VALUE", after PATH
  std::map<std::string, std::string> labels;  // e.g. org.opencontainers.image.revision
  std::string exposed_port;                   // "8080", "8080/tcp"; empty: none
  std::vector<std::string> entrypoint;        // empty: {image_path}
  std::vector<std::string> cmd;
  ClosureOptions closure;                     // executable_image_path is set from image_path
  int gzip_level = 6;
};

// Writes both layers, the config and the manifest into `layout` and tags it.
// Errors name the file at fault: a missing library (NotFound), an executable
// that is not ELF64 x86-64/aarch64 (InvalidArgument), a bad env entry or port.
Result<Descriptor> WriteExecutableImage(OciLayout& layout, const ExecutableImageSpec& spec, std::string_view tag);

}  // namespace ofn::build

// Builder: a function's source to an OCI image in a local layout — fetch
// (source.h), choose a strategy (strategy.h), build, tag — with a content
// cache, a build log, a deadline and cancellation.
//
// Cache: the key is sha256 over the strategy, a format version, the build
// env, the source revision, the SDK's identity (path, size and mtime of every
// file under the prefix), the identity of the compilers and build tools, and
// every file of the context (path, type, mode, content hash). When the layout
// has an image tagged "ofn-cache-<key hex>", it is tagged with the request's
// image and returned (cached = true) without running any tool; otherwise the
// build tags both. Not in the key: the host's shared libraries copied into
// the image (an upgrade of libstdc++ keeps serving the cached image).
//
// Log lines: "[build] fetching source", "[build] strategy cpp (CMakeLists.txt)",
// "[build] compiling", "[build] image sha256:... (N layers, M bytes)" (or
// "[build] cached image ..." / "[build] failed: ..."), tool output between.
//
// The work directory (work_root/ofn-build-XXXXXX) is removed when the build
// ends, whatever the outcome: the log keeps what happened.
//
// Thread-safety: Build may run concurrently from several threads (separate
// work dirs; the layout is multi-writer safe); cancel from any thread.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "build/descriptor.h"
#include "build/oci_layout.h"
#include "build/source.h"
#include "ofn/status.h"

namespace ofn::build {

// Bumped when what a strategy produces changes, so old cache entries miss.
inline constexpr int kBuilderFormatVersion = 2;  // 2: C++ binaries stripped of debug info

struct BuildRequest {
  SourceSpec source;                        // spec.build.srcRepo
  std::string builder;                      // spec.build.builder / shipwright.strategy.name; empty: detect
  std::map<std::string, std::string> env;   // spec.build.env (FUNC_NAME, BINARY, ...)
  std::chrono::milliseconds timeout{0};     // spec.build.timeout; 0: none
  std::string image;                        // spec.image: the tag written in `layout`
  OciLayout* layout = nullptr;              // required
  std::string sdk_prefix;                   // Ofn SDK install prefix (for the cpp strategy)
  std::string work_root;                    // where work dirs are made
  std::string log_path;                     // appended to; empty: no log kept
  std::string tool_path;                    // PATH for tools; empty: this process's
};

struct BuildResult {
  Descriptor manifest;
  std::string strategy;
  std::string revision;                     // source commit, "" for a directory
  bool cached = false;
  std::chrono::milliseconds duration{0};
  std::string cache_key;                    // hex
};

// Errors: InvalidArgument for bad input (URL, sub-path, escaping symlink,
// unknown builder: named), FailedPrecondition "compile failed ..." (with the
// compiler's last lines) or a missing tool, DeadlineExceeded "build timed out
// after Ns", Cancelled "build cancelled".
Result<BuildResult> Build(const BuildRequest& request, const CancelToken& cancel);

// The context's part of the cache key: sha256 over its sorted files.
Result<std::string> HashContext(const std::string& context);

}  // namespace ofn::build

// Strategy: one build backend (a "builder" in OpenFunction's terms) that
// turns a build context into an OCI image. Each is self-contained and
// registered by name; a build picks one by the Function's spec.build.builder
// (or shipwright.strategy.name), matched loosely, or by detection.
//
// Built in:
//   cpp         CMakeLists.txt at the context root: cmake (Ninja, Release,
//               CMAKE_PREFIX_PATH = the Ofn SDK) in a separate build dir;
//               the function binary is the executable target named FUNC_NAME,
//               else the only executable (CMake's file API says which). A
//               single C++ file (.cpp/.cc/.cxx, exactly one) without
//               CMakeLists.txt: Ofn writes the project (find_package(ofn) +
//               ofn_add_function) in the build dir. The image: executable
//               image (executable_image.h) of the binary stripped of debug
//               info, FUNCTION_TARGET=FUNC_NAME when set, port 8080, the
//               source revision label.
//   executable  a prebuilt ELF at the context root (env BINARY, else the
//               only ELF executable there): the same image, the binary as is.
//   node        package.json (node_strategy.cc): functions written for
//               Google's @google-cloud/functions-framework run unchanged.
//               The context is copied to the build dir; `npm ci` (with
//               package-lock.json) or `npm install`, production deps only;
//               the framework (major 3) is added when the package lacks it.
//               FUNC_NAME / FUNC_TYPE (http|event|cloudevent) become
//               FUNCTION_TARGET / FUNCTION_SIGNATURE_TYPE. The image: this
//               machine's node and its shared-library closure (a layer apps
//               share), then the app with node_modules under /app;
//               entrypoint node + the framework's main script, PORT=8080,
//               NODE_ENV=production, the source revision label.
//   dockerfile  Dockerfile at the root (dockerfile_strategy.cc): `buildah
//               bud` (chroot isolation, vfs storage private to the build,
//               removed after it; spec.build.env as --build-arg), pushed to
//               an OCI layout in the build dir whose blobs are adopted
//               (digest-checked) into ours. Without buildah, the error says
//               to install it.
//
// Detection takes the strongest signal: CMakeLists.txt, then package.json,
// then Dockerfile, then a single C++ file, then an ELF executable.
//
// Thread-safety: the registry is guarded by a mutex; strategies are
// stateless, so Build may run concurrently for different inputs.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "build/descriptor.h"
#include "build/oci_layout.h"
#include "build/source.h"
#include "ofn/status.h"

namespace ofn::build {

struct StrategyInput {
  std::string context;                      // the build context (realpath); strategies do not write in it
  std::string work_dir;                     // the build's work directory (realpath): mapped away in compiler output
  std::string build_dir;                    // an empty directory inside work_dir for the strategy's files
  std::map<std::string, std::string> env;   // spec.build.env (FUNC_NAME, BINARY, ...)
  std::string sdk_prefix;                   // where Ofn's SDK is installed (find_package(ofn))
  std::string revision;                     // source commit; "" when unknown
  const BuildEnv* build = nullptr;          // deadline, cancel, log, tools
  OciLayout* layout = nullptr;
  std::string tag;                          // the image's tag in `layout`
};

struct Detection {
  int score = 0;        // 0: does not apply; higher wins
  std::string reason;   // for the log: "CMakeLists.txt"
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  virtual Detection Detect(const std::string& context, const std::map<std::string, std::string>& env) const = 0;
  // Builds, writes the image tagged input.tag and returns its manifest.
  virtual Result<Descriptor> Build(const StrategyInput& input) const = 0;
};

// Adds a strategy; AlreadyExists when its name is taken.
Status RegisterStrategy(std::unique_ptr<Strategy> strategy);
// The registered names, sorted.
std::vector<std::string> StrategyNames();
// OpenFunction's builder or strategy name -> a strategy: an exact name, else
// loosely ("cpp"/"c++" -> cpp, "node" -> node, "dockerfile"/"buildah"/
// "kaniko" -> dockerfile, "executable" -> executable). InvalidArgument naming
// the builder and the known ones.
Result<const Strategy*> StrategyForBuilder(std::string_view builder);

struct Detected {
  const Strategy* strategy = nullptr;
  std::string reason;
};
// The strategy that applies best to `context`; InvalidArgument when none does.
Result<Detected> DetectStrategy(const std::string& context, const std::map<std::string, std::string>& env);

// The built-in strategies (registered on first use of the registry).
std::unique_ptr<Strategy> NewCppStrategy();
std::unique_ptr<Strategy> NewExecutableStrategy();
std::unique_ptr<Strategy> NewDockerfileStrategy();
std::unique_ptr<Strategy> NewNodeStrategy();

// True when `path` is a regular file starting with the ELF magic.
bool IsElfFile(const std::string& path);
// True when `path` is a regular file (after symlinks).
bool IsRegularFile(const std::string& path);
// The JSON document in `path`; nullopt when it cannot be read or parsed.
std::optional<nlohmann::json> ReadJsonFile(const std::string& path);
// Runs one tool of a strategy; a non-zero exit is FailedPrecondition
// "<what> (exit N):" and the last lines it logged (the tool's error is among
// them).
Status RunStep(const BuildEnv& env, const ToolCall& call, const std::string& what);

}  // namespace ofn::build

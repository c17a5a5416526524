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
//               image (executable_image.h), FUNCTION_TARGET=FUNC_NAME when
//               set, port 8080, the source revision label.
//   executable  a prebuilt ELF at the context root (env BINARY, else the
//               only ELF executable there): the same image.
//   dockerfile  Dockerfile at the root: needs buildah. Only that check is
//               implemented: without buildah the error says to install it;
//               with it, Unimplemented (building with buildah is a later step).
//   node        package.json: detected, then Unimplemented (a later step).
//
// Detection takes the strongest signal: CMakeLists.txt, then package.json,
// then Dockerfile, then a single C++ file, then an ELF executable.
//
// Thread-safety: the registry is guarded by a mutex; strategies are
// stateless, so Build may run concurrently for different inputs.
#pragma once

#include <map>
#include <memory>
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

}  // namespace ofn::build

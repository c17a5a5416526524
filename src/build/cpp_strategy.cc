// The cpp strategy (see strategy.h): CMake + Ninja against the Ofn SDK.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "build/executable_image.h"
#include "build/strategy.h"

namespace ofn::build {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The C++ sources at the context root.
std::vector<std::string> CxxFiles(const std::string& context) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(context, ec)) {
    const std::string ext = e.path().extension().string();
    if ((ext == ".cpp" || ext == ".cc" || ext == ".cxx") && e.is_regular_file(ec)) {
      files.push_back(e.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A CMake target name from FUNC_NAME or the file's stem.
std::string TargetName(const std::string& name) {
  std::string out;
  for (char c : name) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_');
  }
  return out.empty() ? "function" : out;
}

struct Executable {
  std::string name;  // the CMake target
  std::string path;  // absolute
};

// The executables of the project, from CMake's file API (codemodel-v2),
// which names targets exactly rather than guessing from the build tree.
Result<std::vector<Executable>> ProjectExecutables(const std::string& bin) {
  const std::string reply = bin + "/.cmake/api/v1/reply";
  std::string index;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(reply, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("index-", 0) == 0 && n > fs::path(index).filename().string()) index = e.path().string();
  }
  if (index.empty()) return Status::Internal("cmake wrote no file-API reply in " + reply);
  auto idx = ReadJsonFile(index);
  if (!idx) return Status::Internal("cannot parse " + index);
  const json* cm = nullptr;
  if (idx->contains("reply") && (*idx)["reply"].contains("codemodel-v2")) cm = &(*idx)["reply"]["codemodel-v2"];
  if (cm == nullptr || !cm->contains("jsonFile")) return Status::Internal("no codemodel-v2 in " + index);
  auto model = ReadJsonFile(reply + "/" + (*cm)["jsonFile"].get<std::string>());
  if (!model || !model->contains("configurations") || (*model)["configurations"].empty()) {
    return Status::Internal("cannot read the codemodel in " + reply);
  }
  std::vector<Executable> out;
  for (const auto& t : (*model)["configurations"][0].value("targets", json::array())) {
    auto target = ReadJsonFile(reply + "/" + t.value("jsonFile", ""));
    if (!target || target->value("type", "") != "EXECUTABLE") continue;
    const json artifacts = target->value("artifacts", json::array());
    if (artifacts.empty()) continue;
    fs::path p(artifacts[0].value("path", ""));
    if (p.is_relative()) p = fs::path(bin) / p;
    out.push_back({target->value("name", ""), p.string()});
  }
  return out;
}

class CppStrategy : public Strategy {
 public:
  std::string_view name() const override { return "cpp"; }

  Detection Detect(const std::string& context, const std::map<std::string, std::string>&) const override {
    if (IsRegularFile(context + "/CMakeLists.txt")) return {100, "CMakeLists.txt"};
    auto files = CxxFiles(context);
    if (files.size() == 1) return {50, "single file " + files[0]};
    return {};
  }

  Result<Descriptor> Build(const StrategyInput& in) const override {
    const BuildEnv& env = *in.build;
    auto fn = in.env.find("FUNC_NAME");
    const std::string func_name = fn == in.env.end() ? "" : fn->second;
    std::string source_dir = in.context;
    if (!IsRegularFile(in.context + "/CMakeLists.txt")) {
      auto files = CxxFiles(in.context);
      if (files.size() != 1) {
        return Status::InvalidArgument("cpp builder: the build context has no CMakeLists.txt and " +
                                       std::to_string(files.size()) + " C++ files (one is needed)");
      }
      // A generated project around the one file, outside the context.
      source_dir = in.build_dir + "/project";
      const std::string target = TargetName(func_name.empty() ? fs::path(files[0]).stem().string() : func_name);
      std::error_code ec;
      fs::create_directories(source_dir, ec);
      std::ofstream out(source_dir + "/CMakeLists.txt");
      out << "cmake_minimum_required(VERSION 3.22)\nproject(ofn_function CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
          << "find_package(ofn REQUIRED)\n"
          << "ofn_add_function(" << target << " SOURCES \"" << in.context << "/" << files[0] << "\")\n";
      if (!out.flush()) return Status::Internal("cannot write " + source_dir + "/CMakeLists.txt");
    }

    const std::string bin = in.build_dir + "/cmake";
    std::error_code ec;
    fs::create_directories(bin + "/.cmake/api/v1/query", ec);
    std::ofstream(bin + "/.cmake/api/v1/query/codemodel-v2").flush();
    if (ec) return Status::Internal("cannot create " + bin + ": " + ec.message());

    env.log->Line("configuring (cmake)");
    ToolCall configure;
    configure.argv = {"cmake", "-S", source_dir, "-B", bin, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                      "-DCMAKE_PREFIX_PATH=" + in.sdk_prefix,
                      // Paths of the work dir (random) must not reach the binary.
                      "-DCMAKE_CXX_FLAGS=-ffile-prefix-map=" + in.work_dir + "=/ofn-build"};
    configure.env = in.env;
    if (Status s = RunStep(env, configure, "cmake configure failed"); !s.ok()) return s;

    env.log->Line("compiling");
    ToolCall compile;
    compile.argv = {"cmake", "--build", bin};
    compile.env = in.env;
    if (Status s = RunStep(env, compile, "compile failed"); !s.ok()) return s;

    auto exes = ProjectExecutables(bin);
    if (!exes.ok()) return exes.status();
    const Executable* pick = nullptr;
    for (const auto& e : *exes) {
      if (!func_name.empty() && (e.name == func_name || e.name == TargetName(func_name))) pick = &e;
    }
    if (pick == nullptr && exes->size() == 1) pick = &(*exes)[0];
    if (pick == nullptr) {
      std::string names;
      for (const auto& e : *exes) names += (names.empty() ? "" : ", ") + e.name;
      if (exes->empty()) return Status::InvalidArgument("cpp builder: the CMake project builds no executable");
      return Status::InvalidArgument("cpp builder: the CMake project builds " + std::to_string(exes->size()) +
                                     " executables (" + names + "): set FUNC_NAME to the one to serve");
    }
    if (!IsRegularFile(pick->path)) return Status::Internal("cpp builder: " + pick->path + " was not built");
    if (Status s = env.Check(); !s.ok()) return s;

    // Debug info (the SDK's static libraries carry theirs) is most of the
    // binary and no use in an image: the hello image drops from 8 to ~2.6 MB.
    const std::string stripped = in.build_dir + "/" + fs::path(pick->path).filename().string();
    ToolCall strip;
    strip.argv = {"strip", "--strip-debug", "-o", stripped, pick->path};
    if (Status s = RunStep(env, strip, "strip failed"); !s.ok()) return s;

    ExecutableImageSpec spec;
    spec.executable = stripped;
    spec.image_path = "/app/" + fs::path(pick->path).filename().string();
    if (!func_name.empty()) spec.env.push_back("FUNCTION_TARGET=" + func_name);
    spec.exposed_port = "8080";
    if (!in.revision.empty()) spec.labels["org.opencontainers.image.revision"] = in.revision;
    return WriteExecutableImage(*in.layout, spec, in.tag);
  }
};

}  // namespace

std::unique_ptr<Strategy> NewCppStrategy() { return std::make_unique<CppStrategy>(); }

}  // namespace ofn::build

// The node strategy (see strategy.h): npm installs the app's production
// dependencies plus Google's functions framework, which serves the exported
// function; the image is this machine's node and the app.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <string_view>

#include "build/elf_closure.h"
#include "build/executable_image.h"
#include "build/strategy.h"

namespace ofn::build {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kFramework[] = "@google-cloud/functions-framework";
// Added when the package does not depend on the framework. Major 3 (express
// 4, cloudevents 8) runs on Node.js 16 to 22, so on Debian bookworm's 18 as
// on NodeSource's 20; majors 4 and 5 need Node.js 20 (cloudevents 10). It
// loads ESM packages too.
constexpr char kFrameworkRange[] = "^3.0.0";
constexpr char kNodeImagePath[] = "/usr/bin/node";
constexpr char kAppDir[] = "/app";

// Node's resolution of a package's entry point: `main` (as a file, with .js,
// or as a directory with index.js), else index.js. "" with `why` set when
// there is none.
std::string EntryPoint(const std::string& dir, const json& package, std::string* why) {
  if (package.contains("main") && package["main"].is_string() && !package["main"].get<std::string>().empty()) {
    const std::string main = package["main"].get<std::string>();
    for (const std::string& candidate : {main, main + ".js", main + "/index.js"}) {
      if (IsRegularFile(dir + "/" + candidate)) return candidate;
    }
    *why = "package.json's main \"" + main + "\" is not a file in the build context";
    return "";
  }
  if (IsRegularFile(dir + "/index.js")) return "index.js";
  *why = "package.json has no \"main\" and the build context has no index.js: the framework loads the function from "
         "there";
  return "";
}

bool DependsOn(const json& package, const std::string& name) {
  return package.contains("dependencies") && package["dependencies"].is_object() &&
         package["dependencies"].contains(name);
}

// The app is read by the image's user (65532), not its owner (root): every
// file and directory gets read (and, where the owner has it, search/execute)
// permission for all. The root directory's mode is fixed rather than the
// context's, whatever made it (mkdtemp gives 0700).
Status MakeReadable(const std::string& root) {
  std::error_code ec;
  fs::permissions(root, fs::perms(0755), ec);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::file_status st = it->symlink_status(ec);
    if (ec || fs::is_symlink(st)) continue;
    fs::perms add = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    if (fs::is_directory(st) || (st.permissions() & fs::perms::owner_exec) != fs::perms::none) {
      add |= fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
    }
    fs::permissions(it->path(), add, fs::perm_options::add, ec);
  }
  if (ec) return Status::Internal("cannot set the modes under " + root + ": " + ec.message());
  return Status::Ok();
}

// The files under `prefix` that the binary at `path` names (NUL-free runs
// of path characters ending in ".js"), read through a read-only mapping.
void NamedScripts(const std::string& path, std::string_view prefix, std::set<std::string>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  void* map = ::fstat(fd, &st) == 0 && st.st_size > 0
                  ? ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0)
                  : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) return;
  const std::string_view bytes(static_cast<const char*>(map), static_cast<size_t>(st.st_size));
  auto path_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_';
  };
  for (size_t at = bytes.find(prefix); at != std::string_view::npos; at = bytes.find(prefix, at + 1)) {
    size_t end = at + prefix.size();
    while (end < bytes.size() && path_char(bytes[end])) ++end;
    const std::string_view name = bytes.substr(at, end - at);
    if (name.size() > 3 && name.substr(name.size() - 3) == ".js" && name.find("/../") == std::string_view::npos) {
      out->emplace(name);
    }
  }
  ::munmap(map, static_cast<size_t>(st.st_size));
}

// What node reads at run time besides its shared libraries. Debian's node
// loads some builtin modules from files ("externalized builtins":
// /usr/share/nodejs/acorn/dist/acorn.js, .../cjs-module-lexer/lexer.js,
// .../undici/undici-fetch.js) and aborts at startup without them; libnode
// names them, so they are read from it rather than listed here. A node that
// bundles everything (NodeSource's, upstream's) names none.
Result<std::vector<LayerEntry>> RuntimeFiles(const std::string& node) {
  ClosureOptions options;
  options.executable_image_path = kNodeImagePath;
  auto closure = ResolveClosure(node, options);
  if (!closure.ok()) return closure.status();
  std::set<std::string> scripts;
  NamedScripts(node, "/usr/share/nodejs/", &scripts);
  for (const ClosureFile& f : closure->files) {
    if (!f.is_symlink() && fs::path(f.host_path).filename().string().rfind("libnode", 0) == 0) {
      NamedScripts(f.host_path, "/usr/share/nodejs/", &scripts);
    }
  }
  std::vector<LayerEntry> files;
  for (const std::string& script : scripts) {
    std::error_code ec;
    const std::string real = fs::canonical(script, ec).string();  // Debian links some into other packages
    if (!ec && IsRegularFile(real)) files.push_back(LayerEntry::FileFrom(script, real, 0644));
  }
  return files;
}

class NodeStrategy : public Strategy {
 public:
  std::string_view name() const override { return "node"; }

  Detection Detect(const std::string& context, const std::map<std::string, std::string>&) const override {
    if (!IsRegularFile(context + "/package.json")) return {};
    return {90, "package.json"};
  }

  Result<Descriptor> Build(const StrategyInput& in) const override {
    const BuildEnv& env = *in.build;
    auto package = ReadJsonFile(in.context + "/package.json");
    if (!package || !package->is_object()) {
      return Status::InvalidArgument("node builder: package.json is not a JSON object");
    }
    std::string why;
    if (EntryPoint(in.context, *package, &why).empty()) return Status::InvalidArgument("node builder: " + why);
    const std::string signature = Env(in, "FUNC_TYPE", "http");
    if (signature != "http" && signature != "event" && signature != "cloudevent") {
      return Status::InvalidArgument("node builder: FUNC_TYPE \"" + signature +
                                     "\" is not one of http, event, cloudevent");
    }
    const std::string node = FindTool("node", env.tool_path);
    if (node.empty() || FindTool("npm", env.tool_path).empty()) {
      return Status::FailedPrecondition(
          "the node builder needs node and npm, which are not installed (apt-get install nodejs npm)");
    }

    const std::string app = in.build_dir + "/app";
    if (Status s = CopyTree(in.context, app); !s.ok()) return s;
    const std::vector<std::string> flags = {"--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"};
    ToolCall install;
    install.cwd = app;
    install.env = {{"npm_config_update_notifier", "false"}};
    const bool locked = IsRegularFile(app + "/package-lock.json");
    install.argv = {"npm", locked ? "ci" : "install"};
    install.argv.insert(install.argv.end(), flags.begin(), flags.end());
    env.log->Line(std::string("installing dependencies (npm ") + (locked ? "ci" : "install") + ")");
    if (Status s = RunStep(env, install, std::string("npm ") + install.argv[1] + " failed"); !s.ok()) return s;
    if (!DependsOn(*package, kFramework)) {
      env.log->Line(std::string("adding ") + kFramework + "@" + kFrameworkRange);
      ToolCall add = install;
      add.argv = {"npm", "install", "--no-save"};
      add.argv.insert(add.argv.end(), flags.begin(), flags.end());
      add.argv.push_back(std::string(kFramework) + "@" + kFrameworkRange);
      if (Status s = RunStep(env, add, std::string("npm install ") + kFramework + " failed"); !s.ok()) return s;
    }
    if (Status s = env.Check(); !s.ok()) return s;

    if (Status s = MakeReadable(app); !s.ok()) return s;
    auto main = FrameworkMain(app);
    if (!main.ok()) return main.status();
    std::error_code ec;
    const std::string node_real = fs::canonical(node, ec).string();
    if (ec) return Status::Internal("cannot resolve " + node + ": " + ec.message());

    auto runtime_files = RuntimeFiles(node_real);
    if (!runtime_files.ok()) return runtime_files.status();

    ExecutableImageSpec spec;
    spec.executable = node_real;
    spec.image_path = kNodeImagePath;
    spec.executable_in_base = true;
    spec.base_files = std::move(*runtime_files);
    spec.extra_trees.push_back({app, kAppDir});
    spec.entrypoint = {kNodeImagePath, std::string(kAppDir) + "/" + *main};
    const std::string target = Env(in, "FUNC_NAME", "");
    if (!target.empty()) spec.env.push_back("FUNCTION_TARGET=" + target);
    spec.env.push_back("FUNCTION_SIGNATURE_TYPE=" + signature);
    spec.env.push_back("PORT=8080");
    spec.env.push_back("NODE_ENV=production");
    spec.exposed_port = "8080";
    if (!in.revision.empty()) spec.labels["org.opencontainers.image.revision"] = in.revision;
    env.log->Line("packaging node " + node_real + " and the app");
    return WriteExecutableImage(*in.layout, spec, in.tag);
  }

 private:
  static std::string Env(const StrategyInput& in, const std::string& key, const std::string& otherwise) {
    auto it = in.env.find(key);
    return it == in.env.end() || it->second.empty() ? otherwise : it->second;
  }

  // The framework's command (its package.json `bin`), relative to `app`:
  // whichever version the app pinned.
  static Result<std::string> FrameworkMain(const std::string& app) {
    const std::string dir = std::string("node_modules/") + kFramework;
    auto package = ReadJsonFile(app + "/" + dir + "/package.json");
    if (!package || !package->is_object()) {
      return Status::FailedPrecondition(std::string("node builder: npm did not install ") + kFramework);
    }
    std::string bin;
    const json b = package->value("bin", json());
    if (b.is_string()) bin = b.get<std::string>();
    if (b.is_object() && b.contains("functions-framework") && b["functions-framework"].is_string()) {
      bin = b["functions-framework"].get<std::string>();
    }
    const std::string path = (fs::path(dir) / bin).lexically_normal().string();
    if (bin.empty() || path.rfind(dir + "/", 0) != 0 || !IsRegularFile(app + "/" + path)) {
      return Status::FailedPrecondition(std::string("node builder: ") + kFramework +
                                        " has no functions-framework command");
    }
    return path;
  }
};

}  // namespace

std::unique_ptr<Strategy> NewNodeStrategy() { return std::make_unique<NodeStrategy>(); }

}  // namespace ofn::build

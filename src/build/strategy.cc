#include "build/strategy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "build/executable_image.h"

namespace ofn::build {
namespace fs = std::filesystem;

bool IsElfFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char magic[4] = {};
  ssize_t n = ::read(fd, magic, sizeof magic);
  ::close(fd);
  return n == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Status RunStep(const BuildEnv& env, const ToolCall& call, const std::string& what) {
  const int64_t from = env.log->Size();
  Result<int> rc = RunTool(env, call);
  if (!rc.ok()) return rc.status();
  if (*rc != 0) {
    return Status::FailedPrecondition(what + " (exit " + std::to_string(*rc) + "):\n" + env.log->Tail(from, 20));
  }
  return Status::Ok();
}

namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::unique_ptr<Strategy>> strategies;  // never removed: pointers stay valid
};

Registry& TheRegistry() {
  // Built-ins are added here rather than by static registrars, which the
  // linker drops from a static library when nothing else references them.
  static Registry* registry = [] {
    auto* r = new Registry;
    r->strategies.push_back(NewCppStrategy());
    r->strategies.push_back(NewExecutableStrategy());
    r->strategies.push_back(NewDockerfileStrategy());
    r->strategies.push_back(NewNodeStrategy());
    return r;
  }();
  return *registry;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ------------------------------------------------------------ executable

// The executable the context holds: env BINARY (a path inside the context),
// else the only ELF regular file at the root. "" with `why` set otherwise.
std::string FindBinary(const std::string& context, const std::map<std::string, std::string>& env, std::string* why) {
  auto b = env.find("BINARY");
  if (b != env.end() && !b->second.empty()) {
    fs::path rel(b->second);
    for (const auto& part : rel) {
      if (part == "..") {
        *why = "BINARY \"" + b->second + "\" must not contain '..'";
        return "";
      }
    }
    if (rel.is_absolute()) {
      *why = "BINARY \"" + b->second + "\" must be a path inside the build context";
      return "";
    }
    std::string path = context + "/" + b->second;
    if (!IsRegularFile(path)) {
      *why = "BINARY \"" + b->second + "\" is not a file in the build context";
      return "";
    }
    return path;
  }
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(context, ec)) {
    if (e.is_symlink(ec) || !e.is_regular_file(ec)) continue;
    if (::access(e.path().c_str(), X_OK) == 0 && IsElfFile(e.path().string())) found.push_back(e.path().string());
  }
  if (found.size() == 1) return found[0];
  *why = found.empty() ? "no ELF executable at the build context's root"
                       : std::to_string(found.size()) + " ELF executables at the build context's root: set BINARY";
  return "";
}

class ExecutableStrategy : public Strategy {
 public:
  std::string_view name() const override { return "executable"; }
  Detection Detect(const std::string& context, const std::map<std::string, std::string>& env) const override {
    std::string why;
    std::string binary = FindBinary(context, env, &why);
    if (binary.empty() || !IsElfFile(binary)) return {};
    return {40, "prebuilt " + fs::path(binary).filename().string()};
  }
  Result<Descriptor> Build(const StrategyInput& in) const override {
    std::string why;
    std::string binary = FindBinary(in.context, in.env, &why);
    if (binary.empty()) return Status::InvalidArgument("executable builder: " + why);
    std::error_code ec;
    const std::string real = fs::weakly_canonical(binary, ec).string();
    if (ec || real.rfind(in.context + "/", 0) != 0) {
      return Status::InvalidArgument("executable builder: " + binary + " escapes the build context");
    }
    in.build->log->Line("packaging " + fs::path(binary).filename().string());
    ExecutableImageSpec spec;
    spec.executable = real;
    spec.image_path = "/app/" + fs::path(binary).filename().string();
    auto fn = in.env.find("FUNC_NAME");
    if (fn != in.env.end() && !fn->second.empty()) spec.env.push_back("FUNCTION_TARGET=" + fn->second);
    spec.exposed_port = "8080";
    if (!in.revision.empty()) spec.labels["org.opencontainers.image.revision"] = in.revision;
    return WriteExecutableImage(*in.layout, spec, in.tag);
  }
};

}  // namespace

std::unique_ptr<Strategy> NewExecutableStrategy() { return std::make_unique<ExecutableStrategy>(); }

Status RegisterStrategy(std::unique_ptr<Strategy> strategy) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  for (const auto& s : r.strategies) {
    if (s->name() == strategy->name()) {
      return Status::AlreadyExists("a build strategy named \"" + std::string(strategy->name()) + "\" exists");
    }
  }
  r.strategies.push_back(std::move(strategy));
  return Status::Ok();
}

std::vector<std::string> StrategyNames() {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& s : r.strategies) names.emplace_back(s->name());
  std::sort(names.begin(), names.end());
  return names;
}

Result<const Strategy*> StrategyForBuilder(std::string_view builder) {
  const std::string b = Lower(builder);
  std::string want;
  if (b.find("cpp") != std::string::npos || b.find("c++") != std::string::npos) {
    want = "cpp";
  } else if (b.find("node") != std::string::npos) {
    want = "node";
  } else if (b.find("dockerfile") != std::string::npos || b.find("buildah") != std::string::npos ||
             b.find("kaniko") != std::string::npos) {
    want = "dockerfile";
  } else if (b.find("executable") != std::string::npos) {
    want = "executable";
  }
  Registry& r = TheRegistry();
  {
    std::lock_guard lock(r.mu);
    // An exact registered name first (extensions), then the loose match.
    for (const auto& s : r.strategies) {
      if (s->name() == b) return s.get();
    }
    for (const auto& s : r.strategies) {
      if (!want.empty() && s->name() == want) return s.get();
    }
  }
  std::string known;
  for (const auto& n : StrategyNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown builder \"" + std::string(builder) + "\" (known builders: " + known + ")");
}

Result<Detected> DetectStrategy(const std::string& context, const std::map<std::string, std::string>& env) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  Detected best;
  int best_score = 0;
  for (const auto& s : r.strategies) {
    Detection d = s->Detect(context, env);
    if (d.score > best_score) {
      best_score = d.score;
      best = {s.get(), d.reason};
    }
  }
  if (best.strategy == nullptr) {
    return Status::InvalidArgument(
        "no builder applies to the build context (looked for CMakeLists.txt, package.json, Dockerfile, one C++ "
        "file, a prebuilt ELF executable); set spec.build.builder");
  }
  return best;
}

}  // namespace ofn::build

#include "build/builder.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "build/digest.h"
#include "build/strategy.h"

namespace ofn::build {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Removes the work dir when the build ends, whatever happened.
class WorkDir {
 public:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  ~WorkDir() {
    std::error_code ec;
    // A failed build may leave read-only directories (copied modes): make
    // them writable so remove_all can empty them.
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status HashFile(const std::string& path, Sha256& h) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal("cannot read " + path + ": " + std::strerror(errno));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::Internal("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    h.Update(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::Ok();
}

// path, size and mtime of every file under `dir`: cheap, and changes when
// the SDK is reinstalled or rebuilt.
json TreeIdentity(const std::string& dir) {
  json files = json::array();
  if (dir.empty()) return files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({it->path().lexically_relative(dir).string(), static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
  }
  std::sort(files.begin(), files.end());
  return files;
}

json ToolIdentity(const std::string& tool_path) {
  json tools = json::object();
  for (const char* name : {"cmake", "ninja", "c++", "g++", "ld", "strip", "node", "npm", "buildah"}) {
    std::string path = FindTool(name, tool_path);
    if (path.empty()) continue;
    char* real = ::realpath(path.c_str(), nullptr);
    struct stat st {};
    if (real != nullptr && ::stat(real, &st) == 0) {
      tools[name] = {real, static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec)};
    }
    std::free(real);
  }
  return tools;
}

// "(2 layers, 1234 bytes)" from the manifest blob.
std::string Summary(const OciLayout& layout, const Descriptor& manifest) {
  auto text = layout.ReadBlob(manifest.digest);
  if (!text.ok()) return "";
  json m = json::parse(*text, nullptr, false);
  if (!m.is_object() || !m.contains("layers")) return "";
  int64_t bytes = 0;
  for (const auto& l : m["layers"]) bytes += l.value("size", int64_t{0});
  return " (" + std::to_string(m["layers"].size()) + " layers, " + std::to_string(bytes) + " bytes)";
}

Result<BuildResult> BuildIn(const BuildRequest& req, const BuildEnv& env, const std::string& workdir) {
  // An unknown builder is known before fetching anything.
  const Strategy* strategy = nullptr;
  std::string reason;
  if (!req.builder.empty()) {
    auto s = StrategyForBuilder(req.builder);
    if (!s.ok()) return s.status();
    strategy = *s;
    reason = "builder " + req.builder;
  }
  env.log->Line("fetching source");
  auto tree = FetchSource(req.source, workdir, env);
  if (!tree.ok()) return tree.status();
  if (!tree->revision.empty()) env.log->Line("source revision " + tree->revision);

  if (strategy == nullptr) {
    auto d = DetectStrategy(tree->context, req.env);
    if (!d.ok()) return d.status();
    strategy = d->strategy;
    reason = d->reason;
  }
  env.log->Line("strategy " + std::string(strategy->name()) + " (" + reason + ")");

  auto context_hash = HashContext(tree->context);
  if (!context_hash.ok()) return context_hash.status();
  json key = {{"strategy", std::string(strategy->name())},
              {"version", kBuilderFormatVersion},
              {"env", req.env},
              {"revision", tree->revision},
              {"sdk", TreeIdentity(req.sdk_prefix)},
              {"tools", ToolIdentity(env.tool_path)},
              {"context", *context_hash}};
  const std::string key_hex(Digest::Of(key.dump()).hex());
  const std::string cache_tag = "ofn-cache-" + key_hex;

  auto make = [&](const Descriptor& manifest, bool cached) {
    return BuildResult{manifest, std::string(strategy->name()), tree->revision, cached, {}, key_hex};
  };
  if (auto hit = req.layout->Resolve(cache_tag); hit.ok()) {
    auto tagged = req.layout->Tag(req.image, *hit);
    if (!tagged.ok()) return tagged.status();
    env.log->Line("cached image " + tagged->digest.str() + Summary(*req.layout, *tagged));
    return make(*tagged, true);
  }

  StrategyInput in;
  in.context = tree->context;
  char* real_work = ::realpath(workdir.c_str(), nullptr);
  in.work_dir = real_work != nullptr ? real_work : workdir;
  std::free(real_work);
  in.build_dir = in.work_dir + "/build";
  std::error_code ec;
  fs::create_directory(in.build_dir, ec);
  if (ec) return Status::Internal("cannot create " + in.build_dir + ": " + ec.message());
  in.env = req.env;
  in.sdk_prefix = req.sdk_prefix;
  in.revision = tree->revision;
  in.build = &env;
  in.layout = req.layout;
  in.tag = req.image;
  auto manifest = strategy->Build(in);
  if (!manifest.ok()) return manifest.status();
  if (Status s = env.Check(); !s.ok()) return s;
  auto cached = req.layout->Tag(cache_tag, *manifest);
  if (!cached.ok()) return cached.status();
  env.log->Line("image " + manifest->digest.str() + Summary(*req.layout, *manifest));
  return make(*manifest, false);
}

}  // namespace

Result<std::string> HashContext(const std::string& context) {
  struct Entry {
    std::string path;
    char type;
    uint32_t mode;
    std::string content;  // file: its digest; symlink: its target
  };
  std::vector<Entry> entries;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(context, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) return Status::Internal("cannot read " + context + ": " + ec.message());
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) return Status::Internal("cannot stat " + it->path().string());
    Entry e{it->path().lexically_relative(context).string(), '?', static_cast<uint32_t>(st.st_mode & 07777), ""};
    if (S_ISREG(st.st_mode)) {
      e.type = 'f';
      Sha256 h;
      if (Status s = HashFile(it->path().string(), h); !s.ok()) return s;
      e.content = h.Finish().str();
    } else if (S_ISDIR(st.st_mode)) {
      e.type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
      e.type = 'l';
      e.content = fs::read_symlink(it->path(), ec).string();
    }
    entries.push_back(std::move(e));
  }
  if (ec) return Status::Internal("cannot read " + context + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
  // Length-prefixed fields: no path can be read as two.
  Sha256 h;
  for (const auto& e : entries) {
    std::string rec = std::to_string(e.path.size()) + ":" + e.path + e.type + std::to_string(e.mode) + ":" +
                      std::to_string(e.content.size()) + ":" + e.content + "\n";
    h.Update(rec);
  }
  return h.Finish().str();
}

Result<BuildResult> Build(const BuildRequest& request, const CancelToken& cancel) {
  const auto start = Clock::now();
  if (request.layout == nullptr) return Status::InvalidArgument("build: no image layout");
  if (!ValidTagName(request.image)) return Status::InvalidArgument("build: invalid image name \"" + request.image + "\"");
  if (request.work_root.empty()) return Status::InvalidArgument("build: no work root");
  if (request.timeout.count() < 0) return Status::InvalidArgument("build: negative timeout");

  std::error_code ec;
  fs::create_directories(request.work_root, ec);
  std::string pattern = request.work_root + "/ofn-build-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Internal("cannot create a work dir in " + request.work_root + ": " + std::strerror(errno));
  }
  WorkDir work(pattern);

  auto log = BuildLog::Open(request.log_path.empty() ? work.path() + "/build.log" : request.log_path);
  if (!log.ok()) return log.status();

  BuildEnv env;
  env.timeout = request.timeout;
  if (request.timeout.count() > 0) env.deadline = start + request.timeout;
  env.cancel = cancel;
  env.log = log->get();
  env.tool_path = request.tool_path;

  auto result = BuildIn(request, env, work.path());
  if (!result.ok()) {
    // The first line only: a tool's output is in the log already.
    const std::string& m = result.status().message();
    env.log->Line("failed: " + m.substr(0, m.find('\n')));
    return result.status();
  }
  result->duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

}  // namespace ofn::build

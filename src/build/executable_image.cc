#include "build/executable_image.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "build/image.h"

namespace ofn::build {

namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "app:x:65532:65532:app:/app:/sbin/nologin\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "app:x:65532:\n";

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* GoArchitecture(ElfMachine m) { return m == ElfMachine::kX86_64 ? "amd64" : "arm64"; }

}  // namespace

Result<Descriptor> WriteExecutableImage(OciLayout& layout, const ExecutableImageSpec& spec, std::string_view tag) {
  if (spec.executable.empty()) return Status::InvalidArgument("image: no executable given");
  struct stat st {};
  if (::stat(spec.executable.c_str(), &st) != 0) {
    return Status::NotFound("image: executable " + spec.executable + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("image: executable " + spec.executable + " is not a file");
  const std::string name = BaseName(spec.executable);
  const std::string image_path = spec.image_path.empty() ? "/app/" + name : spec.image_path;
  if (image_path.front() != '/') {
    return Status::InvalidArgument("image: executable path \"" + image_path + "\" is not absolute");
  }

  ClosureOptions options = spec.closure;
  options.executable_image_path = image_path;
  auto closure = ResolveClosure(spec.executable, options);
  if (!closure.ok()) return closure.status();

  LayerSpec base;
  base.gzip_level = spec.gzip_level;
  base.created_by = spec.executable_in_base ? "ofn build: runtime " + name + " and its shared libraries"
                                            : "ofn build: shared-library closure of " + name;
  for (const ClosureFile& f : closure->files) {
    if (f.is_symlink()) {
      base.entries.push_back(LayerEntry::Symlink(f.image_path, f.link_target));
      continue;
    }
    struct stat fst {};
    if (::stat(f.host_path.c_str(), &fst) != 0) {
      return Status::NotFound("image: " + f.host_path + ": " + std::strerror(errno));
    }
    base.entries.push_back(LayerEntry::FileFrom(f.image_path, f.host_path, fst.st_mode & 0755));
  }
  base.entries.push_back(LayerEntry::File("/etc/passwd", kPasswd));
  base.entries.push_back(LayerEntry::File("/etc/group", kGroup));
  base.entries.push_back(LayerEntry::Directory("/tmp", 01777));
  if (spec.executable_in_base) base.entries.push_back(LayerEntry::FileFrom(image_path, spec.executable, 0755));
  for (const LayerEntry& e : spec.base_files) base.entries.push_back(e);
  auto base_layer = WriteLayer(layout, base);
  if (!base_layer.ok()) return base_layer.status();

  LayerSpec app;
  app.gzip_level = spec.gzip_level;
  app.created_by = spec.executable_in_base ? "ofn build: app" : "ofn build: app " + name;
  app.entries.push_back(LayerEntry::Directory("/app"));  // the working dir, wherever the executable is
  if (!spec.executable_in_base) app.entries.push_back(LayerEntry::FileFrom(image_path, spec.executable, 0755));
  for (const LayerEntry& e : spec.extra_files) app.entries.push_back(e);
  app.trees = spec.extra_trees;
  auto app_layer = WriteLayer(layout, app);
  if (!app_layer.ok()) return app_layer.status();

  ImageConfig config;
  config.entrypoint = spec.entrypoint.empty() ? std::vector<std::string>{image_path} : spec.entrypoint;
  config.cmd = spec.cmd;
  bool has_path = false, has_library_path = false;
  for (const auto& e : spec.env) {
    has_path = has_path || e.rfind("PATH=", 0) == 0;
    has_library_path = has_library_path || e.rfind("LD_LIBRARY_PATH=", 0) == 0;
  }
  if (!has_path) config.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  if (!closure->library_path.empty() && !has_library_path) {
    std::string dirs;
    for (const auto& d : closure->library_path) dirs += (dirs.empty() ? "" : ":") + d;
    config.env.push_back("LD_LIBRARY_PATH=" + dirs);
  }
  config.env.insert(config.env.end(), spec.env.begin(), spec.env.end());
  config.user = std::to_string(kAppUid) + ":" + std::to_string(kAppUid);
  config.working_dir = "/app";
  if (!spec.exposed_port.empty()) config.exposed_ports.push_back(spec.exposed_port);
  config.labels = spec.labels;
  // The image runs where the executable does, whatever this machine is.
  config.architecture = GoArchitecture(closure->machine);
  return WriteImage(layout, {*base_layer, *app_layer}, config, tag);
}

}  // namespace ofn::build

// The dockerfile strategy (see strategy.h): buildah builds the Dockerfile
// with storage private to this build, pushes the image to an OCI layout in
// the build dir, and its blobs are adopted (digest-checked) into ours.
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "build/strategy.h"

namespace ofn::build {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kLocalName[] = "localhost/ofn-build:latest";

// Removes buildah's storage (root-owned files under vfs) when the build ends,
// whatever happened. A mount left under it (buildah mounts in its own mount
// namespace, so none should be) is detached first: removing files must never
// reach through a mount into the host.
class Storage {
 public:
  explicit Storage(std::string dir) : dir_(std::move(dir)) {}
  ~Storage() {
    std::ifstream mounts("/proc/self/mountinfo");
    std::vector<std::string> under;
    for (std::string line; std::getline(mounts, line);) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, point;
      fields >> id >> parent >> dev >> root >> point;
      if (point.rfind(dir_ + "/", 0) == 0) under.push_back(point);
    }
    // Deepest first.
    for (auto it = under.rbegin(); it != under.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Copies the blob `d` from the layout at `from` into `to`, where AdoptBlob
// checks its digest; a blob there already is left alone.
Status AdoptFrom(const std::string& from, const Digest& d, OciLayout& to) {
  if (to.HasBlob(d)) return Status::Ok();
  const std::string source = from + "/blobs/sha256/" + std::string(d.hex());
  auto temp = to.CreateTemp();
  if (!temp.ok()) return temp.status();
  if (Status s = temp->Close(); !s.ok()) return s;
  std::error_code ec;
  fs::copy_file(source, temp->path(), fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::Internal("dockerfile builder: cannot copy " + source + ": " + ec.message());
  Status s = to.AdoptBlob(temp->path(), d);
  temp->Disown();
  return s;
}

// The image tagged `tag` in the layout buildah wrote, copied into `to` (the
// manifest last, so it never names a missing blob) and tagged `name`.
Result<Descriptor> AdoptImage(const std::string& from, const std::string& tag, OciLayout& to, const std::string& name) {
  auto index = ReadJsonFile(from + "/index.json");
  if (!index || !index->contains("manifests") || !(*index)["manifests"].is_array()) {
    return Status::Internal("dockerfile builder: buildah wrote no index.json in " + from);
  }
  std::optional<Descriptor> manifest;
  for (const auto& m : (*index)["manifests"]) {
    auto d = DescriptorFromJson(m);
    if (d.ok() && d->annotations[kAnnotationRefName] == tag) manifest = *d;
  }
  if (!manifest) return Status::Internal("dockerfile builder: buildah's layout has no image " + tag);
  auto text = [&]() -> Result<std::string> {
    std::ifstream in(from + "/blobs/sha256/" + std::string(manifest->digest.hex()), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in) return Status::Internal("dockerfile builder: cannot read buildah's manifest");
    return s.str();
  }();
  if (!text.ok()) return text.status();
  json m = json::parse(*text, nullptr, false);
  if (!m.is_object() || !m.contains("config") || !m["config"].is_object()) {
    return Status::Internal("dockerfile builder: buildah's manifest is not an image manifest");
  }
  std::vector<json> blobs = {m["config"]};
  for (const auto& l : m.value("layers", json::array())) blobs.push_back(l);
  for (const auto& b : blobs) {
    auto d = DescriptorFromJson(b);
    if (!d.ok()) return d.status();
    if (Status s = AdoptFrom(from, d->digest, to); !s.ok()) return s;
  }
  if (Status s = AdoptFrom(from, manifest->digest, to); !s.ok()) return s;
  manifest->annotations.clear();
  manifest->platform.reset();
  return to.Tag(name, *manifest);
}

class DockerfileStrategy : public Strategy {
 public:
  std::string_view name() const override { return "dockerfile"; }

  Detection Detect(const std::string& context, const std::map<std::string, std::string>&) const override {
    if (!IsRegularFile(context + "/Dockerfile")) return {};
    return {80, "Dockerfile"};
  }

  Result<Descriptor> Build(const StrategyInput& in) const override {
    const BuildEnv& env = *in.build;
    if (FindTool("buildah", env.tool_path).empty()) {
      return Status::FailedPrecondition(
          "the dockerfile builder needs buildah, which is not installed (apt-get install buildah)");
    }
    Storage storage(in.build_dir + "/buildah");
    // Every buildah call uses this build's own storage: nothing shared with
    // other builds or the machine's images, nothing left behind.
    const std::vector<std::string> store = {"buildah", "--root", storage.dir() + "/root", "--runroot",
                                            storage.dir() + "/run", "--storage-driver", "vfs"};
    ToolCall bud;
    bud.argv = store;
    // --timestamp 0: the same Dockerfile and files give the same image.
    bud.argv.insert(bud.argv.end(), {"bud", "--isolation", "chroot", "--layers=false", "--timestamp", "0", "--format",
                                     "oci", "--file", in.context + "/Dockerfile", "--tag", kLocalName});
    // spec.build.env are the build's parameters: Dockerfile ARGs.
    for (const auto& [k, v] : in.env) {
      bud.argv.push_back("--build-arg");
      bud.argv.push_back(k + "=" + v);
    }
    if (!in.revision.empty()) {
      bud.argv.push_back("--label");
      bud.argv.push_back("org.opencontainers.image.revision=" + in.revision);
    }
    bud.argv.push_back(in.context);
    bud.cwd = in.build_dir;
    // buildah's big temporary files (copies of layers) stay in the storage too.
    std::error_code ec;
    fs::create_directories(storage.dir() + "/tmp", ec);
    if (ec) return Status::Internal("cannot create " + storage.dir() + "/tmp: " + ec.message());
    bud.env = {{"TMPDIR", storage.dir() + "/tmp"}};
    env.log->Line("building the Dockerfile (buildah)");
    if (Status s = RunStep(env, bud, "buildah bud failed"); !s.ok()) return s;

    const std::string out = in.build_dir + "/oci";
    ToolCall push;
    push.argv = store;
    push.argv.insert(push.argv.end(), {"push", "--format", "oci", kLocalName, "oci:" + out + ":image"});
    push.cwd = in.build_dir;
    push.env = bud.env;
    if (Status s = RunStep(env, push, "buildah push failed"); !s.ok()) return s;
    if (Status s = env.Check(); !s.ok()) return s;
    return AdoptImage(out, "image", *in.layout, in.tag);
  }
};

}  // namespace

std::unique_ptr<Strategy> NewDockerfileStrategy() { return std::make_unique<DockerfileStrategy>(); }

}  // namespace ofn::build

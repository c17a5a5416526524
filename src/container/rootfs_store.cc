#include "container/rootfs_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "build/digest.h"
#include "common/unique_fd.h"
#include "container/tar_reader.h"

namespace ofn::container {
namespace {

using nlohmann::json;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<std::vector<std::string>> StringList(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Status::InvalidArgument(std::string("image config: ") + key + " is not a list");
  for (const auto& v : *it) {
    if (!v.is_string()) return Status::InvalidArgument(std::string("image config: ") + key + " has a non-string item");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::string> StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string("image config: ") + key + " is not a string");
  return it->get<std::string>();
}

// "./usr//bin/" -> {"usr", "bin"}; ".." anywhere is an error.
Result<std::vector<std::string>> SplitPath(const std::string& path) {
  std::vector<std::string> comps;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string c = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (c == "..") return Status::InvalidArgument("path \"" + path + "\" has a \"..\" component");
    if (!c.empty() && c != ".") comps.push_back(std::move(c));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return comps;
}

std::string Join(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "/" : "") + comps[i];
  return s;
}

// The directory holding comps.back(), opened component by component from
// `root` without following any symlink; missing directories are created
// (0755) when `create`. NotFound when a parent is missing and !create.
Result<UniqueFd> OpenParent(int root, const std::vector<std::string>& comps, bool create) {
  UniqueFd cur(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (cur.get() < 0) return Status::Internal(Errno("dup"));
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    int fd = ::openat(cur.get(), comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), comps[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::Internal(Errno("mkdir " + Join(comps, i + 1)));
      }
      fd = ::openat(cur.get(), comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP) {
        return Status::InvalidArgument("parent \"" + Join(comps, i + 1) + "\" is a symlink (not followed)");
      }
      if (errno == ENOTDIR) {
        // O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR too.
        struct stat st {};
        bool link = ::fstatat(cur.get(), comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        return Status::InvalidArgument("parent \"" + Join(comps, i + 1) + "\" is " +
                                       (link ? "a symlink (not followed)" : "not a directory"));
      }
      if (errno == ENOENT) return Status::NotFound("parent \"" + Join(comps, i + 1) + "\" does not exist");
      return Status::Internal(Errno("open " + Join(comps, i + 1)));
    }
    cur = UniqueFd(fd);
  }
  return cur;
}

Status RemoveAllAt(int dirfd, const std::string& name);

// Removes the entries of the directory `fd` for which keep(name) is false.
template <typename Keep>
Status ClearDir(int fd, Keep keep) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Status::Internal(Errno("dup"));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return Status::Internal(Errno("fdopendir"));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && !keep(n)) names.push_back(std::move(n));
  }
  ::closedir(d);
  for (const auto& n : names) {
    Status s = RemoveAllAt(fd, n);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status RemoveAllAt(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return Status::Ok();
  if (errno != EISDIR && errno != EPERM) return Status::Internal(Errno("remove " + name));
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return Status::Internal(Errno("open " + name));
  Status s = ClearDir(fd.get(), [](const std::string&) { return false; });
  if (!s.ok()) return s;
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) return Status::Internal(Errno("rmdir " + name));
  return Status::Ok();
}

bool SupportedLayer(const std::string& media_type) {
  return media_type == build::kMediaTypeLayerGzip || media_type == "application/vnd.oci.image.layer.v1.tar" ||
         media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
}

constexpr char kWhiteoutPrefix[] = ".wh.";
constexpr char kOpaque[] = ".wh..wh..opq";

// Applies one layer's entries to the rootfs at `root`.
class LayerApplier {
 public:
  explicit LayerApplier(int root) : root_(root), chown_(::geteuid() == 0) {}

  Status Apply(TarReader& tar) {
    while (true) {
      auto next = tar.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      const TarEntry& e = **next;
      Status s = ApplyEntry(tar, e);
      if (!s.ok()) return Status(s.code(), "entry \"" + e.path + "\": " + s.message());
    }
    // Directory mtimes last: creating entries inside changed them.
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
      auto parent = OpenParent(root_, it->first, false);
      if (!parent.ok()) continue;
      struct timespec ts[2] = {{it->second, 0}, {it->second, 0}};
      ::utimensat(parent->get(), it->first.back().c_str(), ts, AT_SYMLINK_NOFOLLOW);
    }
    return Status::Ok();
  }

 private:
  Status Owner(int fd, const char* name, const TarEntry& e) {
    if (!chown_) return Status::Ok();
    int r = name == nullptr ? ::fchown(fd, e.uid, e.gid) : ::fchownat(fd, name, e.uid, e.gid, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? Status::Ok() : Status::Internal(Errno("chown"));
  }

  Status ApplyEntry(TarReader& tar, const TarEntry& e) {
    auto split = SplitPath(e.path);
    if (!split.ok()) return split.status();
    std::vector<std::string>& comps = *split;
    if (comps.empty()) return Status::Ok();  // the root itself: keep the store's
    const std::string name = comps.back();
    std::string full = Join(comps, comps.size());

    if (name == kOpaque) {
      comps.pop_back();
      UniqueFd dir;
      if (comps.empty()) {
        dir = UniqueFd(::fcntl(root_, F_DUPFD_CLOEXEC, 0));
      } else {
        comps.push_back(".");  // open the directory itself through OpenParent's walk
        auto p = OpenParent(root_, comps, true);
        if (!p.ok()) return p.status();
        dir = std::move(*p);
        comps.pop_back();
      }
      std::string prefix = comps.empty() ? "" : Join(comps, comps.size()) + "/";
      // Only what lower layers put there goes; this layer's entries stay.
      return ClearDir(dir.get(), [&](const std::string& n) { return created_.count(prefix + n) > 0; });
    }
    if (name.rfind(kWhiteoutPrefix, 0) == 0) {
      std::string target = name.substr(std::strlen(kWhiteoutPrefix));
      // ".wh..." would name the parent directory: out of the rootfs at its top.
      if (target.empty() || target == "." || target == "..") return Status::InvalidArgument("malformed whiteout");
      auto p = OpenParent(root_, comps, false);
      if (!p.ok()) return p.status().code() == StatusCode::kNotFound ? Status::Ok() : p.status();
      return RemoveAllAt(p->get(), target);
    }

    auto parent = OpenParent(root_, comps, true);
    if (!parent.ok()) return parent.status();
    int pfd = parent->get();
    created_.insert(full);

    struct stat st {};
    bool exists = ::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    switch (e.type) {
      case TarEntry::Type::kDirectory: {
        if (exists && !S_ISDIR(st.st_mode)) {
          Status s = RemoveAllAt(pfd, name);
          if (!s.ok()) return s;
          exists = false;
        }
        if (!exists && ::mkdirat(pfd, name.c_str(), 0700) != 0) return Status::Internal(Errno("mkdir"));
        UniqueFd d(::openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (d.get() < 0) return Status::Internal(Errno("open directory"));
        Status s = Owner(d.get(), nullptr, e);
        if (!s.ok()) return s;
        if (::fchmod(d.get(), e.mode) != 0) return Status::Internal(Errno("chmod"));
        dir_times_.emplace_back(comps, e.mtime);
        return Status::Ok();
      }
      case TarEntry::Type::kFile: {
        if (exists) {
          Status s = RemoveAllAt(pfd, name);
          if (!s.ok()) return s;
        }
        UniqueFd f(::openat(pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (f.get() < 0) return Status::Internal(Errno("create"));
        char buf[64 * 1024];
        while (true) {
          auto n = tar.Read(buf, sizeof buf);
          if (!n.ok()) return n.status();
          if (*n == 0) break;
          for (size_t off = 0; off < *n;) {
            ssize_t w = ::write(f.get(), buf + off, *n - off);
            if (w < 0) {
              if (errno == EINTR) continue;
              return Status::Internal(Errno("write"));
            }
            off += static_cast<size_t>(w);
          }
        }
        Status s = Owner(f.get(), nullptr, e);  // before chmod: chown clears setuid
        if (!s.ok()) return s;
        if (::fchmod(f.get(), e.mode) != 0) return Status::Internal(Errno("chmod"));
        struct timespec ts[2] = {{e.mtime, 0}, {e.mtime, 0}};
        ::futimens(f.get(), ts);
        return Status::Ok();
      }
      case TarEntry::Type::kSymlink: {
        if (exists) {
          Status s = RemoveAllAt(pfd, name);
          if (!s.ok()) return s;
        }
        if (::symlinkat(e.link_target.c_str(), pfd, name.c_str()) != 0) return Status::Internal(Errno("symlink"));
        Status s = Owner(pfd, name.c_str(), e);
        if (!s.ok()) return s;
        struct timespec ts[2] = {{e.mtime, 0}, {e.mtime, 0}};
        ::utimensat(pfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
        return Status::Ok();
      }
      case TarEntry::Type::kHardlink: {
        auto tsplit = SplitPath(e.link_target);
        if (!tsplit.ok()) return Status::InvalidArgument("hardlink target: " + tsplit.status().message());
        if (tsplit->empty()) return Status::InvalidArgument("hardlink to the root");
        if (Join(*tsplit, tsplit->size()) == full) return Status::InvalidArgument("hardlink to itself");
        auto tparent = OpenParent(root_, *tsplit, false);
        if (!tparent.ok()) return Status::InvalidArgument("hardlink target: " + tparent.status().message());
        if (exists) {
          Status s = RemoveAllAt(pfd, name);
          if (!s.ok()) return s;
        }
        // flags 0: a symlink target is linked itself, never followed.
        if (::linkat(tparent->get(), tsplit->back().c_str(), pfd, name.c_str(), 0) != 0) {
          return Status::InvalidArgument(Errno("hardlink to \"" + e.link_target + "\""));
        }
        return Status::Ok();
      }
      case TarEntry::Type::kFifo: {
        if (exists) {
          Status s = RemoveAllAt(pfd, name);
          if (!s.ok()) return s;
        }
        if (::mknodat(pfd, name.c_str(), S_IFIFO | (e.mode & 07777), 0) != 0) return Status::Internal(Errno("mkfifo"));
        return Owner(pfd, name.c_str(), e);
      }
      case TarEntry::Type::kCharDevice:
      case TarEntry::Type::kBlockDevice:
        created_.erase(full);
        return Status::Ok();  // skipped: containers get their /dev from the runtime
    }
    return Status::Ok();
  }

  int root_;
  bool chown_;
  std::set<std::string> created_;  // paths this layer wrote (for opaque whiteouts)
  std::vector<std::pair<std::vector<std::string>, int64_t>> dir_times_;
};

// Applies the layer blob at `path` while hashing it; the digest and size
// must match `desc`.
Status ApplyLayer(int root, const std::string& path, const build::Descriptor& desc) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno == ENOENT ? Status::NotFound("layer " + desc.digest.str() + ": blob missing")
                           : Status::Internal(Errno("open " + path));
  }
  build::Sha256 hash;
  uint64_t total = 0;
  auto read = [&](char* buf, size_t n) -> Result<size_t> {
    while (true) {
      ssize_t r = ::read(fd.get(), buf, n);
      if (r >= 0) {
        hash.Update(buf, static_cast<size_t>(r));
        total += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno != EINTR) return Status::Internal(Errno("read " + path));
    }
  };
  TarReader tar(read);
  LayerApplier applier(root);
  Status applied = applier.Apply(tar);
  if (applied.ok()) applied = tar.Drain();
  // Whatever happened, hash the rest: a digest mismatch is the root cause
  // of most malformed archives and is reported first.
  char buf[64 * 1024];
  while (true) {
    auto n = read(buf, sizeof buf);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
  }
  build::Digest got = hash.Finish();
  if (!(got == desc.digest) || static_cast<int64_t>(total) != desc.size) {
    return Status::InvalidArgument("layer " + desc.digest.str() + ": content does not match its descriptor (read " +
                                   std::to_string(total) + " bytes with digest " + got.str() + ", expected " +
                                   std::to_string(desc.size) + " bytes)");
  }
  if (!applied.ok()) return Status(applied.code(), "layer " + desc.digest.str() + ": " + applied.message());
  return Status::Ok();
}

// Creates the mount points an OCI runtime needs, unless the image has them.
Status MountPoints(int root) {
  for (const auto& [name, mode] : {std::pair<const char*, mode_t>{"proc", 0555}, {"sys", 0555}, {"dev", 0755},
                                   {"tmp", 01777}}) {
    struct stat st {};
    if (::fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (::mkdirat(root, name, mode) != 0) return Status::Internal(Errno(std::string("mkdir ") + name));
    ::fchmodat(root, name, mode, 0);  // beyond the umask
  }
  return Status::Ok();
}

}  // namespace

Result<ImageRunConfig> ParseImageRunConfig(const std::string& config_json) {
  json doc = json::parse(config_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::InvalidArgument("image config is not a JSON object");
  ImageRunConfig rc;
  auto it = doc.find("config");
  if (it == doc.end() || it->is_null()) return rc;
  if (!it->is_object()) return Status::InvalidArgument("image config: config is not an object");
  const json& c = *it;
  auto ep = StringList(c, "Entrypoint");
  auto cmd = StringList(c, "Cmd");
  auto env = StringList(c, "Env");
  auto wd = StringField(c, "WorkingDir");
  auto user = StringField(c, "User");
  for (const Status* s : {&ep.status(), &cmd.status(), &env.status(), &wd.status(), &user.status()}) {
    if (!s->ok()) return *s;
  }
  rc.entrypoint = std::move(*ep);
  rc.cmd = std::move(*cmd);
  rc.env = std::move(*env);
  rc.working_dir = std::move(*wd);
  rc.user = std::move(*user);
  auto ports = c.find("ExposedPorts");
  if (ports != c.end() && !ports->is_null()) {
    if (!ports->is_object()) return Status::InvalidArgument("image config: ExposedPorts is not an object");
    for (const auto& [k, v] : ports->items()) rc.exposed_ports.push_back(k);
  }
  return rc;
}

Result<Rootfs> RootfsStore::Unpack(const build::OciLayout& layout, const build::Descriptor& manifest) {
  auto manifest_text = layout.ReadBlob(manifest.digest);
  if (!manifest_text.ok()) return manifest_text.status();
  json m = json::parse(*manifest_text, nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("config") || !m.contains("layers") || !m["layers"].is_array()) {
    return Status::InvalidArgument("manifest " + manifest.digest.str() + " is not an image manifest");
  }
  auto config_desc = build::DescriptorFromJson(m["config"]);
  if (!config_desc.ok()) return config_desc.status();
  std::vector<build::Descriptor> layers;
  for (const auto& l : m["layers"]) {
    auto d = build::DescriptorFromJson(l);
    if (!d.ok()) return d.status();
    if (!SupportedLayer(d->media_type)) {
      return Status::InvalidArgument("layer " + d->digest.str() + ": unsupported media type " + d->media_type);
    }
    layers.push_back(std::move(*d));
  }
  auto config_text = layout.ReadBlob(config_desc->digest);
  if (!config_text.ok()) return config_text.status();
  auto config = ParseImageRunConfig(*config_text);
  if (!config.ok()) return config.status();

  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::Internal("create " + dir_ + ": " + ec.message());
  const std::string hex(manifest.digest.hex());
  const std::string final_dir = dir_ + "/" + hex;
  Rootfs out;
  out.path = final_dir + "/rootfs";
  out.config = std::move(*config);

  UniqueFd lock(::open((final_dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return Status::Internal(Errno("open " + final_dir + ".lock"));
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::Internal(Errno("flock " + final_dir + ".lock"));
  }
  struct stat st {};
  if (::lstat(out.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return out;

  // Leftovers of unpackers that died (we hold the lock: nobody else is at it).
  const std::string tmp_prefix = ".unpack-" + hex + "-";
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().rfind(tmp_prefix, 0) == 0) std::filesystem::remove_all(entry.path(), ec);
  }
  std::string tmp = dir_ + "/" + tmp_prefix + "XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return Status::Internal(Errno("mkdtemp in " + dir_));
  auto cleanup = [&] { std::filesystem::remove_all(tmp, ec); };
  if (::chmod(tmp.c_str(), 0755) != 0 || ::mkdir((tmp + "/rootfs").c_str(), 0755) != 0) {
    Status s = Status::Internal(Errno("create " + tmp + "/rootfs"));
    cleanup();
    return s;
  }
  UniqueFd root(::open((tmp + "/rootfs").c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  Status s = root.get() >= 0 ? Status::Ok() : Status::Internal(Errno("open " + tmp + "/rootfs"));
  for (size_t i = 0; s.ok() && i < layers.size(); ++i) s = ApplyLayer(root.get(), layout.BlobPath(layers[i].digest), layers[i]);
  if (s.ok()) s = MountPoints(root.get());
  if (s.ok()) ::fchmod(root.get(), 0755);
  if (s.ok() && ::rename(tmp.c_str(), final_dir.c_str()) != 0) s = Status::Internal(Errno("rename to " + final_dir));
  if (!s.ok()) {
    cleanup();
    return Status(s.code(), "unpack " + manifest.digest.str() + ": " + s.message());
  }
  out.unpacked = true;
  return out;
}

Status RootfsStore::Remove(const build::Digest& manifest) {
  const std::string final_dir = dir_ + "/" + std::string(manifest.hex());
  UniqueFd lock(::open((final_dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return errno == ENOENT ? Status::Ok() : Status::Internal(Errno("open " + final_dir + ".lock"));
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::Internal(Errno("flock"));
  }
  std::error_code ec;
  std::filesystem::remove_all(final_dir, ec);
  if (ec) return Status::Internal("remove " + final_dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace ofn::container

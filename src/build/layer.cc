#include "build/layer.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace ofn::build {

namespace {

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

const char* FileTypeName(mode_t m) {
  if (S_ISFIFO(m)) return "a fifo";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "an unsupported file type";
}

// One entry to write, keyed by its normalised path in a sorted map.
struct Planned {
  LayerEntry::Type type = LayerEntry::Type::kDirectory;
  uint32_t mode = 0755;
  const std::string* content = nullptr;  // a spec entry's bytes
  std::string source;                    // a host file to stream
  std::string target;                    // symlink target
  std::string origin;                    // for errors: what the caller named
  bool implied = false;                  // a parent directory nobody listed
};

using Plan = std::map<std::string, Planned>;  // std::string orders bytes as unsigned: stable

bool IsDir(const Planned& p) { return p.type == LayerEntry::Type::kDirectory; }

Status Insert(Plan& plan, std::string path, Planned p) {
  if (path.empty()) {
    if (IsDir(p)) return Status::Ok();  // the image root exists already
    return Status::InvalidArgument("layer: " + p.origin + ": cannot replace the image root");
  }
  auto [it, inserted] = plan.try_emplace(path, p);
  if (inserted) return Status::Ok();
  if (IsDir(it->second) && IsDir(p)) {
    if (it->second.implied) it->second = std::move(p);
    return Status::Ok();
  }
  return Status::InvalidArgument("layer: /" + path + " appears twice (" + it->second.origin + ", " + p.origin + ")");
}

// A relative target must stay inside the image when resolved from the
// link's directory; absolute targets always do (they resolve in the rootfs).
Status CheckLinkTarget(const std::string& path, const std::string& target, const std::string& origin) {
  if (target.empty()) return Status::InvalidArgument("layer: " + origin + ": empty symlink target");
  if (target.find('\0') != std::string::npos) {
    return Status::InvalidArgument("layer: " + origin + ": bad symlink target");
  }
  if (target.front() == '/') return Status::Ok();
  long depth = 0;
  for (char c : path) depth += c == '/';
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    size_t len = slash == std::string::npos ? std::string::npos : slash - start;
    std::string_view comp = std::string_view(target).substr(start, len);
    if (comp == "..") {
      if (--depth < 0) {
        return Status::InvalidArgument("layer: " + origin + ": symlink target \"" + target +
                                       "\" escapes the image root");
      }
    } else if (!comp.empty() && comp != ".") {
      ++depth;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status AddEntry(Plan& plan, const LayerEntry& e) {
  auto path = NormalizeImagePath(e.path);
  if (!path.ok()) return path.status();
  Planned p;
  p.type = e.type;
  p.mode = e.mode;
  p.origin = e.path;
  switch (e.type) {
    case LayerEntry::Type::kFile:
      if (e.source_file.empty()) {
        p.content = &e.content;
      } else {
        p.source = e.source_file;
      }
      break;
    case LayerEntry::Type::kDirectory: break;
    case LayerEntry::Type::kSymlink:
      if (Status s = CheckLinkTarget(*path, e.link_target, e.path); !s.ok()) return s;
      p.target = e.link_target;
      break;
  }
  return Insert(plan, std::move(*path), std::move(p));
}

Status AddTree(Plan& plan, const LayerTree& tree) {
  auto root = NormalizeImagePath(tree.image_root);
  if (!root.ok()) return root.status();
  struct stat st {};
  if (::stat(tree.host_dir.c_str(), &st) != 0) return Status::NotFound(ErrnoText("layer: " + tree.host_dir));
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("layer: not a directory: " + tree.host_dir);
  Planned rootdir;
  rootdir.mode = st.st_mode & kTarModeMask;
  rootdir.origin = tree.host_dir;
  if (Status s = Insert(plan, *root, std::move(rootdir)); !s.ok()) return s;

  // Explicit stack: depth is bounded by memory, not by the call stack.
  std::vector<std::pair<std::string, std::string>> todo{{tree.host_dir, *root}};
  while (!todo.empty()) {
    auto [host, image] = std::move(todo.back());
    todo.pop_back();
    DIR* dir = ::opendir(host.c_str());
    if (dir == nullptr) return Status::Internal(ErrnoText("layer: open directory " + host));
    std::vector<std::string> names;
    errno = 0;
    while (dirent* d = ::readdir(dir)) {
      std::string_view n = d->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int read_errno = errno;
    ::closedir(dir);
    if (read_errno != 0) {
      errno = read_errno;
      return Status::Internal(ErrnoText("layer: read directory " + host));
    }
    for (const std::string& name : names) {
      std::string hpath = host + "/" + name;
      std::string ipath = image.empty() ? name : image + "/" + name;
      struct stat est {};
      if (::lstat(hpath.c_str(), &est) != 0) return Status::Internal(ErrnoText("layer: stat " + hpath));
      Planned p;
      p.origin = hpath;
      p.mode = est.st_mode & kTarModeMask;
      if (S_ISDIR(est.st_mode)) {
        p.type = LayerEntry::Type::kDirectory;
        todo.emplace_back(hpath, ipath);
      } else if (S_ISREG(est.st_mode)) {
        p.type = LayerEntry::Type::kFile;
        p.source = hpath;
      } else if (S_ISLNK(est.st_mode)) {
        p.type = LayerEntry::Type::kSymlink;
        std::string target(static_cast<size_t>(est.st_size) + 1, '\0');
        ssize_t n = ::readlink(hpath.c_str(), target.data(), target.size());
        if (n < 0) return Status::Internal(ErrnoText("layer: readlink " + hpath));
        if (static_cast<size_t>(n) >= target.size()) return Status::Internal("layer: " + hpath + " changed while read");
        target.resize(static_cast<size_t>(n));
        if (Status s = CheckLinkTarget(ipath, target, hpath); !s.ok()) return s;
        p.target = std::move(target);
      } else {
        return Status::InvalidArgument("layer: " + hpath + " is " + FileTypeName(est.st_mode) +
                                       " (only files, directories and symlinks go into a layer)");
      }
      if (Status s = Insert(plan, std::move(ipath), std::move(p)); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<Plan> MakePlan(const LayerSpec& spec) {
  Plan plan;
  for (const auto& e : spec.entries) {
    if (Status s = AddEntry(plan, e); !s.ok()) return s;
  }
  for (const auto& t : spec.trees) {
    if (Status s = AddTree(plan, t); !s.ok()) return s;
  }
  // Every parent must be a directory; missing ones are implied.
  std::vector<std::string> paths;
  paths.reserve(plan.size());
  for (const auto& [path, p] : plan) paths.push_back(path);
  for (const std::string& path : paths) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string parent = path.substr(0, slash);
      auto it = plan.find(parent);
      if (it == plan.end()) {
        Planned dir;
        dir.implied = true;
        dir.origin = "/" + parent;
        plan.emplace(std::move(parent), std::move(dir));
      } else if (!IsDir(it->second)) {
        return Status::InvalidArgument("layer: /" + parent + " (" + it->second.origin +
                                       ") is not a directory but /" + path + " is under it");
      }
    }
  }
  return plan;
}

// gzip into a temp file, hashing what goes in (the diff_id) and what comes
// out (the blob digest). Input is batched: the tar writer hands over 512-byte
// headers one by one, and deflate is cheaper on large inputs.
class GzipBlobWriter {
 public:
  explicit GzipBlobWriter(TempFile& out) : out_(out) {}
  ~GzipBlobWriter() {
    if (initialised_) deflateEnd(&zs_);
  }

  Status Init(int level) {
    if (level < 0 || level > 9) return Status::InvalidArgument("layer: gzip level must be 0..9");
    // windowBits 15 + 16: a gzip wrapper instead of zlib's.
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::Internal("layer: deflateInit2 failed");
    }
    initialised_ = true;
    header_.time = 0;
    header_.os = 3;  // Unix, fixed: the header must not depend on the build machine
    if (deflateSetHeader(&zs_, &header_) != Z_OK) return Status::Internal("layer: deflateSetHeader failed");
    pending_.reserve(kBatch);
    return Status::Ok();
  }

  Status Write(std::string_view bytes) {
    tar_hash_.Update(bytes);
    if (pending_.size() + bytes.size() <= kBatch) {
      pending_.append(bytes);
      return Status::Ok();
    }
    if (Status s = Flush(); !s.ok()) return s;
    if (bytes.size() >= kBatch) return Deflate(bytes, Z_NO_FLUSH);
    pending_.append(bytes);
    return Status::Ok();
  }

  Status Finish() {
    if (Status s = Flush(); !s.ok()) return s;
    return Deflate({}, Z_FINISH);
  }

  Digest diff_id() { return tar_hash_.Finish(); }
  Digest blob_digest() { return gz_hash_.Finish(); }
  uint64_t blob_size() const { return gz_size_; }

 private:
  static constexpr size_t kBatch = 256 * 1024;

  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    Status s = Deflate(pending_, Z_NO_FLUSH);
    pending_.clear();
    return s;
  }

  Status Deflate(std::string_view in, int flush) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(out_buf_.data());
      zs_.avail_out = static_cast<uInt>(out_buf_.size());
      int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) return Status::Internal("layer: deflate failed");
      size_t have = out_buf_.size() - zs_.avail_out;
      if (have > 0) {
        std::string_view chunk(out_buf_.data(), have);
        gz_hash_.Update(chunk);
        gz_size_ += have;
        if (Status s = out_.Write(chunk); !s.ok()) return s;
      }
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_out != 0 && zs_.avail_in == 0)) break;
    }
    return Status::Ok();
  }

  TempFile& out_;
  z_stream zs_{};
  gz_header header_{};
  bool initialised_ = false;
  std::string pending_;
  std::vector<char> out_buf_ = std::vector<char>(256 * 1024);
  Sha256 tar_hash_;
  Sha256 gz_hash_;
  uint64_t gz_size_ = 0;
};

}  // namespace

LayerEntry LayerEntry::File(std::string path, std::string content, uint32_t mode) {
  LayerEntry e;
  e.type = Type::kFile;
  e.path = std::move(path);
  e.content = std::move(content);
  e.mode = mode;
  return e;
}

LayerEntry LayerEntry::FileFrom(std::string path, std::string source_file, uint32_t mode) {
  LayerEntry e;
  e.type = Type::kFile;
  e.path = std::move(path);
  e.source_file = std::move(source_file);
  e.mode = mode;
  return e;
}

LayerEntry LayerEntry::Directory(std::string path, uint32_t mode) {
  LayerEntry e;
  e.type = Type::kDirectory;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}

LayerEntry LayerEntry::Symlink(std::string path, std::string target) {
  LayerEntry e;
  e.type = Type::kSymlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  e.mode = 0777;
  return e;
}

Result<std::string> NormalizeImagePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    size_t len = slash == std::string_view::npos ? std::string_view::npos : slash - start;
    std::string_view comp = path.substr(start, len);
    if (comp == "..") {
      return Status::InvalidArgument("layer: path \"" + std::string(path) + "\" escapes the image root (\"..\")");
    }
    if (comp.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("layer: path contains a NUL byte");
    }
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out += '/';
      out += comp;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Status WriteLayerTar(const LayerSpec& spec, const TarSink& sink) {
  auto plan = MakePlan(spec);
  if (!plan.ok()) return plan.status();
  TarWriter tar(sink);
  for (const auto& [path, p] : *plan) {
    Status s;
    switch (p.type) {
      case LayerEntry::Type::kDirectory: s = tar.AddDirectory(path, p.mode, spec.mtime); break;
      case LayerEntry::Type::kSymlink: s = tar.AddSymlink(path, p.target, spec.mtime); break;
      case LayerEntry::Type::kFile:
        s = p.content != nullptr ? tar.AddFile(path, p.mode, *p.content, spec.mtime)
                                 : tar.AddFileFrom(path, p.mode, p.source, spec.mtime);
        break;
    }
    if (!s.ok()) return s;
  }
  return tar.Finish();
}

Result<Layer> WriteLayer(OciLayout& layout, const LayerSpec& spec) {
  auto tmp = layout.CreateTemp();
  if (!tmp.ok()) return tmp.status();
  GzipBlobWriter gz(*tmp);
  if (Status s = gz.Init(spec.gzip_level); !s.ok()) return s;
  if (Status s = WriteLayerTar(spec, [&gz](std::string_view b) { return gz.Write(b); }); !s.ok()) return s;
  if (Status s = gz.Finish(); !s.ok()) return s;
  if (Status s = tmp->Close(); !s.ok()) return s;
  Digest digest = gz.blob_digest();
  Status adopted = layout.AdoptBlob(tmp->path(), digest);
  tmp->Disown();  // adopted or removed: the name is no longer ours
  if (!adopted.ok()) return adopted;
  return Layer{Descriptor{kMediaTypeLayerGzip, digest, static_cast<int64_t>(gz.blob_size()), {}, std::nullopt},
               gz.diff_id(), spec.created_by};
}

}  // namespace ofn::build

#include "build/oci_layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/unique_fd.h"

namespace ofn::build {

namespace fs = std::filesystem;

namespace {

constexpr char kLayoutFile[] = "oci-layout";
constexpr char kLayoutVersion[] = "1.0.0";

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(ErrnoText("write " + path));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> ReadAll(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path);
    return Status::Internal(ErrnoText("open " + path));
  }
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(ErrnoText("read " + path));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<Digest> HashFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return Status::NotFound(ErrnoText("open " + path));
  Sha256 h;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(ErrnoText("read " + path));
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
  }
  return h.Finish();
}

// Makes a directory entry durable after a rename into it.
void SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

// Writes `bytes` to a temp file in `dir`, then renames it over `path`.
Status WriteFileAtomic(const std::string& dir, const std::string& path, std::string_view bytes) {
  std::string tmp = dir + "/.tmp-XXXXXX";
  int raw = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (raw < 0) return Status::Internal(ErrnoText("create temp file in " + dir));
  TempFile f(raw, tmp);
  if (Status s = f.Write(bytes); !s.ok()) return s;
  if (::fchmod(f.fd(), 0644) != 0) return Status::Internal(ErrnoText("chmod " + tmp));
  if (Status s = f.Close(); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::Internal(ErrnoText("rename to " + path));
  f.Disown();
  SyncDir(fs::path(path).parent_path().string());
  return Status::Ok();
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// One component of the ref.name grammar: alphanumeric runs joined by one of
// [-._:@+] or by "--".
bool ValidComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsAlnum(c[i])) {
      ++i;
      continue;
    }
    if (std::string_view("-._:@+").find(c[i]) == std::string_view::npos) return false;
    size_t run = 1;
    while (i + run < c.size() && !IsAlnum(c[i + run])) ++run;
    if (run == 2 && c.substr(i, 2) == "--") {
      i += 2;
      continue;
    }
    if (run != 1) return false;
    ++i;
  }
  return true;
}

}  // namespace

bool ValidTagName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    if (!ValidComponent(name.substr(start, slash == std::string_view::npos ? slash : slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// --- TempFile ---

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());  // ENOENT once adopted: fine
}

TempFile::TempFile(TempFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
  other.path_.clear();
}

Status TempFile::Write(std::string_view bytes) {
  if (fd_ < 0) return Status::FailedPrecondition("write to closed temp file " + path_);
  return WriteAll(fd_, bytes, path_);
}

Status TempFile::Close() {
  if (fd_ < 0) return Status::Ok();
  int fd = fd_;
  fd_ = -1;
  // Durable before it is renamed into blobs/: a blob that exists is whole.
  if (::fsync(fd) != 0) {
    ::close(fd);
    return Status::Internal(ErrnoText("fsync " + path_));
  }
  if (::close(fd) != 0) return Status::Internal(ErrnoText("close " + path_));
  return Status::Ok();
}

// --- OciLayout ---

Result<OciLayout> OciLayout::Open(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty OCI layout path");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("create OCI layout " + dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec)) return Status::FailedPrecondition("not a directory: " + dir);

  OciLayout layout(dir);
  const std::string marker = dir + "/" + kLayoutFile;
  auto text = ReadAll(marker);
  if (text.ok()) {
    auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    auto v = j.is_object() ? j.find("imageLayoutVersion") : j.end();
    if (!j.is_object() || v == j.end() || !v->is_string() || v->get<std::string>() != kLayoutVersion) {
      return Status::FailedPrecondition(marker + ": not an OCI image layout version " + kLayoutVersion);
    }
  } else if (text.status().code() == StatusCode::kNotFound) {
    if (!fs::is_empty(dir, ec) || ec) {
      return Status::FailedPrecondition(dir + " is neither empty nor an OCI image layout (no oci-layout file)");
    }
    nlohmann::json index = {
        {"schemaVersion", 2}, {"mediaType", kMediaTypeIndex}, {"manifests", nlohmann::json::array()}};
    fs::create_directories(dir + "/blobs/sha256", ec);
    if (ec) return Status::Internal("create " + dir + "/blobs/sha256: " + ec.message());
    if (Status s = WriteFileAtomic(dir, dir + "/index.json", index.dump() + "\n"); !s.ok()) return s;
    // oci-layout last: its presence marks a complete layout.
    nlohmann::json marker_json = {{"imageLayoutVersion", kLayoutVersion}};
    if (Status s = WriteFileAtomic(dir, marker, marker_json.dump()); !s.ok()) return s;
  } else {
    return text.status();
  }
  fs::create_directories(dir + "/blobs/sha256", ec);
  if (ec) return Status::Internal("create " + dir + "/blobs/sha256: " + ec.message());
  return layout;
}

std::string OciLayout::BlobPath(const Digest& d) const {
  return dir_ + "/blobs/sha256/" + std::string(d.hex());
}

bool OciLayout::HasBlob(const Digest& d) const {
  struct stat st {};
  return ::lstat(BlobPath(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<TempFile> OciLayout::CreateTemp() {
  std::string tmp = dir_ + "/.tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::Internal(ErrnoText("create temp file in " + dir_));
  return TempFile(fd, std::move(tmp));
}

Result<Digest> OciLayout::PutBlob(std::string_view bytes) {
  Digest d = Digest::Of(bytes);
  if (HasBlob(d)) return d;
  auto tmp = CreateTemp();
  if (!tmp.ok()) return tmp.status();
  if (Status s = tmp->Write(bytes); !s.ok()) return s;
  if (Status s = tmp->Close(); !s.ok()) return s;
  Status adopted = AdoptBlob(tmp->path(), d);
  tmp->Disown();  // adopted or removed
  if (!adopted.ok()) return adopted;
  return d;
}

Status OciLayout::AdoptBlob(const std::string& temp_path, const Digest& expected) {
  auto actual = HashFile(temp_path);
  if (!actual.ok()) {
    ::unlink(temp_path.c_str());
    return actual.status();
  }
  if (!(*actual == expected)) {
    ::unlink(temp_path.c_str());
    return Status::InvalidArgument("blob digest mismatch: expected " + expected.str() + ", got " + actual->str());
  }
  if (HasBlob(expected)) {
    ::unlink(temp_path.c_str());
    return Status::Ok();
  }
  // mkstemp made it 0600; blobs are world-readable like any image content.
  if (::chmod(temp_path.c_str(), 0644) != 0) {
    Status s = Status::Internal(ErrnoText("chmod " + temp_path));
    ::unlink(temp_path.c_str());
    return s;
  }
  const std::string path = BlobPath(expected);
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    Status s = Status::Internal(ErrnoText("rename " + temp_path + " to " + path));
    ::unlink(temp_path.c_str());
    return s;
  }
  SyncDir(dir_ + "/blobs/sha256");
  return Status::Ok();
}

Result<std::string> OciLayout::ReadBlob(const Digest& d) const {
  auto bytes = ReadAll(BlobPath(d));
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return Status::NotFound("no blob " + d.str() + " in " + dir_);
    return bytes.status();
  }
  Digest actual = Digest::Of(*bytes);
  if (!(actual == d)) {
    return Status::Internal("blob " + d.str() + " in " + dir_ + " is corrupt (hashes to " + actual.str() + ")");
  }
  return bytes;
}

Result<nlohmann::json> OciLayout::ReadIndex() const {
  const std::string path = dir_ + "/index.json";
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Internal(path + ": not a JSON object");
  auto m = j.find("manifests");
  if (m == j.end()) {
    j["manifests"] = nlohmann::json::array();
  } else if (!m->is_array()) {
    return Status::Internal(path + ": manifests is not an array");
  }
  return j;
}

Result<Descriptor> OciLayout::Tag(std::string_view name, const Descriptor& manifest) {
  if (!ValidTagName(name)) return Status::InvalidArgument("invalid tag name \"" + std::string(name) + "\"");
  if (!HasBlob(manifest.digest)) {
    return Status::FailedPrecondition("tag " + std::string(name) + ": no blob " + manifest.digest.str());
  }

  // A fresh descriptor per call, so the flock also excludes other threads
  // of this process (locks belong to open file descriptions).
  UniqueFd lock(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (lock.get() < 0) return Status::Internal(ErrnoText("open " + dir_));
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Status::Internal(ErrnoText("lock " + dir_));
  }

  auto index = ReadIndex();
  if (!index.ok()) return index.status();
  Descriptor stored = manifest;
  stored.annotations[kAnnotationRefName] = std::string(name);

  // Other entries are kept as JSON, so fields Ofn does not know survive.
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& m : (*index)["manifests"]) {
    const nlohmann::json* ref = nullptr;
    if (m.is_object()) {
      if (auto a = m.find("annotations"); a != m.end() && a->is_object()) {
        if (auto r = a->find(kAnnotationRefName); r != a->end()) ref = &*r;
      }
    }
    if (ref != nullptr && ref->is_string() && ref->get<std::string>() == name) continue;
    kept.push_back(m);
  }
  kept.push_back(DescriptorToJson(stored));
  (*index)["manifests"] = std::move(kept);
  (*index)["schemaVersion"] = 2;
  if (!index->contains("mediaType")) (*index)["mediaType"] = kMediaTypeIndex;

  std::string text;
  try {
    text = index->dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("index.json: ") + e.what());
  }
  if (Status s = WriteFileAtomic(dir_, dir_ + "/index.json", text); !s.ok()) return s;
  return stored;
}

Result<Descriptor> OciLayout::Resolve(std::string_view name) const {
  auto index = ReadIndex();
  if (!index.ok()) return index.status();
  for (const auto& m : (*index)["manifests"]) {
    if (!m.is_object()) continue;
    auto a = m.find("annotations");
    if (a == m.end() || !a->is_object()) continue;
    auto r = a->find(kAnnotationRefName);
    if (r == a->end() || !r->is_string() || r->get<std::string>() != name) continue;
    auto d = DescriptorFromJson(m);
    if (!d.ok()) return Status::Internal(dir_ + "/index.json: " + std::string(name) + ": " + d.status().message());
    return d;
  }
  return Status::NotFound("no image tagged \"" + std::string(name) + "\" in " + dir_);
}

}  // namespace ofn::build

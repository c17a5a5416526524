// OciLayout: an OCI image layout directory — `oci-layout`, `index.json` and
// content-addressed blobs under `blobs/sha256/<hex>` — that skopeo, umoci and
// registries' tools read as is (`oci:DIR:TAG`).
//
// Blobs are immutable and appear atomically: written to a temporary file in
// the layout, fsync'd, verified against their digest, then renamed into
// place, so a reader (or a crash) never sees a partial blob. Blob paths are
// built only from parsed Digests. Tags are manifest descriptors in
// index.json, named by the `org.opencontainers.image.ref.name` annotation;
// index.json is replaced atomically (temp file + rename).
//
// Thread-safety: all methods may be called from any thread, and several
// processes may share a layout: blob writes are idempotent renames, and Tag
// holds an exclusive flock on the layout directory for its read-modify-write
// of index.json. Manifests replaced by Tag stay in blobs/ (no garbage
// collection yet).
#pragma once

#include <string>
#include <string_view>

#include "build/descriptor.h"
#include "build/digest.h"
#include "ofn/status.h"

namespace ofn::build {

// A temporary file inside a layout, for a blob being written. Removed on
// destruction unless AdoptBlob moved it into blobs/. Move-only.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile();
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Writes all of `bytes` at the current offset.
  Status Write(std::string_view bytes);
  // fsync and close; the file stays until adopted or destroyed.
  Status Close();
  // Forgets the file without removing it: after AdoptBlob (which moved or
  // removed it), so a later file of the same name is left alone.
  void Disown() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

class OciLayout {
 public:
  // Opens the layout at `dir`, creating it (and its parents) when it does
  // not exist or is an empty directory. A non-empty directory without an
  // `oci-layout` file, or with a version other than 1.0.0, is
  // FailedPrecondition: Ofn does not write into directories it did not make.
  static Result<OciLayout> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string BlobPath(const Digest& d) const;

  bool HasBlob(const Digest& d) const;
  // Stores `bytes` (if not already there) and returns their digest.
  Result<Digest> PutBlob(std::string_view bytes);
  // A fresh temporary file in the layout (same file system as blobs/).
  Result<TempFile> CreateTemp();
  // Hashes the file at temp_path; when it matches `expected`, renames it to
  // the blob's path (or removes it if that blob exists already). On a
  // mismatch the file is removed and the error names both digests.
  Status AdoptBlob(const std::string& temp_path, const Digest& expected);
  // The whole blob, verified against its digest (Internal on corruption).
  Result<std::string> ReadBlob(const Digest& d) const;

  // Points `name` at a manifest: replaces any manifest of that name in
  // index.json (keeping the others, byte for byte in meaning) and writes
  // index.json atomically. The blob must exist. The stored descriptor (with
  // the name annotation) is returned.
  Result<Descriptor> Tag(std::string_view name, const Descriptor& manifest);
  // The manifest descriptor tagged `name`; NotFound if none.
  Result<Descriptor> Resolve(std::string_view name) const;

 private:
  explicit OciLayout(std::string dir) : dir_(std::move(dir)) {}
  Result<nlohmann::json> ReadIndex() const;

  std::string dir_;
};

// True for a valid tag: 1..128 characters of [A-Za-z0-9._:@/+-], starting
// with a letter or digit (the ref.name grammar, kept to what skopeo accepts).
bool ValidTagName(std::string_view name);

}  // namespace ofn::build

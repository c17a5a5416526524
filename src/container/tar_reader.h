// TarReader: a streaming reader of image layers — tar archives, plain or
// gzip'd (detected by the gzip magic, inflated with zlib as they are read).
//
// Formats: POSIX ustar (name + prefix), GNU long names and link targets
// ('L' / 'K' entries), and PAX extended headers ('x': path, linkpath, size,
// uid, gid, mtime; other keys ignored; 'g' global headers are read and
// ignored). Numbers may be octal or GNU base-256. Reading is strict: a bad
// checksum, a missing magic, a malformed number or PAX record, an unknown
// entry type or a truncated stream is an InvalidArgument naming the entry
// (the path of the last header read, and the byte offset of its header).
// Nothing is held in memory beyond one entry's metadata: contents are
// streamed through Read(). Paths are returned as stored (no normalisation,
// no checks for ".." — the caller decides what a safe path is).
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ofn/status.h"

namespace ofn::container {

struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kCharDevice, kBlockDevice, kFifo };
  Type type = Type::kFile;
  std::string path;         // as stored, e.g. "usr/bin/env" or "./etc/"
  std::string link_target;  // kSymlink: the target; kHardlink: the path of the linked entry
  uint32_t mode = 0;        // permission bits incl. setuid/setgid/sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;        // seconds since the epoch
  uint64_t size = 0;        // bytes of content (kFile only; 0 otherwise)
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
};

// Reads up to `n` bytes into `buf`; 0 means end of input.
using TarSource = std::function<Result<size_t>(char* buf, size_t n)>;

class TarReader {
 public:
  explicit TarReader(TarSource source);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry (skipping whatever is left of the current one's
  // content), or nullopt at the end of the archive.
  Result<std::optional<TarEntry>> Next();
  // Up to `n` bytes of the current entry's content; 0 once all is read.
  Result<size_t> Read(char* buf, size_t n);
  // Reads the compressed/plain input to its end (so a caller hashing the
  // input sees every byte), checking that only zero padding follows.
  Status Drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ofn::container

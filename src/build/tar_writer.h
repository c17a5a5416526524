// TarWriter: a deterministic tar stream (POSIX ustar, with PAX extended
// headers when a name or link target is longer than 100 bytes or a size does
// not fit ustar's 8 GiB), written block by block to a sink.
//
// Only what makes an image layer: regular files (from memory, or streamed
// from a host file), directories and symlinks. Every header has uid/gid 0,
// empty uname/gname, the caller's mtime (default 0) and the permission bits
// masked to 0777 | sticky: setuid and setgid are dropped, so a layer never
// grants privileges the build did not mean to. The same calls give the same
// bytes. Names are written as given (the caller normalises them; see
// layer.h); a directory's name gets a trailing '/'.
//
// Thread-safety: one thread at a time. The first failing call (sink or file
// error) leaves the writer failed: later calls return that error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::build {

// Receives the stream in order; a non-ok Status stops the writer.
using TarSink = std::function<Status(std::string_view bytes)>;

// The permission bits a tar entry keeps.
constexpr uint32_t kTarModeMask = 01777;

class TarWriter {
 public:
  explicit TarWriter(TarSink sink) : sink_(std::move(sink)) {}

  Status AddDirectory(std::string_view name, uint32_t mode, int64_t mtime = 0);
  Status AddFile(std::string_view name, uint32_t mode, std::string_view content, int64_t mtime = 0);
  // Streams the host file at source_path: its size is taken when it is opened
  // and exactly that many bytes are written, never more; a file that shrinks
  // meanwhile is an error naming it.
  Status AddFileFrom(std::string_view name, uint32_t mode, const std::string& source_path, int64_t mtime = 0);
  Status AddSymlink(std::string_view name, std::string_view target, int64_t mtime = 0);
  // Writes the end-of-archive marker (two zero blocks). No Add after it.
  Status Finish();

  // Bytes handed to the sink so far.
  uint64_t bytes_written() const { return written_; }

 private:
  Status Header(char type, std::string_view name, uint32_t mode, uint64_t size, std::string_view link,
                int64_t mtime);
  Status Emit(std::string_view bytes);
  Status Pad(uint64_t size);
  Status Check(std::string_view name, int64_t mtime);

  TarSink sink_;
  Status failed_;
  bool finished_ = false;
  uint64_t written_ = 0;
};

}  // namespace ofn::build

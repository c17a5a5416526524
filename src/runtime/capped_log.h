// CappedLog: an instance's stdout+stderr, kept in a file of bounded size and
// addressed by offsets that never move.
//
// The runtime reads the child's output from a pipe and appends it here. With a
// cap C, the live file `path` grows to C/2 bytes, then is renamed to `path.1`
// (replacing the previous one) and a new `path` begins: the two files never
// exceed C together and always hold at least the newest C/2 bytes. Rotation
// by rename (not truncating from the front) keeps every write an append and
// lets `tail -F path` work. Offsets count bytes since Open(), so a reader
// that follows the log (`ofn logs -f`) asks for "what comes after offset N"
// and learns from Chunk::offset when older bytes were dropped.
//
// Open() truncates: a new instance starts a new log.
//
// Thread-safety: all methods may be called concurrently (one internal mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::runtime {

class CappedLog {
 public:
  struct Chunk {
    std::string data;
    uint64_t offset = 0;       // where `data` begins (> the asked offset if those bytes were dropped)
    uint64_t next_offset = 0;  // ask for this next
  };

  // cap_bytes 0: unbounded. A cap below 2 bytes is raised to 2.
  static Result<std::unique_ptr<CappedLog>> Open(std::string path, std::size_t cap_bytes);
  ~CappedLog();
  CappedLog(const CappedLog&) = delete;
  CappedLog& operator=(const CappedLog&) = delete;

  Status Append(std::string_view data);
  // Up to max_bytes from `offset` on (from the oldest kept byte if `offset` was
  // dropped). Empty data with next_offset == end_offset() means nothing newer.
  Result<Chunk> Read(uint64_t offset, std::size_t max_bytes) const;
  uint64_t end_offset() const;    // bytes appended since Open()
  uint64_t start_offset() const;  // the oldest byte still kept
  // The last lines written (from an in-memory copy of the last 4 KiB).
  std::string Tail(std::size_t max_lines, std::size_t max_bytes) const;
  const std::string& path() const { return path_; }

 private:
  CappedLog(std::string path, std::size_t cap) : path_(std::move(path)), cap_(cap) {}
  Status Rotate();  // requires mu_

  const std::string path_;
  const std::size_t cap_;
  mutable std::mutex mu_;
  int cur_fd_ = -1;         // `path`
  int prev_fd_ = -1;        // `path.1`, or -1
  uint64_t cur_start_ = 0;  // offset of cur's first byte
  uint64_t prev_start_ = 0; // offset of prev's first byte
  uint64_t end_ = 0;
  std::string tail_;        // the last bytes appended, for Tail()
};

}  // namespace ofn::runtime

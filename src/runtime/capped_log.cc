#include "runtime/capped_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/restart_policy.h"

namespace ofn::runtime {
namespace {

constexpr std::size_t kTailKeep = 4096;

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write log");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<CappedLog>> CappedLog::Open(std::string path, std::size_t cap_bytes) {
  if (cap_bytes == 1) cap_bytes = 2;
  std::unique_ptr<CappedLog> log(new CappedLog(std::move(path), cap_bytes));
  log->cur_fd_ = ::open(log->path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log->cur_fd_ < 0) return Errno("open log " + log->path_);
  ::unlink((log->path_ + ".1").c_str());  // a previous instance's
  return log;
}

CappedLog::~CappedLog() {
  if (cur_fd_ >= 0) ::close(cur_fd_);
  if (prev_fd_ >= 0) ::close(prev_fd_);
}

Status CappedLog::Rotate() {
  std::string old = path_ + ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0) return Errno("rotate log " + path_);
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open log " + path_);
  if (prev_fd_ >= 0) ::close(prev_fd_);
  prev_fd_ = cur_fd_;
  prev_start_ = cur_start_;
  cur_fd_ = fd;
  cur_start_ = end_;
  return Status::Ok();
}

Status CappedLog::Append(std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (data.size() >= kTailKeep) {
    tail_.assign(data.substr(data.size() - kTailKeep));
  } else {
    if (tail_.size() + data.size() > kTailKeep) tail_.erase(0, tail_.size() + data.size() - kTailKeep);
    tail_.append(data);
  }
  if (cap_ == 0) {
    Status s = WriteAll(cur_fd_, data);
    if (s.ok()) end_ += data.size();
    return s;
  }
  const uint64_t half = cap_ / 2;
  while (!data.empty()) {
    uint64_t room = half - (end_ - cur_start_);
    if (room == 0) {
      Status s = Rotate();
      if (!s.ok()) return s;
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    Status s = WriteAll(cur_fd_, data.substr(0, n));
    if (!s.ok()) return s;
    end_ += n;
    data.remove_prefix(n);
  }
  return Status::Ok();
}

Result<CappedLog::Chunk> CappedLog::Read(uint64_t offset, std::size_t max_bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t first = prev_fd_ >= 0 ? prev_start_ : cur_start_;
  Chunk c;
  c.offset = std::max(offset, first);
  if (c.offset >= end_ || max_bytes == 0) {
    c.offset = std::min(c.offset, end_);
    c.next_offset = c.offset;
    return c;
  }
  int fd;
  uint64_t file_start, file_end;
  if (c.offset < cur_start_) {
    fd = prev_fd_;
    file_start = prev_start_;
    file_end = cur_start_;
  } else {
    fd = cur_fd_;
    file_start = cur_start_;
    file_end = end_;
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, file_end - c.offset));
  c.data.resize(want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, c.data.data() + got, want - got, static_cast<off_t>(c.offset - file_start + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read log " + path_);
    if (n == 0) break;  // cannot happen unless someone truncated the file behind our back
    got += static_cast<size_t>(n);
  }
  c.data.resize(got);
  c.next_offset = c.offset + got;
  return c;
}

uint64_t CappedLog::end_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_;
}

uint64_t CappedLog::start_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prev_fd_ >= 0 ? prev_start_ : cur_start_;
}

std::string CappedLog::Tail(std::size_t max_lines, std::size_t max_bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  return LastLines(tail_, max_lines, max_bytes);
}

}  // namespace ofn::runtime

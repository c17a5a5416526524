#include "build/tar_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ofn::build {

namespace {

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxOctal11 = 077777777777ULL;  // the largest value ustar's 12-byte fields hold

// Writes `value` as zero-padded octal in a field of `width` bytes, NUL last.
void PutOctal(char* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

void PutString(char* field, size_t width, std::string_view s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

// One PAX record: "<len> <key>=<value>\n", where <len> counts itself.
void AppendPaxRecord(std::string& out, std::string_view key, std::string_view value) {
  size_t rest = 1 + key.size() + 1 + value.size() + 1;  // ' ' key '=' value '\n'
  size_t len = rest + 1;
  while (std::to_string(len).size() + rest != len) len = std::to_string(len).size() + rest;
  out += std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Status TarWriter::Emit(std::string_view bytes) {
  if (!failed_.ok()) return failed_;
  Status s = sink_(bytes);
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  written_ += bytes.size();
  return Status::Ok();
}

Status TarWriter::Pad(uint64_t size) {
  static const std::array<char, kBlock> kZeros{};
  size_t rem = size % kBlock;
  if (rem == 0) return Status::Ok();
  return Emit(std::string_view(kZeros.data(), kBlock - rem));
}

Status TarWriter::Check(std::string_view name, int64_t mtime) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::FailedPrecondition("tar: entry added after Finish");
  if (name.empty() || name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("tar: bad entry name \"" + std::string(name) + "\"");
  }
  if (mtime < 0 || static_cast<uint64_t>(mtime) > kMaxOctal11) {
    return Status::InvalidArgument("tar: mtime out of range for " + std::string(name));
  }
  return Status::Ok();
}

Status TarWriter::Header(char type, std::string_view name, uint32_t mode, uint64_t size, std::string_view link,
                         int64_t mtime) {
  if (link.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("tar: bad link target for " + std::string(name));
  }
  std::string pax;
  if (name.size() > 100) AppendPaxRecord(pax, "path", name);
  if (link.size() > 100) AppendPaxRecord(pax, "linkpath", link);
  if (size > kMaxOctal11) AppendPaxRecord(pax, "size", std::to_string(size));

  auto block = [&](char t, std::string_view n, uint32_t m, uint64_t sz, std::string_view l) {
    std::array<char, kBlock> h{};
    PutString(&h[0], 100, n);
    PutOctal(&h[100], 8, m & kTarModeMask);
    PutOctal(&h[108], 8, 0);  // uid
    PutOctal(&h[116], 8, 0);  // gid
    PutOctal(&h[124], 12, sz > kMaxOctal11 ? 0 : sz);  // the PAX record carries a larger size
    PutOctal(&h[136], 12, static_cast<uint64_t>(mtime));
    h[156] = t;
    PutString(&h[157], 100, l);
    std::memcpy(&h[257], "ustar", 6);  // magic with its NUL
    std::memcpy(&h[263], "00", 2);
    PutOctal(&h[329], 8, 0);  // devmajor
    PutOctal(&h[337], 8, 0);  // devminor
    // The checksum is computed with its own field as spaces.
    std::memset(&h[148], ' ', 8);
    uint32_t sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    PutOctal(&h[148], 7, sum);  // six digits, NUL, then the space already there
    return Emit(std::string_view(h.data(), h.size()));
  };

  if (!pax.empty()) {
    // Readers use the records and ignore this entry's own name; a fixed,
    // content-derived name keeps the stream deterministic.
    std::string_view base = name;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    if (auto slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
    std::string pax_name = "PaxHeaders/" + std::string(base);
    if (pax_name.size() > 100) pax_name.resize(100);
    if (Status s = block('x', pax_name, 0644, pax.size(), {}); !s.ok()) return s;
    if (Status s = Emit(pax); !s.ok()) return s;
    if (Status s = Pad(pax.size()); !s.ok()) return s;
  }
  return block(type, name.substr(0, 100), mode, size, link.substr(0, 100));
}

Status TarWriter::AddDirectory(std::string_view name, uint32_t mode, int64_t mtime) {
  if (Status s = Check(name, mtime); !s.ok()) return s;
  std::string n(name);
  if (n.back() != '/') n += '/';
  return Header('5', n, mode, 0, {}, mtime);
}

Status TarWriter::AddFile(std::string_view name, uint32_t mode, std::string_view content, int64_t mtime) {
  if (Status s = Check(name, mtime); !s.ok()) return s;
  if (Status s = Header('0', name, mode, content.size(), {}, mtime); !s.ok()) return s;
  if (Status s = Emit(content); !s.ok()) return s;
  return Pad(content.size());
}

Status TarWriter::AddFileFrom(std::string_view name, uint32_t mode, const std::string& source_path, int64_t mtime) {
  if (Status s = Check(name, mtime); !s.ok()) return s;
  // O_NOFOLLOW: a file swapped for a symlink after the caller looked must
  // not pull in whatever it points to.
  int fd = ::open(source_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::NotFound(ErrnoText("tar: open " + source_path));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Internal(ErrnoText("tar: stat " + source_path));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("tar: not a regular file: " + source_path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (Status s = Header('0', name, mode, size, {}, mtime); !s.ok()) return s;

  std::vector<char> buf(256 * 1024);
  uint64_t left = size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    ssize_t n = ::read(fd, buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed_ = Status::Internal(ErrnoText("tar: read " + source_path));
      return failed_;
    }
    if (n == 0) {
      // The header already promised `size` bytes: the stream is unusable.
      failed_ = Status::FailedPrecondition("tar: " + source_path + " shrank while being read");
      return failed_;
    }
    if (Status s = Emit(std::string_view(buf.data(), static_cast<size_t>(n))); !s.ok()) return s;
    left -= static_cast<uint64_t>(n);
  }
  return Pad(size);
}

Status TarWriter::AddSymlink(std::string_view name, std::string_view target, int64_t mtime) {
  if (Status s = Check(name, mtime); !s.ok()) return s;
  if (target.empty()) return Status::InvalidArgument("tar: empty symlink target for " + std::string(name));
  return Header('2', name, 0777, 0, target, mtime);
}

Status TarWriter::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::Ok();
  static const std::array<char, 2 * kBlock> kZeros{};
  if (Status s = Emit(std::string_view(kZeros.data(), kZeros.size())); !s.ok()) return s;
  finished_ = true;
  return Status::Ok();
}

}  // namespace ofn::build

#include "container/tar_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

namespace ofn::container {
namespace {

constexpr size_t kBlock = 512;
// Metadata entries (long names, PAX headers) are read into memory: bounded.
constexpr uint64_t kMaxMetaSize = 1 << 20;
constexpr size_t kInBuf = 64 * 1024;

}  // namespace

struct TarReader::Impl {
  TarSource source;
  // Input side.
  std::vector<char> in = std::vector<char>(kInBuf);
  size_t in_pos = 0, in_len = 0;
  bool in_eof = false;
  bool detected = false;
  bool gzip = false;
  bool z_init = false;
  bool z_end = false;  // the current gzip member ended
  z_stream z{};
  uint64_t offset = 0;  // uncompressed bytes consumed

  // Entry state.
  uint64_t remaining = 0;  // content bytes left in the current entry
  uint64_t padding = 0;    // zero bytes after the content
  bool ended = false;
  std::string last_name = "(start of archive)";
  uint64_t last_header = 0;

  ~Impl() {
    if (z_init) inflateEnd(&z);
  }

  Status Error(const std::string& what) const {
    return Status::InvalidArgument("tar entry \"" + last_name + "\" (header at byte " + std::to_string(last_header) +
                                   "): " + what);
  }

  Status Fill() {
    if (in_pos < in_len || in_eof) return Status::Ok();
    auto n = source(in.data(), in.size());
    if (!n.ok()) return n.status();
    in_pos = 0;
    in_len = *n;
    if (in_len == 0) in_eof = true;
    return Status::Ok();
  }

  // Up to n bytes of the tar stream; 0 at its end.
  Result<size_t> Raw(char* buf, size_t n) {
    if (!detected) {
      Status s = Fill();
      if (!s.ok()) return s;
      detected = true;
      gzip = in_len - in_pos >= 2 && static_cast<unsigned char>(in[in_pos]) == 0x1f &&
             static_cast<unsigned char>(in[in_pos + 1]) == 0x8b;
      if (gzip) {
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib: inflateInit2 failed");
        z_init = true;
      }
    }
    if (!gzip) {
      Status s = Fill();
      if (!s.ok()) return s;
      size_t k = std::min(n, in_len - in_pos);
      std::memcpy(buf, in.data() + in_pos, k);
      in_pos += k;
      offset += k;
      return k;
    }
    while (true) {
      if (z_end) {
        Status s = Fill();
        if (!s.ok()) return s;
        if (in_pos == in_len) return size_t{0};
        // Another gzip member may follow (concatenated gzip is valid gzip).
        if (static_cast<unsigned char>(in[in_pos]) != 0x1f) {
          return Error("trailing bytes after the gzip stream");
        }
        inflateReset(&z);
        z_end = false;
      }
      Status s = Fill();
      if (!s.ok()) return s;
      z.next_in = reinterpret_cast<Bytef*>(in.data() + in_pos);
      z.avail_in = static_cast<uInt>(in_len - in_pos);
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      int r = inflate(&z, Z_NO_FLUSH);
      size_t used = (in_len - in_pos) - z.avail_in;
      in_pos += used;
      size_t produced = std::min<size_t>(n, 1u << 30) - z.avail_out;
      offset += produced;
      if (r == Z_STREAM_END) {
        z_end = true;
      } else if (r == Z_BUF_ERROR) {
        if (in_eof) return Error("truncated gzip stream");
      } else if (r != Z_OK) {
        return Error(std::string("gzip: ") + (z.msg != nullptr ? z.msg : "corrupt data"));
      }
      if (produced > 0) return produced;
      if (in_eof && !z_end) return Error("truncated gzip stream");
    }
  }

  // Exactly n bytes, or an error naming truncation. `got_any` tells the
  // caller whether the stream ended cleanly before the first byte.
  Status ReadExact(char* buf, size_t n, bool* clean_eof = nullptr) {
    size_t got = 0;
    while (got < n) {
      auto k = Raw(buf + got, n - got);
      if (!k.ok()) return k.status();
      if (*k == 0) {
        if (got == 0 && clean_eof != nullptr) {
          *clean_eof = true;
          return Status::Ok();
        }
        return Error("truncated archive");
      }
      got += *k;
    }
    return Status::Ok();
  }

  Status Skip(uint64_t n) {
    char buf[8192];
    while (n > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof buf));
      Status s = ReadExact(buf, k);
      if (!s.ok()) return s;
      n -= k;
    }
    return Status::Ok();
  }

  Result<std::string> ReadMeta(uint64_t size) {
    if (size > kMaxMetaSize) return Error("extended header of " + std::to_string(size) + " bytes is too big");
    std::string s(static_cast<size_t>(size), '\0');
    Status st = ReadExact(s.data(), s.size());
    if (!st.ok()) return st;
    st = Skip(Pad(size));
    if (!st.ok()) return st;
    return s;
  }

  static uint64_t Pad(uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

  // A numeric header field: octal (space/NUL padded) or GNU base-256.
  Result<uint64_t> Number(const char* field, size_t len, const char* what) const {
    auto u = [&](size_t i) { return static_cast<unsigned char>(field[i]); };
    if (len > 0 && (u(0) & 0x80) != 0) {
      if (u(0) != 0x80) return Error(std::string("negative or oversized base-256 ") + what);
      uint64_t v = 0;
      for (size_t i = 1; i < len; ++i) {
        if (v >> 56 != 0) return Error(std::string("base-256 ") + what + " overflows");
        v = (v << 8) | u(i);
      }
      return v;
    }
    size_t i = 0;
    while (i < len && (field[i] == ' ' || field[i] == '\0')) {
      if (field[i] == '\0') {
        // An all-NUL field means 0 (some writers leave unused fields empty).
        bool all = true;
        for (size_t j = i; j < len; ++j) all = all && (field[j] == '\0' || field[j] == ' ');
        if (all) return uint64_t{0};
      }
      ++i;
    }
    uint64_t v = 0;
    bool digits = false;
    for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
      if (v >> 60 != 0) return Error(std::string(what) + " overflows");
      v = v * 8 + static_cast<uint64_t>(field[i] - '0');
      digits = true;
    }
    for (; i < len; ++i) {
      if (field[i] != ' ' && field[i] != '\0') return Error(std::string("malformed ") + what + " field");
    }
    if (!digits) return uint64_t{0};
    return v;
  }

  static std::string Field(const char* p, size_t len) { return std::string(p, strnlen(p, len)); }

  struct Pax {
    std::optional<std::string> path, linkpath;
    std::optional<uint64_t> size, uid, gid;
    std::optional<int64_t> mtime;
  };

  static bool Decimal(std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  }

  // "<len> <key>=<value>\n" records.
  Status ParsePax(std::string_view data, Pax* pax) const {
    while (!data.empty()) {
      size_t sp = data.find(' ');
      uint64_t len = 0;
      if (sp == std::string_view::npos || !Decimal(data.substr(0, sp), &len) || len <= sp + 1 || len > data.size()) {
        return Error("malformed PAX record length");
      }
      std::string_view rec = data.substr(sp + 1, len - sp - 1);
      data.remove_prefix(len);
      if (rec.empty() || rec.back() != '\n') return Error("PAX record without a newline");
      rec.remove_suffix(1);
      size_t eq = rec.find('=');
      if (eq == std::string_view::npos || eq == 0) return Error("PAX record without key=value");
      std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
      auto number = [&](std::optional<uint64_t>* out) -> Status {
        uint64_t v = 0;
        if (!Decimal(value, &v)) return Error("malformed PAX " + std::string(key) + " \"" + std::string(value) + "\"");
        *out = v;
        return Status::Ok();
      };
      Status s;
      if (key == "path" || key == "linkpath") {
        if (value.find('\0') != std::string_view::npos) return Error("PAX " + std::string(key) + " contains NUL");
        (key == "path" ? pax->path : pax->linkpath) = std::string(value);
      } else if (key == "size") {
        s = number(&pax->size);
      } else if (key == "uid") {
        s = number(&pax->uid);
      } else if (key == "gid") {
        s = number(&pax->gid);
      } else if (key == "mtime") {
        // Seconds with an optional fraction (and sign).
        std::string_view v = value;
        bool neg = !v.empty() && v[0] == '-';
        if (neg) v.remove_prefix(1);
        std::string_view whole = v.substr(0, v.find('.'));
        std::string_view frac = whole.size() < v.size() ? v.substr(whole.size() + 1) : std::string_view();
        uint64_t secs = 0, ignored = 0;
        if (!Decimal(whole, &secs) || secs > (uint64_t{1} << 62) || (!frac.empty() && !Decimal(frac.substr(0, 18), &ignored))) {
          return Error("malformed PAX mtime \"" + std::string(value) + "\"");
        }
        pax->mtime = neg ? -static_cast<int64_t>(secs) : static_cast<int64_t>(secs);
      }
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Result<std::optional<TarEntry>> Next() {
    if (ended) return std::optional<TarEntry>();
    Status s = Skip(remaining + padding);
    if (!s.ok()) return s;
    remaining = padding = 0;

    Pax pax;
    std::optional<std::string> long_name, long_link;
    char h[kBlock];
    while (true) {
      uint64_t at = offset;
      bool eof = false;
      s = ReadExact(h, kBlock, &eof);
      if (!s.ok()) return s;
      if (eof) {
        // The archive ended at a header boundary without its end marker:
        // accepted (as Go's archive/tar does), unless metadata was pending.
        if (long_name || long_link || pax.path || pax.size) return Error("archive ends after an extended header");
        ended = true;
        return std::optional<TarEntry>();
      }
      last_header = at;
      bool zero = std::all_of(h, h + kBlock, [](char c) { return c == 0; });
      if (zero) {
        if (long_name || long_link || pax.path || pax.size) return Error("end of archive after an extended header");
        // The second zero block may be missing (some writers).
        ended = true;
        return std::optional<TarEntry>();
      }
      // Checksum: the header's bytes with the checksum field read as spaces;
      // some old writers summed signed chars, so either sum is accepted.
      uint64_t sum_u = 0;
      int64_t sum_s = 0;
      for (size_t i = 0; i < kBlock; ++i) {
        bool chk = i >= 148 && i < 156;
        sum_u += chk ? ' ' : static_cast<unsigned char>(h[i]);
        sum_s += chk ? ' ' : static_cast<signed char>(h[i]);
      }
      std::string name_field = Field(h, 100);
      last_name = long_name ? *long_name : pax.path ? *pax.path : name_field;
      auto chk = Number(h + 148, 8, "checksum");
      if (!chk.ok()) return chk.status();
      if (*chk != sum_u && static_cast<int64_t>(*chk) != sum_s) return Error("header checksum mismatch");
      bool ustar = std::memcmp(h + 257, "ustar\0" "00", 8) == 0;
      bool gnu = std::memcmp(h + 257, "ustar  \0", 8) == 0;
      if (!ustar && !gnu) return Error("not a ustar header (bad magic)");
      char type = h[156];
      auto size = Number(h + 124, 12, "size");
      if (!size.ok()) return size.status();
      uint64_t sz = pax.size.value_or(*size);
      if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
        if (*size > kMaxMetaSize) return Error("extended header of " + std::to_string(*size) + " bytes is too big");
        auto data = ReadMeta(*size);
        if (!data.ok()) return data.status();
        if (type == 'L' || type == 'K') {
          std::string v = data->substr(0, strnlen(data->data(), data->size()));
          if (v.empty()) return Error("empty GNU long name");
          (type == 'L' ? long_name : long_link) = std::move(v);
        } else if (type == 'x') {
          s = ParsePax(*data, &pax);
          if (!s.ok()) return s;
        } else {
          Pax ignored;  // global headers: validated, not applied
          s = ParsePax(*data, &ignored);
          if (!s.ok()) return s;
        }
        continue;
      }

      TarEntry e;
      std::string path = name_field;
      if (ustar) {
        std::string prefix = Field(h + 345, 155);
        if (!prefix.empty()) path = prefix + "/" + path;
      }
      if (long_name) path = *long_name;
      if (pax.path) path = *pax.path;
      e.path = std::move(path);
      last_name = e.path;
      if (e.path.empty()) return Error("empty name");
      e.link_target = Field(h + 157, 100);
      if (long_link) e.link_target = *long_link;
      if (pax.linkpath) e.link_target = *pax.linkpath;

      auto mode = Number(h + 100, 8, "mode");
      auto uid = Number(h + 108, 8, "uid");
      auto gid = Number(h + 116, 8, "gid");
      auto mtime = Number(h + 136, 12, "mtime");
      for (auto* r : {&mode, &uid, &gid, &mtime}) {
        if (!r->ok()) return r->status();
      }
      e.mode = static_cast<uint32_t>(*mode & 07777);
      uint64_t u = pax.uid.value_or(*uid), g = pax.gid.value_or(*gid);
      if (u > UINT32_MAX || g > UINT32_MAX) return Error("uid/gid out of range");
      e.uid = static_cast<uint32_t>(u);
      e.gid = static_cast<uint32_t>(g);
      if (*mtime > (uint64_t{1} << 62)) return Error("mtime out of range");
      e.mtime = pax.mtime.value_or(static_cast<int64_t>(*mtime));

      switch (type) {
        case '0': case '\0': case '7': e.type = TarEntry::Type::kFile; break;
        case '1': e.type = TarEntry::Type::kHardlink; break;
        case '2': e.type = TarEntry::Type::kSymlink; break;
        case '3': e.type = TarEntry::Type::kCharDevice; break;
        case '4': e.type = TarEntry::Type::kBlockDevice; break;
        case '5': e.type = TarEntry::Type::kDirectory; break;
        case '6': e.type = TarEntry::Type::kFifo; break;
        default:
          return Error(std::string("unsupported entry type '") +
                       (type >= 32 && type < 127 ? std::string(1, type) : "\\x" + std::to_string(static_cast<unsigned char>(type))) + "'");
      }
      if ((e.type == TarEntry::Type::kSymlink || e.type == TarEntry::Type::kHardlink) && e.link_target.empty()) {
        return Error("link without a target");
      }
      if (e.type == TarEntry::Type::kCharDevice || e.type == TarEntry::Type::kBlockDevice) {
        auto ma = Number(h + 329, 8, "devmajor");
        auto mi = Number(h + 337, 8, "devminor");
        if (!ma.ok()) return ma.status();
        if (!mi.ok()) return mi.status();
        e.dev_major = static_cast<uint32_t>(*ma);
        e.dev_minor = static_cast<uint32_t>(*mi);
      }
      if (sz > (uint64_t{1} << 50)) return Error("size " + std::to_string(sz) + " is absurd");
      // Only regular files carry content we hand out; any other entry's
      // bytes (a hardlink with a size, say) are skipped.
      e.size = e.type == TarEntry::Type::kFile ? sz : 0;
      remaining = sz;
      padding = Pad(sz);
      if (e.type != TarEntry::Type::kFile) {
        // Keep the bytes to skip, but Read() gives nothing.
        padding += remaining;
        remaining = 0;
      }
      return std::optional<TarEntry>(std::move(e));
    }
  }

  Result<size_t> Read(char* buf, size_t n) {
    if (remaining == 0 || n == 0) return size_t{0};
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, remaining));
    size_t got = 0;
    while (got < k) {
      auto r = Raw(buf + got, k - got);
      if (!r.ok()) return r.status();
      if (*r == 0) return Error("truncated content");
      got += *r;
    }
    remaining -= k;
    return k;
  }

  Status Drain() {
    if (!ended) return Error("drain before the end of the archive");
    char buf[8192];
    while (true) {
      auto k = Raw(buf, sizeof buf);
      if (!k.ok()) return k.status();
      if (*k == 0) return Status::Ok();
      if (!std::all_of(buf, buf + *k, [](char c) { return c == 0; })) {
        return Error("non-zero bytes after the end of the archive");
      }
    }
  }
};

TarReader::TarReader(TarSource source) : impl_(std::make_unique<Impl>()) { impl_->source = std::move(source); }
TarReader::~TarReader() = default;

Result<std::optional<TarEntry>> TarReader::Next() { return impl_->Next(); }
Result<size_t> TarReader::Read(char* buf, size_t n) { return impl_->Read(buf, n); }
Status TarReader::Drain() { return impl_->Drain(); }

}  // namespace ofn::container

// Test-only: hand-made tar layers (any name, type, owner — including the
// hostile ones a real image builder never writes) and images made of them,
// for the container tests. Header-only so the library does not carry it.
// Not thread-safe beyond what OciLayout is.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "build/digest.h"
#include "build/image.h"
#include "build/layer.h"
#include "build/oci_layout.h"
#include "ofn/status.h"

namespace ofn::container::testing {

// A ustar archive built entry by entry, exactly as asked.
class RawTar {
 public:
  RawTar& File(const std::string& name, const std::string& content, uint32_t mode = 0644, uint32_t uid = 0,
               uint32_t gid = 0) {
    Header(name, '0', mode, content.size(), "", uid, gid);
    data_ += content;
    data_.append((512 - content.size() % 512) % 512, '\0');
    return *this;
  }
  RawTar& Dir(const std::string& name, uint32_t mode = 0755, uint32_t uid = 0, uint32_t gid = 0) {
    Header(name, '5', mode, 0, "", uid, gid);
    return *this;
  }
  RawTar& Symlink(const std::string& name, const std::string& target) {
    Header(name, '2', 0777, 0, target, 0, 0);
    return *this;
  }
  RawTar& Hardlink(const std::string& name, const std::string& target) {
    Header(name, '1', 0644, 0, target, 0, 0);
    return *this;
  }
  RawTar& CharDevice(const std::string& name) {
    Header(name, '3', 0666, 0, "", 0, 0);
    return *this;
  }
  // The archive with its end marker.
  std::string Bytes() const { return data_ + std::string(1024, '\0'); }
  // Without the end marker (to append more by hand).
  const std::string& Raw() const { return data_; }

  // A header block; fields must fit ustar (tests keep names < 100 bytes).
  static std::string HeaderBlock(const std::string& name, char type, uint32_t mode, uint64_t size,
                                 const std::string& link, uint32_t uid, uint32_t gid, int64_t mtime = 1000) {
    std::string h(512, '\0');
    std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
    std::snprintf(h.data() + 100, 8, "%07o", mode);
    std::snprintf(h.data() + 108, 8, "%07o", uid);
    std::snprintf(h.data() + 116, 8, "%07o", gid);
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(h.data() + 136, 12, "%011llo", static_cast<unsigned long long>(mtime));
    h[156] = type;
    std::memcpy(h.data() + 157, link.data(), std::min<size_t>(link.size(), 100));
    std::memcpy(h.data() + 257, "ustar\0" "00", 8);
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::snprintf(h.data() + 148, 8, "%06o", sum);
    return h;
  }

 private:
  void Header(const std::string& name, char type, uint32_t mode, uint64_t size, const std::string& link, uint32_t uid,
              uint32_t gid) {
    data_ += HeaderBlock(name, type, mode, size, link, uid, gid);
  }
  std::string data_;
};

inline std::string Gzip(const std::string& bytes) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A gzip'd layer of these tar bytes, stored in the layout.
inline Result<build::Layer> PutLayer(build::OciLayout& layout, const std::string& tar) {
  std::string gz = Gzip(tar);
  auto digest = layout.PutBlob(gz);
  if (!digest.ok()) return digest.status();
  build::Layer l{build::Descriptor{build::kMediaTypeLayerGzip, *digest, static_cast<int64_t>(gz.size()), {}, {}},
                 build::Digest::Of(tar), "test"};
  return l;
}

// An image of these layers (bottom first), tagged `tag`.
inline Result<build::Descriptor> ImageOf(build::OciLayout& layout, const std::vector<std::string>& tars,
                                         const std::string& tag, build::ImageConfig config = {}) {
  std::vector<build::Layer> layers;
  for (const auto& t : tars) {
    auto l = PutLayer(layout, t);
    if (!l.ok()) return l.status();
    layers.push_back(*l);
  }
  return build::WriteImage(layout, layers, config, tag);
}

}  // namespace ofn::container::testing

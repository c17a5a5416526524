// libFuzzer target: the streaming tar/gzip reader of image layers
// (container/tar_reader.h) on arbitrary bytes, fed in pieces of a size
// taken from the first input byte (so every buffering path is exercised).
// Nothing may crash, hang or read out of bounds; errors carry a message;
// an entry's content is never longer than its size.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "container/tar_reader.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 97 * 7;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t pos = 0;
  ofn::container::TarReader tar([&](char* buf, size_t n) -> ofn::Result<size_t> {
    size_t k = std::min({n, piece, bytes.size() - pos});
    std::memcpy(buf, bytes.data() + pos, k);
    pos += k;
    return k;
  });
  char buf[300];
  for (int entries = 0; entries < 10000; ++entries) {
    auto e = tar.Next();
    if (!e.ok()) {
      Check(!e.status().message().empty());
      return 0;
    }
    if (!e->has_value()) {
      auto drained = tar.Drain();
      Check(drained.ok() || !drained.message().empty());
      return 0;
    }
    Check(!(*e)->path.empty());
    uint64_t got = 0;
    while (true) {
      auto n = tar.Read(buf, sizeof buf);
      if (!n.ok()) {
        Check(!n.status().message().empty());
        return 0;
      }
      if (*n == 0) break;
      got += *n;
    }
    Check(got <= (*e)->size);
  }
  return 0;
}

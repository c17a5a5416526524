#include "common/uuid.h"

#include <cstdint>
#include <cstdio>
#include <random>

namespace ofn {

std::string NewUuid() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;  // getrandom(2) on Linux
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xF000ull) | 0x4000ull;                                 // version 4
  lo = (lo & ~0xC000000000000000ull) | 0x8000000000000000ull;         // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace ofn

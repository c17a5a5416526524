// libFuzzer target: the ELF64 header parser behind the shared-library closure
// (build/elf_closure.h), on arbitrary bytes held in memory (no file system).
// Nothing may crash, hang or read out of bounds; errors carry a message, and
// what is returned keeps the parser's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "build/elf_closure.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
bool NoNul(const std::string& s) { return s.find('\0') == std::string::npos; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = ofn::build::ParseElf(bytes);
  if (!info.ok()) {
    Check(!info.status().message().empty());
    return 0;
  }
  Check(info->interpreter.empty() || (info->interpreter.front() == '/' && NoNul(info->interpreter)));
  for (const auto& n : info->needed) Check(!n.empty() && NoNul(n));
  for (const auto& p : info->rpath) Check(NoNul(p));
  for (const auto& p : info->runpath) Check(NoNul(p));
  Check(info->rpath.empty() || !info->has_runpath);
  (void)ofn::build::ElfMachineName(info->machine);
  return 0;
}

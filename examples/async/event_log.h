// What the async examples do with an event besides logging it: when
// OFN_EXAMPLE_EVENTS_FILE is set, append one line per event to that file, so
// tests can count deliveries (including duplicates) exactly.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

namespace examples {

inline void RecordEvent(std::string_view line) {
  static std::mutex mu;
  std::lock_guard lk(mu);
  std::fprintf(stdout, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
  if (const char* path = std::getenv("OFN_EXAMPLE_EVENTS_FILE")) {
    if (FILE* f = std::fopen(path, "a")) {
      std::fprintf(f, "%.*s\n", static_cast<int>(line.size()), line.data());
      std::fclose(f);
    }
  }
}

}  // namespace examples

// Test-only: where the example function binaries the runtime tests run are.
//
// The tests locate them at run time relative to the test binary
// (build/src/ofn_runtime_test -> build/examples/...), so no build-system
// plumbing is needed; a missing binary fails the test with what to build.
// Header-only so the library does not carry it. Thread-safe (no state).
#pragma once

#include <limits.h>
#include <unistd.h>

#include <string>

namespace ofn::runtime::testing {

// The built example, e.g. ExampleBinary("hello/hello"); "" if absent.
inline std::string ExampleBinary(const std::string& relative) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string self(buf, static_cast<size_t>(n));
  std::string dir = self.substr(0, self.rfind('/'));
  std::string path = dir + "/../examples/" + relative;
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr || ::access(real, X_OK) != 0) return "";
  return real;
}

}  // namespace ofn::runtime::testing

// Fails the current test (and returns) when the example is not built.
#define OFN_REQUIRE_EXAMPLE(var, relative)                                                            \
  const std::string var = ::ofn::runtime::testing::ExampleBinary(relative);                          \
  if (var.empty()) {                                                                                   \
    FAIL() << "example binary " relative " not found next to the test binary; build it first "       \
              "(cmake --build build --target hello conformance-sleep)";                                \
  }

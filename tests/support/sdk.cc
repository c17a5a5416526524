#include "support/sdk.h"

#include <gtest/gtest.h>

#include "support/process.h"

namespace ofn::testing {

const std::string& InstalledSdk(const std::string& build_dir) {
  static TempDir dir("ofn-sdk");
  static const std::string prefix = [&] {
    const std::string p = dir.Sub("prefix");
    auto proc = Process::Start({.argv = {"/usr/bin/cmake", "--install", build_dir, "--prefix", p},
                                .output_file = dir.Sub("install.log")});
    std::optional<ExitStatus> st;
    if (proc.ok()) st = (*proc)->Wait(After(std::chrono::seconds(120)));
    bool ok = st.has_value() && st->ok();
    EXPECT_TRUE(ok) << "cmake --install " << build_dir << ": " << (proc.ok() ? (*proc)->Output() : proc.status().ToString());
    return ok ? p : std::string();
  }();
  return prefix;
}

}  // namespace ofn::testing

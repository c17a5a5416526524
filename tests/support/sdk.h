// Ofn's SDK installed from a build tree (`cmake --install`) into a temporary
// prefix, once per test binary run: what C++ function builds compile against.
#pragma once

#include <string>

namespace ofn::testing {

// The prefix, or "" (with a test failure added) when the install failed.
// The first call takes a few seconds; later calls return at once.
const std::string& InstalledSdk(const std::string& build_dir);

}  // namespace ofn::testing

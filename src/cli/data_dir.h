// The data directory: where `ofn server` keeps its store, its control socket
// (DATA_DIR/ofn.sock) and its API token, and where every client verb looks
// for them. One rule shared by the server and the CLI so they always agree:
// an explicit --data-dir, else $OFN_DATA_DIR, else $XDG_DATA_HOME/ofn, else
// $HOME/.local/share/ofn (the XDG default).
//
// Header-only and pure apart from reading the environment through the given
// lookup (std::getenv by default); thread-safe as far as that lookup is.
#pragma once

#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

namespace ofn::cli {

// Returns the variable's value or null, as std::getenv.
using GetEnvFn = std::function<const char*(const char*)>;

// The directory to use when no --data-dir was given.
inline std::string DefaultDataDir(const GetEnvFn& getenv_fn = std::getenv) {
  auto env = [&](const char* name) -> std::string {
    const char* v = getenv_fn(name);
    return v ? std::string(v) : std::string();
  };
  if (std::string d = env("OFN_DATA_DIR"); !d.empty()) return d;
  // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (std::string x = env("XDG_DATA_HOME"); !x.empty() && x[0] == '/') return x + "/ofn";
  std::string home = env("HOME");
  if (home.empty()) home = ".";  // no home at all (some containers): stay usable, relative to the cwd
  return home + "/.local/share/ofn";
}

// `flag` is the --data-dir value ("" when not given).
inline std::string ResolveDataDir(std::string_view flag, const GetEnvFn& getenv_fn = std::getenv) {
  return flag.empty() ? DefaultDataDir(getenv_fn) : std::string(flag);
}

// The control socket inside a data directory.
inline std::string ControlSocketPath(std::string_view data_dir) {
  std::string dir(data_dir);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  return dir + "/ofn.sock";  // "/" gives "/ofn.sock"
}

}  // namespace ofn::cli

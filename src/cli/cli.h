// The `ofn` command line: kubectl habits for OpenFunction objects on one
// machine. Main() is the whole program except `ofn server`, which it hands to
// the ServerEntry it is given (the server lives in src/server and is linked in
// by the `ofn` executable).
//
//   ofn apply -f FILE|DIR|-      ofn get [TYPE] [NAME]    ofn describe TYPE NAME
//   ofn create -f FILE           ofn delete TYPE NAME     ofn logs NAME [-f]
//   ofn invoke NAME [--data ..]  ofn version              ofn server ...
//
// Exit codes: 0 ok; 1 a request failed or the input was bad; 2 a usage error;
// 3 the server is not running (with how to start it).
//
// Thread-safety: Main and Run are meant to be called once per process (Run
// once per test); they keep no global state of their own.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/data_dir.h"

namespace ofn::cli {

// What `ofn server ARGS...` calls, with argv[0] = "server" followed by ARGS
// (global flags given before the verb, like --data-dir, come first).
using ServerEntry = std::function<int(int argc, char** argv)>;

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,      // a request failed, or bad input (a file, a manifest)
  kExitUsage = 2,       // unknown verb or flag, wrong arguments
  kExitNotRunning = 3,  // no server at the socket / address
};

int Main(int argc, char** argv, const ServerEntry& server);

// The process's surroundings, injectable for tests.
struct Io {
  std::istream* in = nullptr;   // stdin (`-f -`, `--data-file -`)
  std::ostream* out = nullptr;  // stdout
  std::ostream* err = nullptr;  // stderr
  GetEnvFn getenv = std::getenv;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
  // Polled by `logs -f` between long polls: true ends the follow (Ctrl-C does
  // that for a real process by ending it).
  std::function<bool()> cancelled = [] { return false; };
};

// Main() minus the process: `args` excludes the program name.
int Run(const std::vector<std::string>& args, Io& io, const ServerEntry& server);

}  // namespace ofn::cli

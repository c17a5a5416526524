// Child processes and ports for integration tests.
//
// Process starts a program with fork/exec in its own process group, with extra
// environment variables, a working directory and stdout/stderr captured to a
// file. Waiting is always on a condition with a deadline (no sleep-and-hope).
// The destructor SIGKILLs the group and reaps the child. A Process is used
// from one thread at a time.
//
// TempDir is a fresh directory removed (recursively) on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"

namespace ofn::testing {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline After(std::chrono::milliseconds d) { return Clock::now() + d; }

// How a child ended.
struct ExitStatus {
  bool exited = false;  // normal exit, `code` valid
  int code = 0;
  int signal = 0;       // killed by this signal when !exited
  bool ok() const { return exited && code == 0; }
  std::string ToString() const;  // "exit 0", "signal 9 (Killed)"
};

struct ProcessOptions {
  std::vector<std::string> argv;                            // argv[0] is the program path
  std::vector<std::pair<std::string, std::string>> env;     // added to (or replacing in) the parent's environment
  std::vector<std::string> unset_env;                       // removed from the environment
  std::string working_dir;                                  // empty = the parent's
  std::string output_file;                                  // stdout+stderr (appended); empty = /dev/null
};

class Process {
 public:
  // Starts the program; fails if fork/exec fails (the exec error is reported).
  static Result<std::unique_ptr<Process>> Start(const ProcessOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Sends a signal to the child's process group.
  Status Signal(int sig);
  // Waits until the child ends; nullopt if still running at the deadline.
  std::optional<ExitStatus> Wait(Deadline deadline);
  // True while the child has not ended (reaps it if it has).
  bool Running();
  // The exit status once the child has been reaped.
  const std::optional<ExitStatus>& exit_status() const { return exit_; }
  // Waits until 127.0.0.1:port accepts TCP connections; fails early if the
  // child ends first.
  Status WaitForPort(int port, Deadline deadline);
  // What the child wrote to stdout/stderr so far ("" without an output file).
  std::string Output() const;

 private:
  Process(pid_t pid, std::string output_file) : pid_(pid), output_file_(std::move(output_file)) {}
  bool TryReap(bool block);

  pid_t pid_;
  std::string output_file_;
  std::optional<ExitStatus> exit_;
};

// True once 127.0.0.1:port accepts a TCP connection, false at the deadline.
bool WaitForPort(int port, Deadline deadline);
// A port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close).
int FreePort();

// Whole-file helpers; ReadFile gives nullopt when the file does not exist.
std::optional<std::string> ReadFile(const std::string& path);
Status WriteFile(const std::string& path, std::string_view content);

class TempDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp); aborts the test binary if impossible.
  explicit TempDir(std::string_view prefix = "ofn-test");
  ~TempDir();  // removes it, unless OFN_KEEP_TEST_DIRS is set
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace ofn::testing

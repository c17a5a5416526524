// For tests only: runs an external tool (tar, gzip, skopeo, umoci) with a
// deadline and captures its stdout, stderr and exit status separately.
//
// Tools the tests need are never skipped when missing: NeedTool gives a
// message telling to run scripts/bootstrap.sh, and the test fails with it.
// Not thread-safe beyond what ofn::testing::Process is (one per call).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.h"

namespace ofn::build::testing {

struct ToolRun {
  bool started = false;
  bool timed_out = false;
  ofn::testing::ExitStatus exit;
  std::string out;
  std::string err;
  std::string command;
  bool ok() const { return started && !timed_out && exit.ok(); }
  // For failure messages: the command, how it ended, and its stderr.
  std::string Describe() const {
    std::ostringstream s;
    s << "`" << command << "` ";
    if (!started) {
      s << "did not start";
    } else if (timed_out) {
      s << "timed out";
    } else {
      s << exit.ToString();
    }
    s << "\nstderr: " << err << "\nstdout: " << out.substr(0, 2000);
    return s.str();
  }
};

// The executable `name` on PATH, or "" if there is none.
inline std::string FindTool(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// "" when the tool is there, else why the test cannot run.
inline std::string NeedTool(std::string_view name) {
  if (!FindTool(name).empty()) return "";
  return std::string(name) + " is not installed: run scripts/bootstrap.sh (it installs skopeo and umoci)";
}

// Runs argv (argv[0] looked up on PATH) and waits at most `timeout`; a tool
// still running then is killed.
inline ToolRun RunTool(const std::vector<std::string>& argv,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  ToolRun run;
  for (const auto& a : argv) run.command += (run.command.empty() ? "" : " ") + a;
  ofn::testing::TempDir capture("ofn-tool");
  const std::string out = capture.Sub("stdout");
  const std::string err = capture.Sub("stderr");
  // A shell only to send stdout and stderr to separate files; the tool's own
  // arguments pass through "$@" untouched.
  ofn::testing::ProcessOptions options;
  options.argv = {"/bin/sh", "-c", "out=$1; err=$2; shift 2; exec \"$@\" >\"$out\" 2>\"$err\"", "sh", out, err};
  options.argv.insert(options.argv.end(), argv.begin(), argv.end());
  auto proc = ofn::testing::Process::Start(options);
  if (!proc.ok()) {
    run.err = proc.status().ToString();
    return run;
  }
  run.started = true;
  auto status = (*proc)->Wait(ofn::testing::After(timeout));
  if (!status) {
    run.timed_out = true;
    (*proc)->Signal(SIGKILL);
    (*proc)->Wait(ofn::testing::After(std::chrono::seconds(5)));
  } else {
    run.exit = *status;
  }
  run.out = ofn::testing::ReadFile(out).value_or("");
  run.err = ofn::testing::ReadFile(err).value_or("");
  return run;
}

// True while a live (not zombie) process has every one of `needles` in its
// command line: that a build left nothing running.
inline bool ProcessWith(std::initializer_list<std::string> needles) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ofn::testing::ReadFile("/proc/" + pid + "/stat").value_or("");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z') continue;
    std::string cmdline = ofn::testing::ReadFile("/proc/" + pid + "/cmdline").value_or("");
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    bool all = true;
    for (const auto& n : needles) all = all && cmdline.find(n) != std::string::npos;
    if (all) return true;
  }
  return false;
}

}  // namespace ofn::build::testing

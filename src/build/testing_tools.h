// For tests only: runs an external tool (tar, gzip, skopeo, umoci) with a
// deadline and captures its stdout, stderr and exit status separately; and
// serves a built image from its unpacked rootfs (ServeImage).
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

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/raw_http.h"

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

// Unpacks the image `tag` of the layout `layout_dir` into `bundle` (umoci,
// as root), runs its entrypoint with its env, user and working dir in the
// rootfs (unshare --root --wd: no namespaces, so the host's network) with
// PORT a free port, and GETs `/`: the status must be 200, the body goes to
// `body`. Failures are the test's.
inline void ServeImage(const std::string& layout_dir, const std::string& tag, const std::string& bundle,
                       std::string* body) {
  using namespace std::chrono_literals;
  std::string missing = NeedTool("umoci");
  ASSERT_TRUE(missing.empty()) << missing;
  ASSERT_EQ(::geteuid(), 0u) << "this test unpacks an image and runs it in its rootfs: run it as root (CI does)";
  auto unpack = RunTool({"umoci", "unpack", "--image", layout_dir + ":" + tag, bundle}, 120s);
  ASSERT_TRUE(unpack.ok()) << unpack.Describe();
  auto config = nlohmann::json::parse(ofn::testing::ReadFile(bundle + "/config.json").value_or(""), nullptr, false);
  ASSERT_TRUE(config.is_object());
  const auto& process = config["process"];
  const int port = ofn::testing::FreePort();
  ofn::testing::ProcessOptions o;
  o.argv = {FindTool("unshare"), "--root=" + bundle + "/rootfs", "--wd=" + process.value("cwd", std::string("/")),
            "--setgid=" + std::to_string(process["user"].value("gid", 0)),
            "--setuid=" + std::to_string(process["user"].value("uid", 0)), "--"};
  for (const auto& a : process["args"]) o.argv.push_back(a.get<std::string>());
  for (const auto& kv : process["env"]) {
    std::string s = kv.get<std::string>();
    // The image's PORT (8080) gives way to ours: one entry, or getenv takes the first.
    if (s.rfind("PORT=", 0) != 0) o.env.emplace_back(s.substr(0, s.find('=')), s.substr(s.find('=') + 1));
  }
  o.env.emplace_back("PORT", std::to_string(port));
  o.unset_env = {"FUNCTION_TARGET", "FUNC_CONTEXT", "OFN_LOG_FORMAT", "LD_LIBRARY_PATH", "LD_PRELOAD",
                 "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"};
  o.output_file = bundle + ".log";
  auto proc = ofn::testing::Process::Start(o);
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  Status up = (*proc)->WaitForPort(port, ofn::testing::After(20s));
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << (*proc)->Output();
  auto r = ofn::testing::RoundTrip(port, ofn::testing::Get("/"), ofn::testing::After(10s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  *body = r->body;
}

}  // namespace ofn::build::testing

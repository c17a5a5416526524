// Source: fetching a function's source (OpenFunction's spec.build.srcRepo)
// into a build's work directory, plus what every build step shares: the
// cancel token, the build log and the tool runner.
//
// A local directory (absolute path or file:// URL of a plain directory) is
// copied, never built in place; a git URL (https://, http://, ssh://,
// git@host:path, or file:// of a repository) is cloned with `git` run from an
// argv, never a shell. The build context (sourceSubPath inside the source)
// must stay inside the work directory: a ".." or absolute sub-path, a context
// whose realpath leaves the work directory, and a symlink inside the context
// pointing outside it are errors naming the path.
//
// Tools run in their own process group with stdout and stderr appended to
// the build log; when the build's deadline passes or its token is cancelled,
// the tool and every process it started (even ones that made their own
// process groups, as ninja does) are killed.
//
// Thread-safety: CancelToken may be cancelled from any thread. A BuildLog may
// be written from several threads (one write(2) per line). FetchSource and
// RunTool block the calling thread; concurrent calls with different work
// directories are independent.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"

namespace ofn::build {

// Shared by copies: cancelling one cancels all.
class CancelToken {
 public:
  CancelToken() : state_(std::make_shared<std::atomic<bool>>(false)) {}
  void Cancel() const { state_->store(true); }
  bool cancelled() const { return state_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> state_;
};

// An append-only log file. Lines from Ofn start with "[build] "; tools write
// into the same file through fd().
class BuildLog {
 public:
  // Opens (creating it and its parent directories) `path` for appending.
  static Result<std::unique_ptr<BuildLog>> Open(const std::string& path);
  ~BuildLog();
  BuildLog(const BuildLog&) = delete;
  BuildLog& operator=(const BuildLog&) = delete;

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // Appends "[build] <text>\n".
  void Line(std::string_view text);
  // The current size, for Tail.
  int64_t Size() const;
  // The last `lines` lines written after offset `from`.
  std::string Tail(int64_t from, int lines) const;

 private:
  BuildLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

using Deadline = std::chrono::steady_clock::time_point;

// What the steps of one build share.
struct BuildEnv {
  Deadline deadline = Deadline::max();
  std::chrono::milliseconds timeout{0};  // for the message; 0: no deadline
  CancelToken cancel;
  BuildLog* log = nullptr;               // required
  std::string tool_path;                 // PATH to find tools in; empty: this process's
  // Ok, or the build's end: DeadlineExceeded "build timed out after Ns" or
  // Cancelled "build cancelled".
  Status Check() const;
};

struct ToolCall {
  std::vector<std::string> argv;                 // argv[0] is looked up in BuildEnv::tool_path
  std::map<std::string, std::string> env;        // added to (or replacing in) this process's environment
  std::string cwd;                               // empty: this process's
  std::string stdout_path;                       // stdout to this file instead of the log (stderr stays)
};

// Runs the tool to its end; its exit code (128 + signal when killed by one).
// NotFound when the tool is not installed; BuildEnv::Check()'s error when the
// build's deadline passes or it is cancelled (the tool's processes are
// killed and reaped first).
Result<int> RunTool(const BuildEnv& env, const ToolCall& call);

// The executable `name` in `path` (a PATH value; empty: this process's), or "".
std::string FindTool(std::string_view name, const std::string& path = "");

// OpenFunction's spec.build.srcRepo.
struct SourceSpec {
  std::string url;             // absolute directory, file://, https://, http://, ssh://, git@host:path
  std::string revision;        // branch, tag or commit; empty: the remote's HEAD
  std::string source_sub_path; // the build context inside the source; empty: its root
};

struct SourceTree {
  std::string root;            // the copy or clone, inside the work directory
  std::string context;         // root/sourceSubPath, realpath'd
  std::string revision;        // git commit (40 hex) of a clone; "" for a directory
};

// Fetches the source into `workdir` (an existing, empty directory; the
// source goes to workdir/src) and checks the build context. Errors:
// InvalidArgument for a bad URL, sub-path or escaping context/symlink (naming
// the path), NotFound for a missing directory, FailedPrecondition when git
// fails (its output is in the log), and BuildEnv::Check()'s errors.
Result<SourceTree> FetchSource(const SourceSpec& spec, const std::string& workdir, const BuildEnv& env);

// Copies the directory `from` into `to` (which must not exist) without
// following symlinks, keeping modes; a top-level .git is left out (history
// is not build input). NotFound when `from` is not a directory;
// InvalidArgument naming a device, fifo or socket.
Status CopyTree(const std::string& from, const std::string& to);

// Checks every symlink under `context` (the build context) resolves inside
// it; InvalidArgument "build context: a/b -> ../../etc: escapes the context".
Status CheckContextSymlinks(const std::string& context);

}  // namespace ofn::build

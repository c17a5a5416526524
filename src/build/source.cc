#include "build/source.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace ofn::build {
namespace fs = std::filesystem;

// ---------------------------------------------------------------- BuildLog

Result<std::unique_ptr<BuildLog>> BuildLog::Open(const std::string& path) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("build log " + path + ": " + std::strerror(errno));
  return std::unique_ptr<BuildLog>(new BuildLog(fd, path));
}

BuildLog::~BuildLog() { ::close(fd_); }

void BuildLog::Line(std::string_view text) {
  std::string line = "[build] ";
  line.append(text);
  line.push_back('\n');
  // One write: O_APPEND keeps lines whole between writers.
  [[maybe_unused]] ssize_t n = ::write(fd_, line.data(), line.size());
}

int64_t BuildLog::Size() const {
  struct stat st {};
  return ::fstat(fd_, &st) == 0 ? st.st_size : 0;
}

std::string BuildLog::Tail(int64_t from, int lines) const {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  ::fstat(fd, &st);
  // A compiler can print a lot; the tail is in the last 64 KiB.
  int64_t start = std::max<int64_t>(from, st.st_size - 65536);
  std::string text(static_cast<size_t>(std::max<int64_t>(0, st.st_size - start)), '\0');
  ssize_t n = text.empty() ? 0 : ::pread(fd, text.data(), text.size(), start);
  ::close(fd);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

// ---------------------------------------------------------------- BuildEnv

Status BuildEnv::Check() const {
  if (cancel.cancelled()) return Status::Cancelled("build cancelled");
  if (std::chrono::steady_clock::now() >= deadline) {
    auto ms = timeout.count();
    std::ostringstream s;
    s << "build timed out after ";
    if (ms % 1000 == 0) {
      s << ms / 1000;
    } else {
      s << static_cast<double>(ms) / 1000.0;
    }
    s << "s";
    return Status::DeadlineExceeded(s.str());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- tools

std::string FindTool(std::string_view name, const std::string& path) {
  if (name.empty()) return "";
  if (name.find('/') != std::string_view::npos) {
    return ::access(std::string(name).c_str(), X_OK) == 0 ? std::string(name) : "";
  }
  std::string dirs = path;
  if (dirs.empty()) {
    const char* p = std::getenv("PATH");
    dirs = p != nullptr && *p != '\0' ? p : "/usr/local/bin:/usr/bin:/bin";
  }
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;  // "" would mean the current directory: never for a build
    std::string candidate = dir + "/" + std::string(name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

namespace {

// ppid of every process, from /proc.
std::multimap<pid_t, pid_t> ChildrenByParent() {
  std::multimap<pid_t, pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (struct dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    long ppid = 0;
    if (rest >> state >> ppid) children.emplace(static_cast<pid_t>(ppid), static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return children;
}

// Kills `root` (our child, not yet reaped) and all its descendants. ninja
// puts each command in its own process group, so killing our group alone
// would leave compilers running: the tree is frozen with SIGSTOP until no new
// process appears (a stopped process cannot fork), then killed.
void KillTree(pid_t root) {
  std::set<pid_t> stopped;
  for (int round = 0; round < 50; ++round) {
    auto children = ChildrenByParent();
    std::vector<pid_t> todo = {root};
    bool added = false;
    while (!todo.empty()) {
      pid_t p = todo.back();
      todo.pop_back();
      if (stopped.insert(p).second) {
        ::kill(p, SIGSTOP);
        added = true;
      }
      auto range = children.equal_range(p);
      for (auto it = range.first; it != range.second; ++it) todo.push_back(it->second);
    }
    if (!added) break;
  }
  ::kill(-root, SIGKILL);
  for (pid_t p : stopped) ::kill(p, SIGKILL);
}

struct SpawnState {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnState() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnState() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Result<int> RunTool(const BuildEnv& env, const ToolCall& call) {
  if (Status s = env.Check(); !s.ok()) return s;
  if (call.argv.empty()) return Status::InvalidArgument("RunTool: empty argv");
  if (env.log == nullptr) return Status::InvalidArgument("RunTool: no build log");
  const std::string program = FindTool(call.argv[0], env.tool_path);
  if (program.empty()) return Status::NotFound(call.argv[0] + " is not installed (not found on PATH)");

  // The environment: ours, then PATH (so the tool's own children find the
  // same tools), then the call's.
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  if (!env.tool_path.empty()) vars["PATH"] = env.tool_path;
  for (const auto& [k, v] : call.env) vars[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = call.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnState st;
  posix_spawn_file_actions_addopen(&st.actions, 0, "/dev/null", O_RDONLY, 0);
  if (call.stdout_path.empty()) {
    posix_spawn_file_actions_adddup2(&st.actions, env.log->fd(), 1);
  } else {
    posix_spawn_file_actions_addopen(&st.actions, 1, call.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  posix_spawn_file_actions_adddup2(&st.actions, env.log->fd(), 2);
  if (!call.cwd.empty()) posix_spawn_file_actions_addchdir_np(&st.actions, call.cwd.c_str());
  // Own process group (killed as one), default signal dispositions and an
  // empty mask whatever the calling thread had.
  posix_spawnattr_setpgroup(&st.attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&st.attr, &none);
  posix_spawnattr_setsigdefault(&st.attr, &defaults);
  posix_spawnattr_setflags(&st.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &st.actions, &st.attr, argv.data(), envp.data());
  if (rc != 0) return Status::Internal("cannot run " + program + ": " + std::strerror(rc));

  for (;;) {
    siginfo_t info{};
    // WNOWAIT: the exited child stays a zombie, so its pid (= our process
    // group id) cannot be reused while we kill what is left of the group.
    int w = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (w == 0 && info.si_pid == pid) break;
    if (w != 0 && errno != EINTR) break;
    if (Status s = env.Check(); !s.ok()) {
      KillTree(pid);
      int ignored = 0;
      while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
      }
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);  // anything the tool left behind in its group (git's background gc, ...)
  int status = 0;
  pid_t reaped = 0;
  while ((reaped = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (reaped != pid) return Status::Internal("cannot wait for " + program + ": " + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// ---------------------------------------------------------------- sources

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A work tree (has .git) or a bare repository (HEAD and objects/).
bool IsGitRepo(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/.git/HEAD").c_str(), &st) == 0) return true;
  // A linked work tree or submodule: .git is a "gitdir:" file.
  if (::lstat((dir + "/.git").c_str(), &st) == 0 && S_ISREG(st.st_mode)) return true;
  return ::stat((dir + "/HEAD").c_str(), &st) == 0 && S_ISREG(st.st_mode) && IsDir(dir + "/objects");
}

// user@host:path (scp-like ssh syntax): a ':' before any '/', an '@' before it.
bool IsScpLike(std::string_view url) {
  size_t colon = url.find(':');
  size_t slash = url.find('/');
  size_t at = url.find('@');
  return colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash) &&
         at != std::string_view::npos && at < colon && at > 0;
}

std::string RealPath(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return "";
  std::string out(r);
  std::free(r);
  return out;
}

bool Inside(const std::string& path, const std::string& dir) {
  return path == dir || StartsWith(path, dir + "/");
}

}  // namespace

Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  struct stat root_st {};
  if (::stat(from.c_str(), &root_st) != 0 || !S_ISDIR(root_st.st_mode)) {
    return Status::NotFound("source directory " + from + " does not exist");
  }
  if (!fs::create_directory(to, ec) || ec) return Status::Internal("cannot create " + to + ": " + ec.message());
  // Directory modes are applied last, so a read-only directory can still be filled.
  std::vector<std::pair<std::string, fs::perms>> dir_modes = {{to, fs::status(from, ec).permissions()}};
  fs::recursive_directory_iterator it(from, fs::directory_options::none, ec);
  if (ec) return Status::Internal("cannot read " + from + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Internal("cannot read " + from + ": " + ec.message());
    const fs::path& src = it->path();
    const std::string rel = src.lexically_relative(from).string();
    const std::string dst = to + "/" + rel;
    if (it.depth() == 0 && src.filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    fs::file_status s = it->symlink_status(ec);
    if (ec) return Status::Internal("cannot stat " + src.string() + ": " + ec.message());
    if (fs::is_symlink(s)) {
      fs::copy_symlink(src, dst, ec);
    } else if (fs::is_directory(s)) {
      fs::create_directory(dst, ec);
      dir_modes.emplace_back(dst, s.permissions());
    } else if (fs::is_regular_file(s)) {
      fs::copy_file(src, dst, ec);
      if (!ec) fs::permissions(dst, s.permissions(), ec);
    } else {
      return Status::InvalidArgument("build context: " + rel + ": not a regular file, directory or symlink");
    }
    if (ec) return Status::Internal("cannot copy " + src.string() + ": " + ec.message());
  }
  for (auto r = dir_modes.rbegin(); r != dir_modes.rend(); ++r) {
    fs::permissions(r->first, r->second | fs::perms::owner_write | fs::perms::owner_exec, ec);
  }
  return Status::Ok();
}

namespace {

const std::vector<std::string> kGit = {"git", "-c", "gc.auto=0", "-c", "advice.detachedHead=false",
                                       "-c", "core.hooksPath=/dev/null"};

std::vector<std::string> Git(std::initializer_list<std::string> args) {
  std::vector<std::string> argv = kGit;
  argv.insert(argv.end(), args);
  return argv;
}

std::map<std::string, std::string> GitEnv() {
  std::map<std::string, std::string> env = {{"GIT_TERMINAL_PROMPT", "0"}, {"LC_ALL", "C"}};
  // ssh must not ask either (no TTY behind a build).
  if (std::getenv("GIT_SSH_COMMAND") == nullptr) env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
  return env;
}

// Runs git; ok, or FailedPrecondition "<what> failed (exit N): <its last lines>".
Status RunGit(const BuildEnv& env, std::vector<std::string> argv, const std::string& what,
              const std::string& cwd = "", const std::string& stdout_path = "") {
  ToolCall call;
  call.argv = std::move(argv);
  call.env = GitEnv();
  call.cwd = cwd;
  call.stdout_path = stdout_path;
  const int64_t from = env.log->Size();
  Result<int> rc = RunTool(env, call);
  if (!rc.ok()) return rc.status();
  if (*rc != 0) {
    return Status::FailedPrecondition(what + " failed (exit " + std::to_string(*rc) + "): " + env.log->Tail(from, 5));
  }
  return Status::Ok();
}

bool ValidRevision(std::string_view rev) {
  if (rev.empty() || rev.size() > 256 || rev[0] == '-') return false;
  for (char c : rev) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '~' || c == '^' || c == ':' || c == '\\') {
      return false;
    }
  }
  return true;
}

Status Clone(const BuildEnv& env, const std::string& url, const std::string& revision, const std::string& root,
             std::string* commit) {
  if (revision.empty()) {
    env.log->Line("git clone --depth 1 " + url);
    if (Status s = RunGit(env, Git({"clone", "--quiet", "--depth", "1", "--", url, root}), "git clone of " + url);
        !s.ok()) {
      return s;
    }
  } else {
    if (!ValidRevision(revision)) return Status::InvalidArgument("revision \"" + revision + "\" is not a valid git revision");
    env.log->Line("git fetch --depth 1 " + url + " " + revision);
    if (Status s = RunGit(env, Git({"init", "--quiet", "--", root}), "git init"); !s.ok()) return s;
    if (Status s = RunGit(env, Git({"remote", "add", "--", "origin", url}), "git remote add", root); !s.ok()) {
      return s;
    }
    // A branch, tag or full commit id, shallow; the server may refuse a
    // commit id (or it is abbreviated): then the whole history.
    Status shallow = RunGit(env, Git({"fetch", "--quiet", "--depth", "1", "--", "origin", revision}),
                            "git fetch " + revision, root);
    if (shallow.ok()) {
      if (Status s = RunGit(env, Git({"checkout", "--quiet", "--detach", "FETCH_HEAD", "--"}), "git checkout", root);
          !s.ok()) {
        return s;
      }
    } else {
      if (shallow.code() != StatusCode::kFailedPrecondition) return shallow;
      env.log->Line("shallow fetch of " + revision + " failed; fetching the whole repository");
      if (Status s = RunGit(env,
                            Git({"fetch", "--quiet", "--tags", "--", "origin", "+refs/heads/*:refs/remotes/origin/*"}),
                            "git fetch of " + url, root);
          !s.ok()) {
        return s;
      }
      Status direct = RunGit(env, Git({"checkout", "--quiet", "--detach", revision, "--"}), "git checkout", root);
      if (!direct.ok()) {
        if (direct.code() != StatusCode::kFailedPrecondition) return direct;
        Status branch = RunGit(env, Git({"checkout", "--quiet", "--detach", "origin/" + revision, "--"}),
                               "git checkout", root);
        if (!branch.ok()) {
          if (branch.code() != StatusCode::kFailedPrecondition) return branch;
          return Status::NotFound("revision \"" + revision + "\" is not in " + url);
        }
      }
    }
  }
  // The commit, for the image's revision label.
  const std::string out = root + ".head";
  if (Status s = RunGit(env, Git({"rev-parse", "HEAD"}), "git rev-parse HEAD", root, out); !s.ok()) return s;
  std::ifstream in(out);
  std::string head;
  std::getline(in, head);
  ::unlink(out.c_str());
  if (head.size() != 40) return Status::Internal("git rev-parse HEAD gave \"" + head + "\"");
  *commit = head;
  std::error_code ec;
  fs::remove_all(root + "/.git", ec);  // history is not build input
  return Status::Ok();
}

}  // namespace

Status CheckContextSymlinks(const std::string& context) {
  const std::string real_context = RealPath(context);
  if (real_context.empty()) return Status::NotFound("build context " + context + " does not exist");
  std::error_code ec;
  fs::recursive_directory_iterator it(context, fs::directory_options::none, ec);
  if (ec) return Status::Internal("cannot read " + context + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Internal("cannot read " + context + ": " + ec.message());
    if (!it->is_symlink(ec)) continue;
    const fs::path rel = it->path().lexically_relative(context);
    const fs::path target = fs::read_symlink(it->path(), ec);
    if (ec) return Status::Internal("cannot read symlink " + rel.string() + ": " + ec.message());
    const std::string escapes = "build context: " + rel.string() + " -> " + target.string() + ": escapes the context";
    if (target.is_absolute()) return Status::InvalidArgument(escapes);
    const fs::path lexical = (rel.parent_path() / target).lexically_normal();
    if (!lexical.empty() && *lexical.begin() == "..") return Status::InvalidArgument(escapes);
    // Lexically inside is not enough ("r -> ." then "x -> r/.."): where the
    // kernel resolves it must be inside too, when it resolves at all.
    const std::string real = RealPath(it->path().string());
    if (!real.empty() && !Inside(real, real_context)) return Status::InvalidArgument(escapes);
    if (real.empty() && errno == ELOOP) return Status::InvalidArgument("build context: " + rel.string() + ": symlink loop");
  }
  return Status::Ok();
}

Result<SourceTree> FetchSource(const SourceSpec& spec, const std::string& workdir, const BuildEnv& env) {
  const std::string& url = spec.url;
  if (url.empty()) return Status::InvalidArgument("source url is empty");
  if (url[0] == '-') return Status::InvalidArgument("source url \"" + url + "\" must not start with '-'");
  for (char c : url) {
    if (static_cast<unsigned char>(c) < ' ') return Status::InvalidArgument("source url has a control character");
  }
  // sourceSubPath: relative, no "..", checked before anything is fetched.
  fs::path sub(spec.source_sub_path);
  if (sub.is_absolute()) {
    return Status::InvalidArgument("sourceSubPath \"" + spec.source_sub_path + "\" must be a relative path");
  }
  for (const auto& part : sub) {
    if (part == "..") {
      return Status::InvalidArgument("sourceSubPath \"" + spec.source_sub_path + "\" must not contain '..'");
    }
  }

  SourceTree tree;
  tree.root = workdir + "/src";
  std::string local;  // a directory to copy
  std::string git;    // a URL to clone
  if (StartsWith(url, "/")) {
    // A repository given with a revision is cloned at it; otherwise the
    // directory as it is (uncommitted changes included).
    if (!spec.revision.empty() && IsGitRepo(url)) {
      git = "file://" + url;
    } else {
      local = url;
    }
  } else if (StartsWith(url, "file://")) {
    std::string path = url.substr(7);
    if (!StartsWith(path, "/")) return Status::InvalidArgument("source url \"" + url + "\": file:// needs an absolute path");
    if (IsGitRepo(path)) {
      git = url;
    } else {
      local = path;
    }
  } else if (StartsWith(url, "https://") || StartsWith(url, "http://") || StartsWith(url, "ssh://") ||
             StartsWith(url, "git://") || IsScpLike(url)) {
    git = url;
  } else {
    return Status::InvalidArgument("source url \"" + url +
                                   "\" is not an absolute directory, a file:// URL or a git URL "
                                   "(https://, http://, ssh://, git@host:path)");
  }

  if (!local.empty()) {
    if (!spec.revision.empty()) {
      return Status::InvalidArgument("revision \"" + spec.revision + "\" needs a git repository; " + local +
                                     " is a plain directory");
    }
    env.log->Line("copying " + local);
    if (Status s = CopyTree(local, tree.root); !s.ok()) return s;
  } else {
    if (Status s = Clone(env, git, spec.revision, tree.root, &tree.revision); !s.ok()) return s;
  }
  if (Status s = env.Check(); !s.ok()) return s;

  const std::string context = spec.source_sub_path.empty() ? tree.root : tree.root + "/" + spec.source_sub_path;
  tree.context = RealPath(context);
  if (tree.context.empty()) {
    return Status::NotFound("sourceSubPath \"" + spec.source_sub_path + "\" does not exist in the source");
  }
  const std::string real_work = RealPath(workdir);
  if (!Inside(tree.context, real_work)) {
    return Status::InvalidArgument("build context: " + spec.source_sub_path + " -> " + tree.context +
                                   ": escapes the context");
  }
  if (!IsDir(tree.context)) {
    return Status::InvalidArgument("sourceSubPath \"" + spec.source_sub_path + "\" is not a directory");
  }
  if (Status s = CheckContextSymlinks(tree.context); !s.ok()) return s;
  return tree;
}

}  // namespace ofn::build

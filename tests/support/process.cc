#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace ofn::testing {
namespace {

// Poll interval for conditions that have no file descriptor to wait on.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// Tries one TCP connection to 127.0.0.1:port, waiting at most until deadline.
bool TryConnect(int port, Deadline deadline) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLOUT, 0};
    if (left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return "exit " + std::to_string(code);
  return "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

Result<std::unique_ptr<Process>> Process::Start(const ProcessOptions& options) {
  if (options.argv.empty()) return Status::InvalidArgument("Process::Start: empty argv");

  // Everything the child needs is prepared before fork: the child only calls
  // async-signal-safe functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const auto& u : options.unset_env) drop = drop || name == u;
    for (const auto& [k, v] : options.env) drop = drop || name == k;
    if (!drop) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_fd = ::open(options.output_file.empty() ? "/dev/null" : options.output_file.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) return Status::Internal(ErrnoText("open " + options.output_file));
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // The child writes errno here if exec fails; a successful exec closes it.
  int report[2];
  if (in_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    ::close(out_fd);
    if (in_fd >= 0) ::close(in_fd);
    return Status::Internal(ErrnoText("pipe2"));
  }
  const pid_t parent = ::getpid();
  const char* dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_fd);
    ::close(in_fd);
    ::close(report[0]);
    ::close(report[1]);
    return Status::Internal(ErrnoText("fork"));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int err = 0;
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) err = errno;
    if (err == 0 && dir != nullptr && ::chdir(dir) != 0) err = errno;
    if (err == 0) {
      ::execve(argv[0], argv.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(report[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so Signal() works right away
  ::close(out_fd);
  ::close(in_fd);
  ::close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  std::unique_ptr<Process> p(new Process(pid, options.output_file));
  if (n > 0) {
    p->Wait(Clock::now() + std::chrono::seconds(5));
    errno = child_errno;
    return Status::Internal(ErrnoText("exec " + options.argv[0]));
  }
  return p;
}

Process::~Process() {
  if (!exit_) {
    ::kill(-pid_, SIGKILL);
    TryReap(true);
  } else {
    ::kill(-pid_, SIGKILL);  // stragglers of the group, if any
  }
}

bool Process::TryReap(bool block) {
  if (exit_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  exit_ = s;
  return true;
}

Status Process::Signal(int sig) {
  if (exit_) return Status::FailedPrecondition("process already ended: " + exit_->ToString());
  if (::kill(-pid_, sig) != 0) return Status::Internal(ErrnoText("kill"));
  return Status::Ok();
}

std::optional<ExitStatus> Process::Wait(Deadline deadline) {
  while (!TryReap(false)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
  return exit_;
}

bool Process::Running() { return !TryReap(false); }

Status Process::WaitForPort(int port, Deadline deadline) {
  for (;;) {
    if (!Running()) return Status::FailedPrecondition("process ended before listening: " + exit_->ToString());
    if (TryConnect(port, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)))) return Status::Ok();
    if (Clock::now() >= deadline) {
      return Status::DeadlineExceeded("port " + std::to_string(port) + " not accepting connections");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string Process::Output() const {
  if (output_file_.empty()) return {};
  return ReadFile(output_file_).value_or("");
}

bool WaitForPort(int port, Deadline deadline) {
  for (;;) {
    if (TryConnect(port, std::min(deadline, Clock::now() + std::chrono::milliseconds(200)))) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

Status WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Internal("cannot open " + path);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return Status::Internal("cannot write " + path);
  return Status::Ok();
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("OFN_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ofn::testing

#include "runtime/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace ofn::runtime {
namespace {

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteText(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_CREAT, 0644);
  if (fd < 0) return Status::Internal("open " + path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    errno = n < 0 ? err : EIO;  // callers tell EBUSY apart
    return Status::Internal("write \"" + std::string(text) + "\" to " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

bool HasWord(std::string_view text, std::string_view word) {
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

bool IsCgroup2(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
}

bool MakeDir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

// Kills and removes what a runtime of a process that is gone left behind.
void RemoveStale(const std::string& ofn_dir) {
  for (const std::string& name : SubDirs(ofn_dir)) {
    if (!AllDigits(name)) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::string dir = ofn_dir + "/" + name;
    for (const std::string& inst : SubDirs(dir)) {
      KillCgroup(dir + "/" + inst);
      RemoveCgroup(dir + "/" + inst);
    }
    ::rmdir(dir.c_str());
  }
}

// Enables `controller` in dir's subtree_control; true if it is enabled after.
bool Enable(const std::string& dir, const std::string& controller, bool may_write, std::string* note) {
  auto current = ReadText(dir + "/cgroup.subtree_control");
  if (current && HasWord(*current, controller)) return true;
  if (!may_write) {
    *note += controller + " is not delegated by the root cgroup; ";
    return false;
  }
  Status s = WriteText(dir + "/cgroup.subtree_control", "+" + controller);
  if (!s.ok()) {
    *note += "cannot enable " + controller + " in " + dir +
             (errno == EBUSY ? " (it holds processes: run the server in a cgroup of its own)" : "") + "; ";
    return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> OwnCgroupV2Path(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

CgroupSupport SetUpCgroups(const CgroupSetupOptions& options) {
  CgroupSupport support;
  auto self = ReadText(options.proc_self_cgroup);
  std::optional<std::string> own = self ? OwnCgroupV2Path(*self) : std::nullopt;
  if (!own) {
    support.note = "no cgroup v2 entry in " + options.proc_self_cgroup;
    return support;
  }
  std::string mount;
  for (const std::string& m : options.mounts) {
    if (IsCgroup2(m)) {
      mount = m;
      break;
    }
  }
  if (mount.empty()) {
    support.note = "no cgroup2 filesystem mounted";
    return support;
  }
  std::string own_dir = mount + (*own == "/" ? "" : *own);
  std::string ofn_dir = own_dir + "/ofn";
  std::string base = ofn_dir + "/" + std::to_string(::getpid());
  if (!MakeDir(ofn_dir) || !MakeDir(base)) {
    support.note = "cannot create " + base + ": " + std::strerror(errno);
    return support;
  }
  support.base = base;
  RemoveStale(ofn_dir);

  auto available = ReadText(own_dir + "/cgroup.controllers").value_or("");
  for (const char* c : {"memory", "cpu"}) {
    bool on = HasWord(available, c);
    if (!on) support.note += std::string(c) + " controller not available in " + own_dir + "; ";
    // The root's own settings are the host's business: only use what it already delegates.
    on = on && Enable(own_dir, c, *own != "/", &support.note);
    on = on && Enable(ofn_dir, c, true, &support.note);
    on = on && Enable(base, c, true, &support.note);
    (std::string_view(c) == "memory" ? support.memory : support.cpu) = on;
  }
  if (support.note.size() >= 2) support.note.resize(support.note.size() - 2);
  return support;
}

void TearDownCgroups(const CgroupSupport& support) {
  if (!support.base.empty()) ::rmdir(support.base.c_str());
}

LimitPlan PlanLimits(const CgroupSupport& support, const Resources& resources) {
  LimitPlan plan;
  plan.cgroup = !support.base.empty();
  if (resources.memory_bytes > 0) {
    plan.memory = plan.cgroup && support.memory ? LimitMechanism::kCgroupV2 : LimitMechanism::kRlimit;
  }
  if (resources.cpu_millis > 0) {
    plan.cpu = plan.cgroup && support.cpu ? LimitMechanism::kCgroupV2 : LimitMechanism::kNotEnforced;
  }
  return plan;
}

std::string CpuMax(int64_t cpu_millis) {
  constexpr int64_t kPeriod = 100000;  // µs, the kernel's default period
  int64_t quota = std::max<int64_t>(cpu_millis * kPeriod / 1000, 1000);
  return std::to_string(quota) + " " + std::to_string(kPeriod);
}

Status CreateInstanceCgroup(const std::string& dir, const Resources& resources, const LimitPlan& plan) {
  if (!MakeDir(dir)) return Status::Internal("create cgroup " + dir + ": " + std::strerror(errno));
  if (plan.memory == LimitMechanism::kCgroupV2) {
    Status s = WriteText(dir + "/memory.max", std::to_string(resources.memory_bytes));
    if (!s.ok()) return s;
    // Without swap the limit is what it says; a kernel without swap
    // accounting has no such file, which is fine.
    if (::access((dir + "/memory.swap.max").c_str(), F_OK) == 0) WriteText(dir + "/memory.swap.max", "0");
    // An OOM kill takes the whole instance, not one random process of it.
    if (::access((dir + "/memory.oom.group").c_str(), F_OK) == 0) WriteText(dir + "/memory.oom.group", "1");
  }
  if (plan.cpu == LimitMechanism::kCgroupV2) {
    Status s = WriteText(dir + "/cpu.max", CpuMax(resources.cpu_millis));
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status KillCgroup(const std::string& dir) {
  std::string kill_file = dir + "/cgroup.kill";
  if (::access(kill_file.c_str(), F_OK) != 0) return Status::Unimplemented("no cgroup.kill in " + dir);
  return WriteText(kill_file, "1");
}

Status RemoveCgroup(const std::string& dir) {
  // Killed processes leave the cgroup asynchronously, within milliseconds.
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Status::Ok();
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Internal("remove cgroup " + dir + ": " + std::strerror(errno));
}

bool CgroupOomKilled(const std::string& dir) {
  auto events = ReadText(dir + "/memory.events");
  if (!events) return false;
  std::istringstream in(*events);
  std::string key;
  long long value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill" && value > 0) return true;
  }
  return false;
}

}  // namespace ofn::runtime

#include "container/oci_spec.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "common/unique_fd.h"

namespace ofn::container {
namespace {

using nlohmann::json;

// The file at `rel` inside `root`, resolved as if root were "/" (symlinks
// included), so an image cannot point us at the host's files. nullopt when
// it does not exist.
Result<std::optional<std::string>> ReadInRoot(const std::string& root, const char* rel) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return Status::NotFound("rootfs " + root + ": " + std::strerror(errno));
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, dir.get(), rel, &how, sizeof how)));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::Internal(std::string("open ") + rel + " in " + root + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(std::string("read ") + rel + ": " + std::strerror(errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (4u << 20)) return Status::InvalidArgument(std::string(rel) + " is too big");
  }
  return std::optional<std::string>(std::move(out));
}

std::optional<uint32_t> ParseId(const std::string& s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Lines of a passwd/group file split on ':'.
std::vector<std::vector<std::string>> Records(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t pos = 0;
    while (true) {
      size_t c = line.find(':', pos);
      f.push_back(line.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
      if (c == std::string::npos) break;
      pos = c + 1;
    }
    out.push_back(std::move(f));
  }
  return out;
}

json Mount(const char* dest, const char* type, const char* source, std::vector<std::string> options) {
  return json{{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(options)}};
}

json SeccompProfile() {
  json syscalls = json::array();
  syscalls.push_back({{"names", kSeccompDenied}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EPERM}});
  // Namespaces: clone with any CLONE_NEW* flag (one rule per flag: the
  // filter can only test "arg & mask == value").
  constexpr uint64_t kNewFlags[] = {0x00020000 /*NEWNS*/,  0x02000000 /*NEWCGROUP*/, 0x04000000 /*NEWUTS*/,
                                    0x08000000 /*NEWIPC*/, 0x10000000 /*NEWUSER*/,   0x20000000 /*NEWPID*/,
                                    0x40000000 /*NEWNET*/};
  for (uint64_t f : kNewFlags) {
    syscalls.push_back({{"names", {"clone"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", EPERM},
                        {"args", {{{"index", 0}, {"value", f}, {"valueTwo", f}, {"op", "SCMP_CMP_MASKED_EQ"}}}}});
  }
  // clone3's flags live in memory the filter cannot read: ENOSYS makes libc
  // fall back to clone.
  syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
#if defined(__x86_64__)
  std::vector<std::string> arches = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  std::vector<std::string> arches = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
  std::vector<std::string> arches;
#endif
  return json{{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", arches}, {"syscalls", syscalls}};
}

}  // namespace

std::vector<std::string> ImageArgs(const std::vector<std::string>& entrypoint, const std::vector<std::string>& cmd,
                                   const std::vector<std::string>& command, const std::vector<std::string>& args) {
  std::vector<std::string> out = command.empty() ? entrypoint : command;
  const auto& rest = !args.empty() || !command.empty() ? args : cmd;
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

Result<UserIds> ResolveUser(const std::string& rootfs, const std::string& user) {
  if (user.empty()) return UserIds{};
  size_t colon = user.find(':');
  std::string u = user.substr(0, colon);
  std::string g = colon == std::string::npos ? "" : user.substr(colon + 1);
  if (u.empty()) return Status::InvalidArgument("user \"" + user + "\" has no user part");
  UserIds ids;
  std::optional<uint32_t> uid = ParseId(u);
  std::optional<uint32_t> passwd_gid;
  if (!uid || g.empty()) {
    auto passwd = ReadInRoot(rootfs, "etc/passwd");
    if (!passwd.ok()) return passwd.status();
    for (const auto& r : Records(passwd->value_or(""))) {
      if (r.size() < 4) continue;
      bool match = uid ? ParseId(r[2]) == uid : r[0] == u;
      if (match) {
        uid = ParseId(r[2]);
        passwd_gid = ParseId(r[3]);
        break;
      }
    }
    if (!uid) return Status::NotFound("user \"" + u + "\" is not in the image's /etc/passwd");
  }
  ids.uid = *uid;
  ids.gid = passwd_gid.value_or(0);
  if (!g.empty()) {
    std::optional<uint32_t> gid = ParseId(g);
    if (!gid) {
      auto group = ReadInRoot(rootfs, "etc/group");
      if (!group.ok()) return group.status();
      for (const auto& r : Records(group->value_or(""))) {
        if (r.size() >= 3 && r[0] == g) gid = ParseId(r[2]);
        if (gid) break;
      }
      if (!gid) return Status::NotFound("group \"" + g + "\" is not in the image's /etc/group");
    }
    ids.gid = *gid;
  }
  return ids;
}

Result<json> OciSpecJson(const ContainerSpec& spec) {
  if (spec.rootfs.empty() || spec.rootfs[0] != '/') return Status::InvalidArgument("rootfs must be an absolute path");
  if (spec.args.empty()) return Status::InvalidArgument("container has no process args");
  if (spec.cwd.empty() || spec.cwd[0] != '/') return Status::InvalidArgument("cwd must be absolute: \"" + spec.cwd + "\"");
  for (const auto& e : spec.env) {
    if (e.find('=') == std::string::npos) return Status::InvalidArgument("env entry without '=': \"" + e + "\"");
  }
  std::vector<std::string> env;
  for (const auto& e : spec.env) {
    bool listen_var = e.rfind("LISTEN_FDS=", 0) == 0 || e.rfind("LISTEN_PID=", 0) == 0 || e.rfind("LISTEN_FDNAMES=", 0) == 0;
    if (!spec.listen_fd || !listen_var) env.push_back(e);
  }
  if (spec.listen_fd) {
    env.push_back("LISTEN_FDS=1");
    env.push_back("LISTEN_PID=1");
  }
  auto ids = ResolveUser(spec.rootfs, spec.user);
  if (!ids.ok()) return ids.status();

  uint64_t nofile = spec.nofile;
  if (nofile == 0) {
    // Raising a hard limit needs CAP_SYS_RESOURCE, which a server in a
    // container may lack: the runtime would fail to start every instance.
    struct rlimit rl {};
    nofile = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY) nofile = std::min<uint64_t>(nofile, rl.rlim_max);
  }
  std::vector<std::string> caps = ids->uid == 0 ? kRootCapabilities : std::vector<std::string>{};
  json process = {
      {"terminal", false},
      {"user", {{"uid", ids->uid}, {"gid", ids->gid}}},
      {"args", spec.args},
      {"env", env},
      {"cwd", spec.cwd},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", json::array()},
        {"ambient", json::array()}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", nofile}, {"soft", nofile}}}},
      {"noNewPrivileges", true},
  };

  json mounts = json::array({
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      Mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      Mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      Mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      Mount("/tmp", "tmpfs", "tmpfs",
            {"nosuid", "nodev", "mode=1777", "size=" + std::to_string(spec.tmp_size_bytes / 1024) + "k"}),
  });

  json netns = {{"type", "network"}};
  if (!spec.netns_path.empty()) netns["path"] = spec.netns_path;
  json linux_ = {
      {"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, netns}},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
      {"seccomp", SeccompProfile()},
  };
  json resources = json::object();
  if (spec.memory_bytes > 0) resources["memory"] = {{"limit", spec.memory_bytes}};
  if (spec.cpu_millis > 0) {
    constexpr int64_t kPeriod = 100000;  // µs
    resources["cpu"] = {{"quota", spec.cpu_millis * kPeriod / 1000}, {"period", kPeriod}};
  }
  if (!resources.empty()) linux_["resources"] = resources;
  if (!spec.cgroups_path.empty()) linux_["cgroupsPath"] = spec.cgroups_path;

  return json{
      {"ociVersion", "1.0.2"},
      {"root", {{"path", spec.rootfs}, {"readonly", true}}},
      {"hostname", spec.hostname},
      {"process", process},
      {"mounts", mounts},
      {"linux", linux_},
  };
}

Result<std::string> WriteBundle(const std::string& dir, const ContainerSpec& spec) {
  auto doc = OciSpecJson(spec);
  if (!doc.ok()) return doc.status();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("create " + dir + ": " + ec.message());
  std::string path = dir + "/config.json";
  std::string tmp = path + ".tmp";
  std::string text = doc->dump(2);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::Internal("open " + tmp + ": " + std::strerror(errno));
  for (size_t off = 0; off < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("write " + tmp + ": " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::Internal("rename " + path + ": " + std::strerror(errno));
  return path;
}

}  // namespace ofn::container

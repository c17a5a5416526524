#include "container/oci_runtime.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"

namespace ofn::container {
namespace {

constexpr char kUnified[] = "/sys/fs/cgroup/unified";

struct ToolResult {
  runtime::ExitInfo exit;
  std::string output;
};

// Runs a runtime command to its end, capturing stdout+stderr. Outputs are
// small (state JSON, an error line): a pipe read after the exit could fill
// up, so the output goes to an unlinked temporary file instead.
Result<ToolResult> RunTool(const OciRuntime& rt, std::vector<std::string> args) {
  char tmpl[] = "/tmp/ofn-oci-XXXXXX";
  int fd = ::mkostemp(tmpl, O_CLOEXEC);
  if (fd < 0) return Status::Internal(std::string("mkstemp: ") + std::strerror(errno));
  ::unlink(tmpl);
  UniqueFd out(fd);
  runtime::SpawnRequest req;
  req.path = rt.path;
  req.argv = {rt.name};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  req.output_fd = out.get();
  req.private_unmounts = rt.private_unmounts;
  auto child = runtime::Spawn(req);
  if (!child.ok()) return child.status();
  auto exit = runtime::WaitPidfd(child->pidfd);
  ::close(child->pidfd);
  if (!exit.ok()) return exit.status();
  ToolResult r;
  r.exit = *exit;
  char buf[4096];
  ssize_t n;
  off_t off = 0;
  while ((n = ::pread(out.get(), buf, sizeof buf, off)) > 0) {
    r.output.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return r;
}

std::string FindOnPath(const std::string& name) {
  const char* p = std::getenv("PATH");
  std::string dirs = std::string(p != nullptr && *p ? p : "") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t c = dirs.find(':', pos);
    std::string dir = dirs.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    if (!dir.empty() && dir[0] == '/') {
      std::string cand = dir + "/" + name;
      if (::access(cand.c_str(), X_OK) == 0) return cand;
    }
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return "";
}

Result<OciRuntime> Probe(const std::string& name) {
  OciRuntime rt;
  rt.name = name;
  rt.path = FindOnPath(name);
  if (rt.path.empty()) return Status::NotFound(name + " is not installed (not on PATH)");
  if (name == "crun" && HybridCgroups()) rt.private_unmounts = {kUnified};
  auto v = RunTool(rt, {"--version"});
  if (!v.ok()) return v.status();
  if (!v->exit.exited || v->exit.code != 0) {
    return Status::Unavailable(rt.path + " --version failed: " + v->output);
  }
  return rt;
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return id[0] != '.' && id[0] != '-';
}

}  // namespace

bool HybridCgroups() {
  struct statfs root {}, unified {};
  return ::statfs("/sys/fs/cgroup", &root) == 0 && root.f_type == TMPFS_MAGIC &&
         ::statfs(kUnified, &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC;
}

Result<OciRuntime> DetectOciRuntime(const std::string& preferred) {
  static std::mutex mu;
  static std::map<std::string, Result<OciRuntime>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(preferred);
  if (it != cache.end()) return it->second;
  Result<OciRuntime> found = Status::NotFound("no OCI runtime");
  if (preferred == "crun" || preferred == "runc") {
    found = Probe(preferred);
  } else if (preferred.empty()) {
    found = Probe("crun");
    if (!found.ok()) {
      auto runc = Probe("runc");
      found = runc.ok() ? runc : Status::NotFound("no OCI runtime: " + found.status().message() + "; " +
                                                   runc.status().message());
    }
  } else {
    return Status::InvalidArgument("unknown OCI runtime \"" + preferred + "\" (crun or runc)");
  }
  cache.emplace(preferred, found);
  return found;
}

std::vector<std::string> RunArgv(const OciRuntime& rt, const RunOptions& o) {
  std::vector<std::string> argv = {rt.name, "run", "--bundle", o.bundle};
  if (o.listen_fd >= 0) {
    argv.push_back("--preserve-fds");
    argv.push_back("1");
  }
  argv.push_back(o.id);
  return argv;
}

Result<runtime::SpawnRequest> RunRequest(const OciRuntime& rt, const RunOptions& o) {
  if (!ValidId(o.id)) return Status::InvalidArgument("bad container id \"" + o.id + "\"");
  if (o.bundle.empty()) return Status::InvalidArgument("no bundle directory");
  runtime::SpawnRequest req;
  req.path = rt.path;
  req.argv = RunArgv(rt, o);
  req.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  req.output_fd = o.output_fd;
  req.listen_fd = o.listen_fd;
  req.private_unmounts = rt.private_unmounts;
  return req;
}

Status Delete(const OciRuntime& rt, const std::string& id) {
  if (!ValidId(id)) return Status::InvalidArgument("bad container id \"" + id + "\"");
  auto r = RunTool(rt, {"delete", "-f", id});
  if (!r.ok()) return r.status();
  if (r->exit.exited && r->exit.code == 0) return Status::Ok();
  if (r->output.find("does not exist") != std::string::npos || r->output.find("not exist") != std::string::npos) {
    return Status::Ok();
  }
  return Status::Internal(rt.name + " delete -f " + id + ": " + r->output);
}

Result<int> InitPid(const OciRuntime& rt, const std::string& id) {
  if (!ValidId(id)) return Status::InvalidArgument("bad container id \"" + id + "\"");
  auto r = RunTool(rt, {"state", id});
  if (!r.ok()) return r.status();
  if (!r->exit.exited || r->exit.code != 0) return Status::NotFound(rt.name + " state " + id + ": " + r->output);
  auto doc = nlohmann::json::parse(r->output, nullptr, false);
  if (doc.is_discarded() || !doc.contains("pid") || !doc["pid"].is_number_integer()) {
    return Status::Internal(rt.name + " state " + id + ": unexpected output: " + r->output);
  }
  return doc["pid"].get<int>();
}

Result<std::vector<std::string>> ListContainers(const OciRuntime& rt) {
  auto r = RunTool(rt, {"list", "--format", "json"});
  if (!r.ok()) return r.status();
  if (!r->exit.exited || r->exit.code != 0) return Status::Internal(rt.name + " list: " + r->output);
  auto doc = nlohmann::json::parse(r->output, nullptr, false);
  if (doc.is_null()) return std::vector<std::string>{};  // runc prints "null" when there are none
  if (!doc.is_array()) return Status::Internal(rt.name + " list: unexpected output: " + r->output);
  std::vector<std::string> ids;
  for (const auto& c : doc) {
    if (c.is_object() && c.contains("id") && c["id"].is_string()) ids.push_back(c["id"].get<std::string>());
  }
  return ids;
}

}  // namespace ofn::container

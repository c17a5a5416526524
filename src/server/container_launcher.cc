#include "server/container_launcher.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "common/log.h"
#include "container/oci_spec.h"

namespace ofn::server {
namespace {

namespace fs = std::filesystem;

// A port nothing listens on now, for a container that binds its own $PORT.
Result<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  if (port <= 0) return Status::Unavailable("no free port on 127.0.0.1");
  return port;
}

// A killed `crun run` leaves its container running (oci_runtime.h), so a
// server that was SIGKILLed leaves its instances behind: delete the
// containers of servers that are gone ("ofn-<server pid>-<n>"). Other
// servers' containers are theirs.
void DeleteOrphans(const container::OciRuntime& rt) {
  auto ids = container::ListContainers(rt);
  if (!ids.ok()) {
    log::Warn("cannot list containers", {{"error", ids.status().message()}});
    return;
  }
  for (const auto& id : *ids) {
    // Exactly "ofn-<digits>-<digits>": other tools' containers are not ours.
    size_t dash = id.find('-', 4);
    auto digits = [](std::string_view t) {
      return !t.empty() && t.size() < 10 && t.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (id.rfind("ofn-", 0) != 0 || dash == std::string::npos || !digits(std::string_view(id).substr(4, dash - 4)) ||
        !digits(std::string_view(id).substr(dash + 1))) {
      continue;
    }
    int pid = std::atoi(id.c_str() + 4);
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (pid > 0 && pid != ::getpid() && name == "ofn") continue;  // a live server's
    Status s = container::Delete(rt, id);
    log::Info("deleted the container of a server that is gone", {{"container", id}, {"ok", s.ok() ? "true" : s.message()}});
  }
}

}  // namespace

Result<std::unique_ptr<ContainerLauncher>> ContainerLauncher::Create(const std::string& data_dir,
                                                                     const std::string& preferred) {
  auto rt = container::DetectOciRuntime(preferred);
  if (!rt.ok()) return rt.status();
  DeleteOrphans(*rt);
  // Bundles are per server run: what an earlier run left is stale.
  std::error_code ec;
  fs::remove_all(data_dir + "/containers", ec);
  fs::create_directories(data_dir + "/containers", ec);
  if (ec) return Status::Internal("create " + data_dir + "/containers: " + ec.message());
  return std::unique_ptr<ContainerLauncher>(new ContainerLauncher(data_dir, std::move(*rt)));
}

Result<container::Rootfs> ContainerLauncher::Prepare(const build::OciLayout& layout, const std::string& image) {
  auto manifest = layout.Resolve(image);
  if (!manifest.ok()) return Status::NotFound("image " + image + " is not in Ofn's image store");
  return rootfs_.Unpack(layout, *manifest);
}

Status ContainerLauncher::Configure(const container::Rootfs& rootfs, const std::vector<std::string>& command,
                                    const std::vector<std::string>& args, Network network,
                                    runtime::InstanceSpec* spec) {
  const bool socket = spec->readiness.kind == runtime::Readiness::Kind::kInheritedSocket;
  if (network == Network::kIsolated && !socket) {
    return Status::InvalidArgument(
        "an isolated network needs readiness \"socket\" (ofn.io/readiness): nothing else reaches the container's port");
  }
  if (spec->port == 0) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    spec->port = *port;
  }
  const std::string id = "ofn-" + std::to_string(::getpid()) + "-" + std::to_string(++seq_);

  container::ContainerSpec cs;
  cs.rootfs = rootfs.path;
  cs.args = container::ImageArgs(rootfs.config.entrypoint, rootfs.config.cmd, command, args);
  if (cs.args.empty()) return Status::InvalidArgument("the image has no entrypoint or cmd, and the Function no command");
  // The image's env, then the Function's over it, then the port.
  std::vector<std::pair<std::string, std::string>> env;
  auto set = [&env](const std::string& k, const std::string& v) {
    for (auto& e : env) {
      if (e.first == k) {
        e.second = v;
        return;
      }
    }
    env.emplace_back(k, v);
  };
  for (const auto& kv : rootfs.config.env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const auto& [k, v] : spec->env) set(k, v);
  set("PORT", std::to_string(spec->port));
  for (const auto& [k, v] : env) cs.env.push_back(k + "=" + v);
  cs.listen_fd = socket;
  cs.cwd = spec->working_dir.empty() ? (rootfs.config.working_dir.empty() ? "/" : rootfs.config.working_dir)
                                     : spec->working_dir;
  cs.user = rootfs.config.user;
  std::string hostname = spec->name.substr(spec->name.find('/') + 1);
  cs.hostname = hostname.empty() ? "ofn" : hostname;
  if (network == Network::kHost) cs.netns_path = "/proc/" + std::to_string(::getpid()) + "/ns/net";
  cs.memory_bytes = spec->resources.memory_bytes;
  cs.cpu_millis = spec->resources.cpu_millis;
  const std::string bundle = data_dir_ + "/containers/" + id;
  auto written = container::WriteBundle(bundle, cs);
  if (!written.ok()) return written.status();

  spec->argv = container::RunArgv(runtime_, {.id = id, .bundle = bundle, .listen_fd = socket ? 3 : -1});
  spec->private_unmounts = runtime_.private_unmounts;
  spec->working_dir.clear();
  spec->resources = {};  // the OCI runtime applies them, in the container's cgroup
  spec->after_exit = [rt = runtime_, id] {
    Status s = container::Delete(rt, id);
    if (!s.ok()) log::Warn("container left behind", {{"container", id}, {"error", s.message()}});
  };
  return Status::Ok();
}

}  // namespace ofn::server

// ContainerLauncher: runs a function's image as instances in the process
// runtime, each an OCI container (`crun run` / `runc run`, oci_runtime.h)
// supervised like any process: same restarts, logs, readiness, stop.
//
// Prepare unpacks the image from the image store once per digest
// (rootfs_store.h, shared read-only by its containers). Configure turns an
// InstanceSpec made for a process (env, port, readiness, resources, log)
// into one that runs the container: it writes the bundle (oci_spec.h: the
// image's entrypoint/cmd, or the Function's command/args instead; its env
// under the Function's; the image's user and working dir; memory and CPU
// limits through the OCI runtime's cgroups, not the process runtime's) and
// sets the argv to the OCI runtime. After each end of the container process
// the container is deleted (a killed `crun run` leaves its container running).
//
// Network: Network::kIsolated gives the container its own network namespace
// with nothing but loopback; it serves on the listening socket the process
// runtime makes in the server's namespace and passes as fd 3 (readiness
// "socket"), so the gateway reaches it and nothing else does. kHost shares
// the server's network namespace: programs that bind $PORT themselves, and
// functions that call Dapr's API or the network.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "build/oci_layout.h"
#include "container/oci_runtime.h"
#include "container/rootfs_store.h"
#include "ofn/status.h"
#include "runtime/instance_spec.h"

namespace ofn::server {

enum class Network { kIsolated, kHost };

class ContainerLauncher {
 public:
  // `preferred`: "crun", "runc" or "" (crun where it runs). NotFound when no
  // OCI runtime is installed. Removes the bundles a previous run left.
  static Result<std::unique_ptr<ContainerLauncher>> Create(const std::string& data_dir, const std::string& preferred);

  const container::OciRuntime& oci_runtime() const { return runtime_; }

  // The unpacked image tagged `image` in `layout`; NotFound when not there.
  Result<container::Rootfs> Prepare(const build::OciLayout& layout, const std::string& image);

  // Rewrites `spec` to run `rootfs` as a container (see above). The
  // container's process: the Function's `command` and `args` over the
  // image's entrypoint and cmd, as Kubernetes does (oci_spec.h ImageArgs).
  // InvalidArgument for kIsolated without readiness "socket" (nothing could
  // reach the port).
  Status Configure(const container::Rootfs& rootfs, const std::vector<std::string>& command,
                   const std::vector<std::string>& args, Network network, runtime::InstanceSpec* spec);

 private:
  ContainerLauncher(std::string data_dir, container::OciRuntime runtime)
      : data_dir_(std::move(data_dir)), runtime_(std::move(runtime)), rootfs_(data_dir_ + "/rootfs") {}

  std::string data_dir_;
  container::OciRuntime runtime_;
  container::RootfsStore rootfs_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace ofn::server

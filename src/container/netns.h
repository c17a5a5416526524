// NetNs: a network namespace of its own for a container, with only `lo`
// (up), that the server can still reach without joining it.
//
// Create() makes it on a short-lived thread (a network namespace belongs to
// a thread, so the server's other threads never move): unshare(CLONE_NEWNET),
// `lo` up with ioctl(SIOCSIFFLAGS), and an fd of /proc/thread-self/ns/net
// kept. The namespace is also bind-mounted on a file under `runtime_dir`
// (as `ip netns add` does), so an OCI runtime can join it through the
// config.json namespace `path` (oci_spec.h); the destructor unmounts and
// removes that file, and the namespace ends with its last user.
//
// ListenIn / ConnectSocketIn make a socket INSIDE the namespace: the calling
// thread enters it (setns), calls socket(), and returns to its own
// namespace at once; a socket stays in the namespace it was made in, so the
// server listens or connects there while living in the host's namespace.
//
// Thread-safety: the methods may be called from any thread (each setns
// affects the calling thread only, and is undone before returning).
// Move-only.
#pragma once

#include <string>

#include "common/unique_fd.h"
#include "ofn/status.h"

namespace ofn::container {

class NetNs {
 public:
  static Result<NetNs> Create(const std::string& runtime_dir = "/run/ofn/netns");
  ~NetNs();
  NetNs(NetNs&& other) noexcept;
  NetNs& operator=(NetNs&&) = delete;
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  // The bind-mounted namespace file, for config.json's namespace `path`.
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

  // A TCP socket listening on 127.0.0.1:port inside the namespace (0: any
  // port; see the socket's name). O_CLOEXEC, blocking.
  Result<int> ListenIn(int port, int backlog = 1024) const;
  // A fresh, unconnected TCP socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC)
  // inside the namespace, to connect to a container's 127.0.0.1:PORT.
  Result<int> ConnectSocketIn() const;
  // ConnectSocketIn plus a blocking connect to 127.0.0.1:port.
  Result<int> ConnectIn(int port) const;

 private:
  NetNs(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Result<int> SocketIn(int domain, int type) const;

  UniqueFd fd_;
  std::string path_;
};

}  // namespace ofn::container

#include "container/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

namespace ofn::container {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// A name unique on this machine for the namespace file.
std::string UniqueName() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return "ofn-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(rd() % 100000);
}

}  // namespace

Result<NetNs> NetNs::Create(const std::string& runtime_dir) {
  Status status;
  int fd = -1;
  // The namespace is made by a thread that ends right after: the caller's
  // threads stay where they are.
  std::thread maker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      status = Status::PermissionDenied(Errno("unshare(CLONE_NEWNET)"));
      return;
    }
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
      status = Status::Internal(Errno("socket"));
      return;
    }
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
      status = Status::Internal(Errno("SIOCGIFFLAGS lo"));
    } else {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) status = Status::Internal(Errno("SIOCSIFFLAGS lo up"));
    }
    ::close(s);
    if (!status.ok()) return;
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) status = Status::Internal(Errno("open /proc/thread-self/ns/net"));
  });
  maker.join();
  if (!status.ok()) return status;
  UniqueFd ns(fd);

  std::error_code ec;
  std::filesystem::create_directories(runtime_dir, ec);
  if (ec) return Status::Internal("create " + runtime_dir + ": " + ec.message());
  std::string path = runtime_dir + "/" + UniqueName();
  int file = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (file < 0) return Status::Internal(Errno("create " + path));
  ::close(file);
  std::string source = "/proc/self/fd/" + std::to_string(ns.get());
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Status s = Status::PermissionDenied(Errno("bind-mount the namespace on " + path));
    ::unlink(path.c_str());
    return s;
  }
  return NetNs(std::move(ns), std::move(path));
}

NetNs::NetNs(NetNs&& other) noexcept : fd_(std::move(other.fd_)), path_(std::move(other.path_)) {
  other.path_.clear();
}

NetNs::~NetNs() {
  if (path_.empty()) return;
  ::umount2(path_.c_str(), MNT_DETACH);
  ::unlink(path_.c_str());
}

Result<int> NetNs::SocketIn(int domain, int type) const {
  int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return Status::Internal(Errno("open /proc/thread-self/ns/net"));
  UniqueFd home_fd(home);
  if (::setns(fd_.get(), CLONE_NEWNET) != 0) return Status::PermissionDenied(Errno("setns into the netns"));
  int s = ::socket(domain, type, 0);
  int err = errno;
  if (::setns(home, CLONE_NEWNET) != 0) {
    // Staying in the container's namespace would be worse than dying: this
    // thread's later sockets would all land there.
    std::abort();
  }
  if (s < 0) return Status::Internal(std::string("socket in the netns: ") + std::strerror(err));
  return s;
}

Result<int> NetNs::ListenIn(int port, int backlog) const {
  auto s = SocketIn(AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
  if (!s.ok()) return s;
  int one = 1;
  ::setsockopt(*s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Status st;
  if (::bind(*s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    st = Status::Unavailable(Errno("bind 127.0.0.1:" + std::to_string(port) + " in the netns"));
  } else if (::listen(*s, backlog) != 0) {
    st = Status::Internal(Errno("listen"));
  }
  if (!st.ok()) {
    ::close(*s);
    return st;
  }
  return s;
}

Result<int> NetNs::ConnectSocketIn() const { return SocketIn(AF_INET, SOCK_STREAM | SOCK_CLOEXEC); }

Result<int> NetNs::ConnectIn(int port) const {
  auto s = ConnectSocketIn();
  if (!s.ok()) return s;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (::connect(*s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EINTR) continue;
    Status st = Status::Unavailable(Errno("connect 127.0.0.1:" + std::to_string(port) + " in the netns"));
    ::close(*s);
    return st;
  }
  return s;
}

}  // namespace ofn::container

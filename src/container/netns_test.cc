#include "container/netns.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/process.h"

namespace ofn::container {
namespace {

using ofn::testing::TempDir;

int PortOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

TEST(NetNsTest, SocketsMadeInsideAreReachableOnlyInside) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root here";
  TempDir dir;
  std::string path;
  {
    auto ns = NetNs::Create(dir.Sub("netns"));
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    path = ns->path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    auto listener = ns->ListenIn(0);
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    int port = PortOf(*listener);
    ASSERT_GT(port, 0);
    // lo is up inside: a connect there reaches the listener.
    auto conn = ns->ConnectIn(port);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    int accepted = ::accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(accepted, 0);
    ::close(accepted);
    ::close(*conn);
    // The host's loopback does not (nothing of ours listens on that port here).
    EXPECT_FALSE(ofn::testing::WaitForPort(port, ofn::testing::After(std::chrono::milliseconds(0))));
    // The calling thread is back in the host's namespace.
    char self[64] = {}, init[64] = {};
    ASSERT_GT(::readlink("/proc/thread-self/ns/net", self, sizeof self - 1), 0);
    ASSERT_GT(::readlink("/proc/self/ns/net", init, sizeof init - 1), 0);
    EXPECT_STREQ(self, init);
    ::close(*listener);
  }
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "the namespace file outlived its NetNs";
}

}  // namespace
}  // namespace ofn::container

// The dockerfile strategy end to end with the real buildah (run as root, as
// CI does), skopeo and umoci.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "build/builder.h"
#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::ProcessWith;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class DockerfileStrategyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"buildah", "skopeo", "umoci"}) {
      std::string missing = NeedTool(tool);
      ASSERT_TRUE(missing.empty()) << missing;
    }
    ASSERT_EQ(::geteuid(), 0u) << "buildah builds as root here (CI runs the tests as root)";
  }

  void WriteContext(const std::string& dockerfile) {
    fs::create_directories(dir_.Sub("ctx"));
    ASSERT_TRUE(WriteFile(dir_.Sub("ctx/Dockerfile"), dockerfile).ok());
    ASSERT_TRUE(WriteFile(dir_.Sub("ctx/greeting.txt"), "Hello from a Dockerfile\n").ok());
  }
  BuildRequest Request(OciLayout* layout) {
    BuildRequest r;
    r.source.url = dir_.Sub("ctx");
    r.layout = layout;
    r.image = "img";
    r.work_root = dir_.Sub("work");
    r.log_path = dir_.Sub("build.log");
    return r;
  }
  std::string Log() const { return ReadFile(dir_.Sub("build.log")).value_or(""); }
  OciLayout Layout() {
    auto l = OciLayout::Open(dir_.Sub("oci"));
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return std::move(*l);
  }

  TempDir dir_{"ofn-dockerfile"};
};

constexpr char kDockerfile[] = R"(FROM scratch
ARG FUNC_NAME=unset
COPY greeting.txt /srv/greeting.txt
ENV GREETING=hello
LABEL function=$FUNC_NAME
EXPOSE 8080
ENTRYPOINT ["/srv/server", "--port", "8080"]
)";

TEST_F(DockerfileStrategyTest, FromScratchImageLandsInOurLayout) {
  WriteContext(kDockerfile);
  OciLayout layout = Layout();
  BuildRequest req = Request(&layout);
  req.env = {{"FUNC_NAME", "greeter"}};
  auto r = Build(req, CancelToken());
  ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << Log();
  EXPECT_EQ(r->strategy, "dockerfile");
  EXPECT_NE(Log().find("[build] strategy dockerfile (Dockerfile)"), std::string::npos) << Log();
  EXPECT_NE(Log().find("[build] building the Dockerfile (buildah)"), std::string::npos) << Log();
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work"))) << "buildah's storage and the work dir are removed";

  const std::string ref = "oci:" + dir_.Sub("oci") + ":img";
  auto inspect = RunTool({"skopeo", "inspect", "--config", ref});
  ASSERT_TRUE(inspect.ok()) << inspect.Describe();
  const json config = json::parse(inspect.out, nullptr, false);
  ASSERT_TRUE(config.is_object()) << inspect.out;
  const json& c = config["config"];
  EXPECT_EQ(c["Entrypoint"], json::array({"/srv/server", "--port", "8080"}));
  EXPECT_NE(std::find(c["Env"].begin(), c["Env"].end(), "GREETING=hello"), c["Env"].end()) << c["Env"].dump();
  EXPECT_EQ(c["ExposedPorts"], json::parse(R"({"8080/tcp":{}})"));
  EXPECT_EQ(c["Labels"]["function"], "greeter") << "spec.build.env are build args";
  EXPECT_EQ(config["created"], "1970-01-01T00:00:00Z");

  auto unpack = RunTool({"umoci", "unpack", "--image", dir_.Sub("oci") + ":img", dir_.Sub("bundle")}, 60s);
  ASSERT_TRUE(unpack.ok()) << unpack.Describe();
  EXPECT_EQ(ReadFile(dir_.Sub("bundle/rootfs/srv/greeting.txt")).value_or(""), "Hello from a Dockerfile\n");

  // Unchanged: from the cache, without buildah.
  auto again = Build(req, CancelToken());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->manifest.digest, r->manifest.digest);
}

TEST_F(DockerfileStrategyTest, SyntaxErrorShowsBuildahsMessage) {
  WriteContext("FROM scratch\nCOPPY greeting.txt /\n");
  OciLayout layout = Layout();
  auto r = Build(Request(&layout), CancelToken());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind("buildah bud failed (exit ", 0), 0u) << m;
  EXPECT_NE(m.find("Unknown instruction: \"COPPY\""), std::string::npos) << m;
  EXPECT_NE(Log().find("Unknown instruction: \"COPPY\""), std::string::npos) << Log();
  EXPECT_NE(Log().find("[build] failed: buildah bud failed"), std::string::npos) << Log();
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

// A local HTTP server that accepts connections and never answers: buildah's
// ADD of a URL from it waits until the build is cancelled.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~SilentServer() {
    if (client_ >= 0) ::close(client_);
    ::close(fd_);
  }
  int port() const { return port_; }
  // True once a client connected, within `timeout`.
  bool WaitForClient(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    client_ = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    return client_ >= 0;
  }

 private:
  int fd_ = -1;
  int client_ = -1;
  int port_ = 0;
};

TEST_F(DockerfileStrategyTest, CancelKillsBuildah) {
  SilentServer server;
  ASSERT_NE(server.port(), 0);
  WriteContext("FROM scratch\nADD http://127.0.0.1:" + std::to_string(server.port()) + "/big.tar /big.tar\n");
  OciLayout layout = Layout();
  CancelToken cancel;
  bool downloading = false;
  Clock::time_point cancelled_at{};
  std::thread canceller([&] {
    downloading = server.WaitForClient(60s);
    cancelled_at = Clock::now();
    cancel.Cancel();
  });
  auto r = Build(Request(&layout), cancel);
  const auto ended = Clock::now();
  canceller.join();
  EXPECT_TRUE(downloading) << "buildah never fetched the ADD URL\n" << Log();
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_LT(ended - cancelled_at, 2s);
  for (int i = 0; i < 100 && ProcessWith({"buildah", dir_.Sub("work")}); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessWith({"buildah", dir_.Sub("work")})) << "buildah still runs after the cancel";
  EXPECT_TRUE(fs::is_empty(dir_.Sub("work")));
}

}  // namespace
}  // namespace ofn::build

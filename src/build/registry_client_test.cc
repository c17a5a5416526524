// Registry client tests: against a real docker-registry (Debian's
// docker-registry, started per test on 127.0.0.1), checked with skopeo; the
// bearer-token flow against a FAKE registry (no Debian package provides the
// signed-JWT token server docker-registry's token auth needs); corruption and
// broken uploads through a test-only TCP proxy in front of the real registry.
#include "build/registry_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "build/image.h"
#include "build/layer.h"
#include "build/testing_tools.h"
#include "support/brokers.h"
#include "common/encoding.h"
#include "net/http_client.h"
#include "support/brokers.h"
#include "support/process.h"
#include "support/scripted_http_server.h"

namespace ofn::build {
namespace {

using nlohmann::json;
using ofn::build::testing::NeedTool;
using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::ScriptedHttpServer;
using ofn::testing::TempDir;

constexpr char kPassword[] = "s3cret-Pa55";

// ---------------------------------------------------------------------------
// References and challenges

TEST(ReferenceTest, ParsesHostPortRepoTagAndDigest) {
  auto r = ParseReference("127.0.0.1:5000/team/app:v1.2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->registry, "127.0.0.1:5000");
  EXPECT_EQ(r->repository, "team/app");
  EXPECT_EQ(r->tag, "v1.2");
  EXPECT_FALSE(r->digest);
  EXPECT_EQ(r->ToString(), "127.0.0.1:5000/team/app:v1.2");

  const std::string d = "sha256:" + std::string(64, 'a');
  auto byd = ParseReference("registry.example.com/a.b__c--d/e_f@" + d);
  ASSERT_TRUE(byd.ok()) << byd.status().ToString();
  EXPECT_EQ(byd->registry, "registry.example.com");
  EXPECT_EQ(byd->repository, "a.b__c--d/e_f");
  EXPECT_EQ(byd->tag, "");
  EXPECT_EQ(byd->ManifestRef(), d);

  auto latest = ParseReference("localhost:80/app");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->tag, "latest");
  auto v6 = ParseReference("[::1]:5000/app:x");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->registry, "[::1]:5000");
}

TEST(ReferenceTest, RejectsBadPartsNamingThem) {
  struct Case {
    const char* text;
    const char* names;
  } cases[] = {
      {"", "empty"},
      {"app:v1", "registry host is required"},
      {"-bad-.com/app", "registry host \"-bad-.com\""},
      {"host:99999/app", "registry host \"host:99999\""},
      {"host:5000/App", "repository component \"App\""},
      {"host:5000/a/../b", "repository component \"..\""},
      {"host:5000/a//b", "repository component \"\""},
      {"host:5000/a_-b", "repository component \"a_-b\""},
      {"host:5000/a___b", "repository component \"a___b\""},
      {"host:5000/app:", "tag \"\""},
      {"host:5000/app:.v1", "tag \".v1\""},
      {"host:5000/app:v1@sha256:abc", "digest \"sha256:abc\""},
      {"host:5000/app@sha256:" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "digest"},
      {"host:5000/", "no repository"},
  };
  for (const auto& c : cases) {
    auto r = ParseReference(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.status().message().find(c.names), std::string::npos) << c.text << " -> " << r.status().message();
  }
  EXPECT_FALSE(ParseReference("host/" + std::string(251, 'a')).ok());  // 256 characters in all
  EXPECT_TRUE(ParseReference("host/" + std::string(250, 'a')).ok());
}

TEST(ChallengeTest, ParsesBearerAndBasic) {
  auto c = ParseChallenges(
      R"(Bearer realm="http://auth.local/token",service="registry.local",scope="repository:a/b:pull,push")");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "bearer");
  EXPECT_EQ((*c)[0].params.at("realm"), "http://auth.local/token");
  EXPECT_EQ((*c)[0].params.at("scope"), "repository:a/b:pull,push");

  auto two = ParseChallenges(R"(Basic realm="a \"quoted\" realm", Bearer realm=tok, error=invalid_token)");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].params.at("realm"), "a \"quoted\" realm");
  EXPECT_EQ((*two)[1].scheme, "bearer");
  EXPECT_EQ((*two)[1].params.at("error"), "invalid_token");

  EXPECT_FALSE(ParseChallenges("").ok());
  EXPECT_FALSE(ParseChallenges(R"(Bearer realm="unterminated)").ok());
  EXPECT_FALSE(ParseChallenges(R"(Bearer realm="x" service="y")").ok());
}

// ---------------------------------------------------------------------------
// A real docker-registry

class Registry {
 public:
  // htpasswd_user empty: no auth.
  explicit Registry(const std::string& htpasswd_user = "") {
    auto b = ofn::testing::StartRegistry(dir_.path(), htpasswd_user, htpasswd_user.empty() ? "" : kPassword);
    if (b.ok()) {
      broker_ = std::move(*b);
    } else {
      error_ = b.status().ToString();
    }
  }

  // "" when running, else why not.
  const std::string& error() const { return error_; }
  int port() const { return broker_.port; }
  std::string host() const { return broker_.address; }
  std::string log() const { return broker_.process ? broker_.process->Output() : ""; }

 private:
  TempDir dir_{"ofn-registry"};
  ofn::testing::Broker broker_;
  std::string error_;
};

// ---------------------------------------------------------------------------
// A test-only TCP proxy between the client and the real registry, to damage
// traffic once. It follows HTTP/1.1 request framing (Content-Length bodies,
// which is all HttpClient sends) to find the first blob upload body (PUT or
// PATCH under /blobs/uploads/) and the response to the first blob GET.
// Damage counts as done when the request is seen (tampered() then counts it).

class TamperingProxy {
 public:
  enum class Mode {
    kCorruptUpload,    // flip the first byte of a blob upload body
    kCutUpload,        // forward half of such a body, then close both sides
    kCorruptDownload,  // flip the first body byte of a blob GET's response
  };

  // `times`: how many requests or responses to damage (each once).
  TamperingProxy(int target_port, Mode mode, int times = 1) : target_port_(target_port), mode_(mode), left_(times) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "proxy: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TamperingProxy() {
    stop_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : conns_) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int tampered() const { return tampered_.load(); }

 private:
  struct Conn {
    // client -> registry request framing
    std::string head;
    int64_t body_left = 0;
    int64_t body_pos = 0;
    bool tamper_body = false;
    // registry -> client: flip the first byte after the next response head
    bool corrupt_response = false;
    std::string response_tail;  // last bytes seen, to find "\r\n\r\n"
    bool past_head = false;
  };

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.emplace_back([this, client] { Serve(client); });
    }
  }

  static bool WriteAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Returns false to cut the connection after forwarding `out`.
  bool FromClient(Conn& c, const char* data, size_t n, std::string* out) {
    for (size_t i = 0; i < n;) {
      if (c.body_left > 0) {
        size_t take = static_cast<size_t>(std::min<int64_t>(c.body_left, static_cast<int64_t>(n - i)));
        std::string part(data + i, take);
        if (c.tamper_body) {
          if (mode_ == Mode::kCorruptUpload && c.body_pos == 0) {
            part[0] = static_cast<char>(part[0] ^ 0xFF);
            c.tamper_body = false;
          } else if (mode_ == Mode::kCutUpload) {
            const int64_t half = (c.body_pos + c.body_left) / 2;
            if (c.body_pos + static_cast<int64_t>(take) >= half) {
              out->append(part, 0, static_cast<size_t>(half - c.body_pos));
              return false;
            }
          }
        }
        out->append(part);
        c.body_left -= static_cast<int64_t>(take);
        c.body_pos += static_cast<int64_t>(take);
        i += take;
        continue;
      }
      c.head.push_back(data[i++]);
      if (c.head.size() < 4 || c.head.compare(c.head.size() - 4, 4, "\r\n\r\n") != 0) continue;
      out->append(c.head);
      const std::string method = c.head.substr(0, c.head.find(' '));
      const size_t t0 = c.head.find(' ') + 1;
      const std::string target = c.head.substr(t0, c.head.find(' ', t0) - t0);
      std::string lower = enc::ToLower(c.head);
      int64_t length = 0;
      if (size_t cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
        length = std::stoll(lower.substr(cl + 17));
      }
      c.head.clear();
      c.body_left = length;
      c.body_pos = 0;
      c.tamper_body = false;
      const bool upload = (method == "PUT" || method == "PATCH") &&
                          target.find("/blobs/uploads/") != std::string::npos && length > 1;
      if (upload && mode_ != Mode::kCorruptDownload && left_.fetch_sub(1) > 0) {
        c.tamper_body = true;
        ++tampered_;
      }
      if (method == "GET" && target.find("/blobs/sha256:") != std::string::npos &&
          mode_ == Mode::kCorruptDownload && left_.fetch_sub(1) > 0) {
        c.corrupt_response = true;
        c.past_head = false;
        c.response_tail.clear();
      }
    }
    return true;
  }

  void FromRegistry(Conn& c, std::string& data) {
    if (!c.corrupt_response) return;
    for (size_t i = 0; i < data.size(); ++i) {
      if (c.past_head) {
        data[i] = static_cast<char>(data[i] ^ 0xFF);
        c.corrupt_response = false;
        ++tampered_;
        return;
      }
      c.response_tail.push_back(data[i]);
      if (c.response_tail.size() > 4) c.response_tail.erase(0, 1);
      if (c.response_tail == "\r\n\r\n") c.past_head = true;
    }
  }

  void Serve(int client) {
    int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(upstream);
      ::close(client);
      return;
    }
    Conn c;
    char buf[64 * 1024];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents != 0) {
        ssize_t n = ::recv(client, buf, sizeof(buf), 0);
        if (n <= 0) break;
        std::string out;
        bool keep = FromClient(c, buf, static_cast<size_t>(n), &out);
        if (!WriteAll(upstream, out) || !keep) break;
      }
      if (p[1].revents != 0) {
        ssize_t n = ::recv(upstream, buf, sizeof(buf), 0);
        if (n <= 0) break;
        std::string data(buf, static_cast<size_t>(n));
        FromRegistry(c, data);
        if (!WriteAll(client, data)) break;
      }
    }
    ::close(upstream);
    ::close(client);
  }

  const int target_port_;
  const Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> left_;
  std::atomic<int> tampered_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::thread> conns_;  // GUARDED_BY(mu_)
};

// ---------------------------------------------------------------------------
// Fixture: an image with two layers, written by the image writer.

// Bytes gzip cannot shrink, so the data layer stays ~`size` bytes (for chunking).
std::string Noise(size_t size) {
  std::string s(size, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xFF);
  }
  return s;
}

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"docker-registry", "skopeo", "htpasswd"}) {
      std::string need = NeedTool(tool);
      ASSERT_TRUE(need.empty()) << need;
    }
    auto layout = OciLayout::Open(dir_.Sub("src"));
    ASSERT_TRUE(layout.ok()) << layout.status().ToString();
    LayerSpec app;
    app.entries.push_back(LayerEntry::File("/app/hello", "#!/bin/sh\necho hello from ofn\n", 0755));
    app.created_by = "ofn build: app";
    auto l1 = WriteLayer(*layout, app);
    ASSERT_TRUE(l1.ok()) << l1.status().ToString();
    LayerSpec data;
    data.entries.push_back(LayerEntry::File("/app/data.bin", Noise(200 * 1024)));
    data.created_by = "ofn build: data";
    auto l2 = WriteLayer(*layout, data);
    ASSERT_TRUE(l2.ok()) << l2.status().ToString();
    layers_ = {*l1, *l2};
    ImageConfig config;
    config.entrypoint = {"/app/hello"};
    auto image = WriteImage(*layout, layers_, config, "hello");
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    manifest_ = image->digest.str();
    layout_ = std::make_unique<OciLayout>(std::move(layout).value());
  }

  Reference Ref(const std::string& text) {
    auto r = ParseReference(text);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Reference{};
  }

  template <typename Options>
  Options WithLog(Options o) {
    o.log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.emplace_back(line);
    };
    o.retry_backoff = std::chrono::milliseconds(10);
    return o;
  }

  // skopeo's view of the manifest digest.
  std::string SkopeoDigest(const std::string& ref, const std::string& creds = "") {
    std::vector<std::string> argv = {"skopeo", "inspect", "--tls-verify=false"};
    if (!creds.empty()) argv.push_back("--creds=" + creds);
    argv.push_back("docker://" + ref);
    auto run = RunTool(argv);
    EXPECT_TRUE(run.ok()) << run.Describe();
    auto j = json::parse(run.out, nullptr, false);
    return j.is_object() && j.contains("Digest") ? j["Digest"].get<std::string>() : "";
  }

  void ExpectNoSecretsLogged() {
    std::lock_guard<std::mutex> lock(log_mu_);
    EXPECT_FALSE(log_.empty());
    for (const auto& l : log_) {
      EXPECT_EQ(l.find(kPassword), std::string::npos) << l;
      EXPECT_EQ(l.find("Basic "), std::string::npos) << l;
      EXPECT_EQ(l.find("Bearer "), std::string::npos) << l;
    }
  }

  // Every blob of the manifest `digest` is in `layout`.
  void ExpectComplete(const OciLayout& layout, const std::string& digest) {
    auto d = Digest::Parse(digest);
    ASSERT_TRUE(d.ok());
    auto m = layout.ReadBlob(*d);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto j = json::parse(*m);
    EXPECT_TRUE(layout.ReadBlob(*Digest::Parse(j["config"]["digest"].get<std::string>())).ok());
    ASSERT_EQ(j["layers"].size(), 2u);
    for (const auto& l : j["layers"]) {
      auto blob = layout.ReadBlob(*Digest::Parse(l["digest"].get<std::string>()));
      ASSERT_TRUE(blob.ok()) << blob.status().ToString();
      EXPECT_EQ(static_cast<int64_t>(blob->size()), l["size"].get<int64_t>());
    }
  }

  TempDir dir_{"ofn-registry-client"};
  std::unique_ptr<OciLayout> layout_;
  std::vector<Layer> layers_;
  std::string manifest_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(RegistryClientTest, PushIsWhatSkopeoSeesAndPullsBack) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  const std::string ref = registry.host() + "/ofn/hello:v1";

  auto pushed = Push(*layout_, "hello", Ref(ref), {}, WithLog(PushOptions{}));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString() << "\n" << registry.log();
  EXPECT_EQ(pushed->manifest_digest.str(), manifest_);
  EXPECT_EQ(pushed->blobs_uploaded, 3);  // two layers and the config
  EXPECT_EQ(pushed->blobs_skipped, 0);
  EXPECT_EQ(pushed->chunked_uploads, 0);
  EXPECT_EQ(pushed->upload_retries, 0);

  EXPECT_EQ(SkopeoDigest(ref), manifest_);
  auto copy = RunTool({"skopeo", "copy", "--src-tls-verify=false", "docker://" + ref, "oci:" + dir_.Sub("copy") + ":v1"});
  ASSERT_TRUE(copy.ok()) << copy.Describe();
  auto index = json::parse(ReadFile(dir_.Sub("copy/index.json")).value_or("{}"));
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["digest"], manifest_);

  // Ofn pulls it back into a fresh layout.
  auto fresh = OciLayout::Open(dir_.Sub("pulled"));
  ASSERT_TRUE(fresh.ok());
  auto pulled = Pull(Ref(ref), *fresh, "back", {}, WithLog(PullOptions{}));
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(pulled->manifest.digest.str(), manifest_);
  EXPECT_EQ(pulled->blobs_fetched, 3);
  EXPECT_EQ(pulled->refetches, 0);
  EXPECT_EQ(fresh->Resolve("back")->digest.str(), manifest_);
  ExpectComplete(*fresh, manifest_);
  // Pulling again finds every blob present; pulling by digest works too.
  auto again = Pull(Ref(registry.host() + "/ofn/hello@" + manifest_), *fresh, "by-digest", {}, PullOptions{});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->blobs_present, 3);
  EXPECT_EQ(again->blobs_fetched, 0);

  // A second push skips every blob.
  auto second = Push(*layout_, "hello", Ref(ref), {}, PushOptions{});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->blobs_skipped, 3);
  EXPECT_EQ(second->blobs_uploaded, 0);
  EXPECT_EQ(second->manifest_digest.str(), manifest_);

  // Another repository on the same registry mounts them.
  PushOptions mount;
  mount.mount_from = "ofn/hello";
  const std::string other = registry.host() + "/other/app:v1";
  auto mounted = Push(*layout_, "hello", Ref(other), {}, WithLog(mount));
  ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
  EXPECT_EQ(mounted->blobs_mounted, 3);
  EXPECT_EQ(mounted->blobs_uploaded, 0);
  EXPECT_EQ(SkopeoDigest(other), manifest_);
  ExpectNoSecretsLogged();
}

TEST_F(RegistryClientTest, ChunkedUploadWithATinyThreshold) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  const std::string ref = registry.host() + "/ofn/chunked:v1";
  PushOptions o;
  o.chunked_threshold = 4096;  // only the data layer is larger
  o.chunk_size = 64 * 1024;     // the ~200 KiB data layer goes in 4 PATCHes
  auto pushed = Push(*layout_, "hello", Ref(ref), {}, WithLog(o));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString() << "\n" << registry.log();
  EXPECT_EQ(pushed->chunked_uploads, 1);
  EXPECT_EQ(pushed->blobs_uploaded, 3);
  EXPECT_EQ(SkopeoDigest(ref), manifest_);

  PullOptions p;
  p.range_size = 50 * 1024;  // ranged GETs: 5 for the data layer
  auto fresh = OciLayout::Open(dir_.Sub("pulled"));
  ASSERT_TRUE(fresh.ok());
  auto pulled = Pull(Ref(ref), *fresh, "v1", {}, p);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  ExpectComplete(*fresh, manifest_);
}

TEST_F(RegistryClientTest, HtpasswdAuth) {
  Registry registry("alice");
  ASSERT_EQ(registry.error(), "");
  const std::string ref = registry.host() + "/ofn/private:v1";

  auto ok = Push(*layout_, "hello", Ref(ref), {"alice", kPassword}, WithLog(PushOptions{}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->blobs_uploaded, 3);
  EXPECT_EQ(SkopeoDigest(ref, std::string("alice:") + kPassword), manifest_);

  auto wrong = Push(*layout_, "hello", Ref(ref), {"alice", "not-the-" + std::string(kPassword)}, WithLog(PushOptions{}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  const std::string& msg = wrong.status().message();
  EXPECT_EQ(msg.rfind("registry " + registry.host() + ": authentication failed for user alice (401 UNAUTHORIZED", 0), 0u)
      << msg;
  EXPECT_NE(msg.find("repository ofn/private"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(kPassword), std::string::npos) << msg;
  std::cout << "[ INFO     ] wrong password: " << msg << "\n";

  auto none = Pull(Ref(ref), *layout_, "x", {}, WithLog(PullOptions{}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("authentication required and no credentials were given"), std::string::npos)
      << none.status().message();
  ExpectNoSecretsLogged();
}

TEST_F(RegistryClientTest, CorruptedUploadIsRejectedAndRetried) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  TamperingProxy proxy(registry.port(), TamperingProxy::Mode::kCorruptUpload);
  auto pushed = Push(*layout_, "hello", Ref(proxy.host() + "/ofn/hello:v1"), {}, WithLog(PushOptions{}));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(proxy.tampered(), 1);
  EXPECT_EQ(pushed->upload_retries, 1);
  EXPECT_EQ(pushed->blobs_uploaded, 3);
  EXPECT_EQ(SkopeoDigest(registry.host() + "/ofn/hello:v1"), manifest_);
  bool logged = false;
  for (const auto& l : log_) logged = logged || l.find("DIGEST_INVALID") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(RegistryClientTest, ChunkedUploadCutMidwayIsRetried) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  // Twice: HttpClient itself resends once on a fresh connection when a reused
  // one breaks before any response; the second cut reaches the client's retry.
  TamperingProxy proxy(registry.port(), TamperingProxy::Mode::kCutUpload, 2);
  PushOptions o;
  o.chunked_threshold = 100;  // every blob in chunks: the cut lands in a PATCH
  o.chunk_size = 64 * 1024;
  auto pushed = Push(*layout_, "hello", Ref(proxy.host() + "/ofn/cut:v1"), {}, WithLog(o));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString() << "\n" << registry.log();
  EXPECT_EQ(proxy.tampered(), 2);
  EXPECT_GE(pushed->upload_retries, 1);
  EXPECT_EQ(pushed->chunked_uploads, 3);
  EXPECT_EQ(SkopeoDigest(registry.host() + "/ofn/cut:v1"), manifest_);
}

TEST_F(RegistryClientTest, CorruptedDownloadIsRefetched) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  const std::string path = "/ofn/hello:v1";
  ASSERT_TRUE(Push(*layout_, "hello", Ref(registry.host() + path), {}, PushOptions{}).ok());
  TamperingProxy proxy(registry.port(), TamperingProxy::Mode::kCorruptDownload);
  auto fresh = OciLayout::Open(dir_.Sub("pulled"));
  ASSERT_TRUE(fresh.ok());
  auto pulled = Pull(Ref(proxy.host() + path), *fresh, "v1", {}, WithLog(PullOptions{}));
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(proxy.tampered(), 1);
  EXPECT_EQ(pulled->refetches, 1);
  EXPECT_EQ(pulled->manifest.digest.str(), manifest_);
  ExpectComplete(*fresh, manifest_);
  // No temp file left behind.
  for (const auto& e : std::filesystem::directory_iterator(fresh->dir())) {
    EXPECT_TRUE(e.path().filename() == "blobs" || e.path().filename() == "index.json" ||
                e.path().filename() == "oci-layout")
        << e.path();
  }
}

TEST_F(RegistryClientTest, PersistentCorruptionGivesUpWithAClearError) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  TamperingProxy up(registry.port(), TamperingProxy::Mode::kCorruptUpload, 100);
  auto pushed = Push(*layout_, "hello", Ref(up.host() + "/ofn/bad:v1"), {}, WithLog(PushOptions{}));
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(up.tampered(), 3);  // max_attempts
  const std::string& m = pushed.status().message();
  EXPECT_EQ(m.rfind("registry " + up.host() + ": repository ofn/bad: uploading blob sha256:", 0), 0u) << m;
  EXPECT_NE(m.find("400 DIGEST_INVALID"), std::string::npos) << m;
  EXPECT_NE(m.find("gave up after 3 attempts"), std::string::npos) << m;

  ASSERT_TRUE(Push(*layout_, "hello", Ref(registry.host() + "/ofn/good:v1"), {}, PushOptions{}).ok());
  TamperingProxy down(registry.port(), TamperingProxy::Mode::kCorruptDownload, 100);
  auto fresh = OciLayout::Open(dir_.Sub("pulled"));
  ASSERT_TRUE(fresh.ok());
  auto pulled = Pull(Ref(down.host() + "/ofn/good:v1"), *fresh, "v1", {}, WithLog(PullOptions{}));
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(down.tampered(), 3);
  const std::string& pm = pulled.status().message();
  EXPECT_NE(pm.find("repository ofn/good: downloading blob sha256:"), std::string::npos) << pm;
  EXPECT_NE(pm.find("gave up after 3 attempts"), std::string::npos) << pm;
  EXPECT_FALSE(fresh->Resolve("v1").ok());
}

TEST_F(RegistryClientTest, ErrorsNameRegistryRepositoryAndStep) {
  Registry registry;
  ASSERT_EQ(registry.error(), "");
  auto fresh = OciLayout::Open(dir_.Sub("pulled"));
  ASSERT_TRUE(fresh.ok());
  auto missing = Pull(Ref(registry.host() + "/ofn/nothing:v9"), *fresh, "x", {}, PullOptions{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind("registry " + registry.host() +
                                             ": repository ofn/nothing: fetching manifest v9: 404 MANIFEST_UNKNOWN",
                                             0),
            0u)
      << missing.status().message();

  auto no_tag = Push(*layout_, "nope", Ref(registry.host() + "/ofn/x:v1"), {}, PushOptions{});
  ASSERT_FALSE(no_tag.ok());
  EXPECT_NE(no_tag.status().message().find("local image \"nope\""), std::string::npos);

  // Nothing listens here: a transport error, still naming the step.
  auto refused = Push(*layout_, "hello", Ref("127.0.0.1:" + std::to_string(ofn::testing::FreePort()) + "/ofn/x:v1"), {},
                      PushOptions{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("repository ofn/x: checking blob sha256:"), std::string::npos)
      << refused.status().message();
}

// ---------------------------------------------------------------------------
// Bearer tokens: a FAKE registry and token service on ScriptedHttpServer
// (docker-registry's token auth needs a JWT-signing token server that no
// Debian package provides).

class FakeBearerRegistry {
 public:
  // deny: a valid token still gets 401 insufficient_scope (the user lacks access).
  explicit FakeBearerRegistry(std::string token_field = "token", bool deny = false)
      : token_field_(std::move(token_field)), deny_(deny) {
    config_ = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    layer_ = "fake layer bytes";
    json m = {{"schemaVersion", 2},
              {"mediaType", kMediaTypeManifest},
              {"config", {{"mediaType", kMediaTypeConfig}, {"digest", Digest::Of(config_).str()},
                          {"size", config_.size()}}},
              {"layers", json::array({{{"mediaType", kMediaTypeLayerGzip}, {"digest", Digest::Of(layer_).str()},
                                       {"size", layer_.size()}}})}};
    manifest_ = m.dump();
    // A Docker manifest list: another platform first, then this one.
    json list = {{"schemaVersion", 2},
                 {"mediaType", kMediaTypeDockerManifestList},
                 {"manifests", json::array({{{"mediaType", kMediaTypeManifest},
                                             {"digest", Digest::Of("other").str()},
                                             {"size", 5},
                                             {"platform", {{"architecture", "s390x-other"}, {"os", "linux"}}}},
                                            {{"mediaType", kMediaTypeManifest},
                                             {"digest", manifest_digest()},
                                             {"size", manifest_.size()},
                                             {"platform", {{"architecture", HostArchitecture()}, {"os", "linux"}}}}})}};
    list_ = list.dump();
    server_ = std::make_unique<ScriptedHttpServer>(
        [this](const ScriptedHttpServer::Request& r, size_t) { return Handle(r); });
    port_ = server_->port();
  }

  ScriptedHttpServer& server() { return *server_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_.load()); }
  std::string manifest_digest() const { return Digest::Of(manifest_).str(); }

 private:
  ScriptedHttpServer::Reply Handle(const ScriptedHttpServer::Request& r) {
    if (r.target.rfind("/token?", 0) == 0) {
      if (r.header("Authorization") != "Basic " + enc::Base64Encode(std::string("alice:") + kPassword)) {
        return {ScriptedHttpServer::Response(401, "Unauthorized", R"({"details":"bad credentials"})")};
      }
      return {ScriptedHttpServer::Response(200, "OK", json{{token_field_, "tok-123"}}.dump(),
                                           "Content-Type: application/json\r\n")};
    }
    if (deny_ && r.header("Authorization") == "Bearer tok-123") {
      return {ScriptedHttpServer::Response(
          401, "Unauthorized", R"({"errors":[{"code":"UNAUTHORIZED","message":"insufficient scope"}]})",
          "WWW-Authenticate: Bearer realm=\"http://" + host() +
              "/token\",service=\"fake-registry\",scope=\"repository:demo:pull\",error=\"insufficient_scope\"\r\n")};
    }
    if (r.header("Authorization") != "Bearer tok-123") {
      return {ScriptedHttpServer::Response(
          401, "Unauthorized", R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
          "WWW-Authenticate: Bearer realm=\"http://" + host() +
              "/token\",service=\"fake-registry\",scope=\"repository:demo:pull\"\r\n")};
    }
    if (r.target == "/v2/demo/manifests/multi") {
      return {ScriptedHttpServer::Response(200, "OK", list_,
                                           std::string("Content-Type: ") + kMediaTypeDockerManifestList + "\r\n")};
    }
    if (r.target == "/v2/demo/manifests/v1" || r.target == "/v2/demo/manifests/" + manifest_digest()) {
      return {ScriptedHttpServer::Response(200, "OK", manifest_,
                                           std::string("Content-Type: ") + kMediaTypeManifest +
                                               "\r\nDocker-Content-Digest: " + manifest_digest() + "\r\n")};
    }
    for (const std::string* blob : {&config_, &layer_}) {
      if (r.target == "/v2/demo/blobs/" + Digest::Of(*blob).str()) {
        return {ScriptedHttpServer::Response(200, "OK", *blob)};  // Range ignored: the whole blob
      }
    }
    return {ScriptedHttpServer::Response(404, "Not Found", R"({"errors":[{"code":"NOT_FOUND","message":"nope"}]})")};
  }

  std::string token_field_;
  bool deny_ = false;
  std::string config_, layer_, manifest_, list_;
  std::atomic<int> port_{0};
  std::unique_ptr<ScriptedHttpServer> server_;
};

TEST(RegistryBearerTest, ChallengeTokenFetchAndRetry) {
  for (const char* field : {"token", "access_token"}) {
    SCOPED_TRACE(field);
    FakeBearerRegistry fake(field);
    TempDir dir("ofn-bearer");
    auto layout = OciLayout::Open(dir.Sub("layout"));
    ASSERT_TRUE(layout.ok());
    auto ref = ParseReference(fake.host() + "/demo:v1");
    ASSERT_TRUE(ref.ok());
    std::vector<std::string> log;
    PullOptions o;
    o.log = [&](std::string_view l) { log.emplace_back(l); };
    auto pulled = Pull(*ref, *layout, "v1", {"alice", kPassword}, o);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    EXPECT_EQ(pulled->manifest.digest.str(), fake.manifest_digest());
    EXPECT_EQ(pulled->blobs_fetched, 2);

    auto reqs = fake.server().requests();
    ASSERT_GE(reqs.size(), 5u);
    EXPECT_EQ(reqs[0].target, "/v2/demo/manifests/v1");
    EXPECT_EQ(reqs[0].header("Authorization"), "<absent>");
    EXPECT_EQ(reqs[1].method, "GET");
    EXPECT_EQ(reqs[1].target, "/token?service=fake-registry&scope=repository%3Ademo%3Apull");
    EXPECT_EQ(reqs[1].header("Authorization"), "Basic " + enc::Base64Encode(std::string("alice:") + kPassword));
    EXPECT_EQ(reqs[2].target, "/v2/demo/manifests/v1");
    EXPECT_EQ(reqs[2].header("Authorization"), "Bearer tok-123");
    for (size_t i = 3; i < reqs.size(); ++i) {
      EXPECT_EQ(reqs[i].header("Authorization"), "Bearer tok-123") << reqs[i].target;
    }
    EXPECT_EQ(reqs.size(), 5u);  // one token fetch serves the whole pull
    for (const auto& l : log) EXPECT_EQ(l.find("tok-123"), std::string::npos) << l;
  }
}

TEST(RegistryBearerTest, ManifestListPicksThisPlatform) {
  FakeBearerRegistry fake;
  TempDir dir("ofn-bearer");
  auto layout = OciLayout::Open(dir.Sub("layout"));
  ASSERT_TRUE(layout.ok());
  auto ref = ParseReference(fake.host() + "/demo:multi");
  ASSERT_TRUE(ref.ok());
  auto pulled = Pull(*ref, *layout, "multi", {"alice", kPassword}, PullOptions{});
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(pulled->manifest.digest.str(), fake.manifest_digest());
  EXPECT_EQ(pulled->blobs_fetched, 2);
  auto reqs = fake.server().requests();
  bool by_digest = false;
  for (const auto& r : reqs) by_digest = by_digest || r.target == "/v2/demo/manifests/" + fake.manifest_digest();
  EXPECT_TRUE(by_digest);
}

TEST(RegistryBearerTest, TokenWithoutAccessIsPermissionDenied) {
  FakeBearerRegistry fake("token", /*deny=*/true);
  TempDir dir("ofn-bearer");
  auto layout = OciLayout::Open(dir.Sub("layout"));
  ASSERT_TRUE(layout.ok());
  auto ref = ParseReference(fake.host() + "/demo:v1");
  ASSERT_TRUE(ref.ok());
  auto pulled = Pull(*ref, *layout, "v1", {"alice", kPassword}, PullOptions{});
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(pulled.status().message().find("access denied: the token service does not grant scope "
                                           "\"repository:demo:pull\" to user alice"),
            std::string::npos)
      << pulled.status().message();
  EXPECT_EQ(fake.server().requests().size(), 3u);  // no second token fetch
}

TEST(RegistryBearerTest, WrongPasswordAtTheTokenService) {
  FakeBearerRegistry fake;
  TempDir dir("ofn-bearer");
  auto layout = OciLayout::Open(dir.Sub("layout"));
  ASSERT_TRUE(layout.ok());
  auto ref = ParseReference(fake.host() + "/demo:v1");
  ASSERT_TRUE(ref.ok());
  auto pulled = Pull(*ref, *layout, "v1", {"alice", "wrong-password"}, PullOptions{});
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kUnauthenticated);
  const std::string& msg = pulled.status().message();
  EXPECT_NE(msg.find("registry " + fake.host() + ": authentication failed for user alice at token service"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("wrong-password"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ofn::build

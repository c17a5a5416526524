#include "support/brokers.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/raw_http.h"

namespace ofn::testing {
namespace {

// execve wants a path; brokers live in /usr/bin or /usr/sbin (mosquitto).
std::string FindProgram(const std::string& name) {
  for (const char* d : {"/usr/local/sbin/", "/usr/local/bin/", "/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string path = d + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return name;
}

Result<Broker> Launch(const std::string& dir, int port, std::vector<std::string> argv, std::string url_prefix) {
  ::mkdir(dir.c_str(), 0755);
  argv[0] = FindProgram(argv[0]);
  ProcessOptions options;
  options.argv = std::move(argv);
  options.output_file = dir + "/broker.log";
  auto process = Process::Start(options);
  if (!process.ok()) return process.status();
  Status ready = (*process)->WaitForPort(port, After(std::chrono::seconds(10)));
  if (!ready.ok()) {
    return Status::Unavailable(options.argv[0] + " did not start: " + ready.message() + "\n" + (*process)->Output());
  }
  Broker b;
  b.process = std::move(*process);
  b.port = port;
  b.dir = dir;
  b.address = "127.0.0.1:" + std::to_string(port);
  b.url = url_prefix + b.address;
  return b;
}

}  // namespace

void Broker::Kill() {
  if (!process) return;
  (void)process->Signal(SIGKILL);
  (void)process->Wait(After(std::chrono::seconds(10)));
  process.reset();
}

Result<Broker> StartRedis(const std::string& dir, int port) {
  if (port == 0) port = FreePort();
  return Launch(dir, port,
                {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
                 "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"},
                "");
}

Result<Broker> StartNats(const std::string& dir, int port) {
  if (port == 0) port = FreePort();
  return Launch(dir, port, {"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd", dir},
                "nats://");
}

Result<Broker> StartMosquitto(const std::string& dir, int port) {
  if (port == 0) port = FreePort();
  ::mkdir(dir.c_str(), 0755);
  std::string conf = dir + "/mosquitto.conf";
  // As root mosquitto would drop to user "mosquitto", who cannot write `dir`.
  Status written = WriteFile(conf, "listener " + std::to_string(port) +
                                       " 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location " +
                                       dir + "/\nuser root\n");
  if (!written.ok()) return written;
  return Launch(dir, port, {"mosquitto", "-c", conf}, "tcp://");
}

Result<Broker> StartRegistry(const std::string& dir, const std::string& user, const std::string& password, int port) {
  if (port == 0) port = FreePort();
  ::mkdir(dir.c_str(), 0755);
  std::string config = "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                       "storage:\n  filesystem:\n    rootdirectory: " + dir + "/data\n"
                       "http:\n  addr: 127.0.0.1:" + std::to_string(port) + "\n";
  if (!user.empty()) {
    auto h = Process::Start({.argv = {FindProgram("htpasswd"), "-Bbn", user, password},
                             .output_file = dir + "/htpasswd"});
    if (!h.ok()) return h.status();
    auto st = (*h)->Wait(After(std::chrono::seconds(30)));
    if (!st || !st->ok()) return Status::Internal("htpasswd failed: " + (*h)->Output());
    config += "auth:\n  htpasswd:\n    realm: ofn-test\n    path: " + dir + "/htpasswd\n";
  }
  if (Status w = WriteFile(dir + "/config.yml", config); !w.ok()) return w;
  auto b = Launch(dir, port, {"docker-registry", "serve", dir + "/config.yml"}, "http://");
  if (!b.ok()) return b;
  // The port opens a moment before the API answers.
  for (auto d = After(std::chrono::seconds(10)); Clock::now() < d;) {
    auto r = RoundTrip(port, Get("/v2/"), After(std::chrono::seconds(2)));
    if (r.ok() && (r->status == 200 || r->status == 401)) return b;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Unavailable("docker-registry did not answer GET /v2/ within 10 s\n" + b->process->Output());
}

}  // namespace ofn::testing

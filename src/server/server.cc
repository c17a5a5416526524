#include "server/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/data_dir.h"
#include "common/encoding.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/stop_signals.h"
#include "components/dapr_api.h"
#include "components/host.h"
#include "server/builtin_components.h"
#include "gateway/gateway.h"
#include "net/http_server.h"
#include "runtime/process_runtime.h"
#include "server/api_server.h"
#include "server/events_controller.h"
#include "server/manager.h"
#include "store/store.h"

namespace ofn::server {
namespace {

constexpr const char* kVersion = "0.1.0";

const std::vector<flags::FlagSpec> kFlags = {
    {"data-dir", 0, flags::FlagType::kValue, "DIR",
     "state (SQLite), logs, API socket and token (OFN_DATA_DIR; default $XDG_DATA_HOME/ofn or ~/.local/share/ofn)"},
    {"gateway", 0, flags::FlagType::kValue, "ADDR:PORT", "where functions are served", "0.0.0.0:8080"},
    {"api-addr", 0, flags::FlagType::kValue, "ADDR:PORT",
     "also serve the control API on TCP; every request then needs Authorization: Bearer $(cat DATA_DIR/token)"},
    {"domain", 0, flags::FlagType::kValue, "NAME", "domain of function host names when no Gateway resource sets one",
     "ofn.local"},
    {"dapr-addr", 0, flags::FlagType::kValue, "ADDR:PORT",
     "where instances reach Dapr's HTTP API (their DAPR_HOST/DAPR_HTTP_PORT); port 0 picks a free one",
     "127.0.0.1:0"},
    {"local-images", 0, flags::FlagType::kValue, "DIR[:DIR...]",
     "stand-ins for container images until Ofn runs containers: a Function without a command whose image is "
     "REPO/NAME:TAG runs the program DIR/NAME"},
    {"sdk-prefix", 0, flags::FlagType::kValue, "DIR",
     "where Ofn's SDK is installed (cmake --install), for building C++ functions; default: beside this program "
     "(its ../sdk, or .. when that holds lib/cmake/ofn)"},
    {"container-runtime", 0, flags::FlagType::kValue, "NAME",
     "the OCI runtime for functions served from their images: crun, runc, auto (crun where it runs, else runc) "
     "or none",
     "auto"},
    {"log-format", 0, flags::FlagType::kValue, "F", "text or json (OFN_LOG_FORMAT)", "text"},
    {"log-level", 0, flags::FlagType::kValue, "L", "debug, info, warn or error", "info"},
    {"help", 'h', flags::FlagType::kBool, "", "this text"},
};

// An installed SDK next to the running program: PREFIX/bin/ofn with
// PREFIX/lib/cmake/ofn, or a build tree's bin/ofn with ../sdk installed.
std::string SdkBesideProgram() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  auto prefix = exe.parent_path().parent_path();
  for (const auto& candidate : {prefix / "sdk", prefix}) {
    if (std::filesystem::exists(candidate / "lib" / "cmake" / "ofn" / "ofnConfig.cmake", ec)) return candidate.string();
  }
  return "";
}

constexpr const char* kUsageHead = R"(Usage: ofn server [flags]

Runs the Ofn platform on this machine: functions applied with `ofn apply` are
served through the gateway, scaled from zero on the first request and back
to zero when idle.

Flags:
)";

bool SplitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  *host = s.substr(0, colon);
  if (host->empty()) *host = "0.0.0.0";
  char* end = nullptr;
  long p = std::strtol(s.c_str() + colon + 1, &end, 10);
  if (*end || colon + 1 == s.size() || p < 0 || p > 65535) return false;
  *port = static_cast<int>(p);
  return true;
}

// A random hex token, created once and kept in the data dir (mode 0600).
Result<std::string> LoadOrCreateToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (in && std::getline(in, token) && !token.empty()) return token;
  unsigned char bytes[24];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, bytes, sizeof bytes) != static_cast<ssize_t>(sizeof bytes)) {
    if (fd >= 0) close(fd);
    return Status::Internal("cannot read /dev/urandom");
  }
  close(fd);
  static const char* hex = "0123456789abcdef";
  for (unsigned char b : bytes) {
    token.push_back(hex[b >> 4]);
    token.push_back(hex[b & 15]);
  }
  int out = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return Status::Internal("cannot write " + path);
  std::string line = token + "\n";
  bool ok = write(out, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(out);
  if (!ok) return Status::Internal("cannot write " + path);
  return token;
}

// The gateway's counters per function, in Prometheus text format.
std::string GatewayMetrics(gateway::Gateway& gw, store::Store& store) {
  auto fns = store.List("Function", "");
  if (!fns.ok()) return "";
  std::vector<std::pair<std::string, gateway::FunctionStats>> stats;
  for (const auto& f : *fns) {
    stats.emplace_back("namespace=\"" + f.ns + "\",function=\"" + f.name + "\"", gw.Stats(f.ns + "/" + f.name));
  }
  std::ostringstream m;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    m << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, st] : stats) m << name << "{" << labels << "} " << value(st) << "\n";
  };
  family("ofn_requests_total", "counter", "Requests answered through the gateway.",
         [](const gateway::FunctionStats& st) { return st.requests; });
  family("ofn_request_errors_total", "counter", "Requests answered 5xx.",
         [](const gateway::FunctionStats& st) { return st.errors; });
  family("ofn_concurrency", "gauge", "Requests in flight to instances.",
         [](const gateway::FunctionStats& st) { return st.in_flight; });
  family("ofn_activator_queue_length", "gauge", "Requests waiting for an instance or a free slot.",
         [](const gateway::FunctionStats& st) { return st.queued; });
  m << "# HELP ofn_request_duration_seconds Time from arrival at the gateway to the answer.\n"
       "# TYPE ofn_request_duration_seconds histogram\n";
  for (const auto& [labels, st] : stats) {
    int64_t cumulative = 0;
    for (size_t i = 0; i < std::size(gateway::kLatencyBuckets); ++i) {
      cumulative += st.latency[i];
      m << "ofn_request_duration_seconds_bucket{" << labels << ",le=\"" << gateway::kLatencyBuckets[i] << "\"} "
        << cumulative << "\n";
    }
    m << "ofn_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << st.requests << "\n";
    m << "ofn_request_duration_seconds_sum{" << labels << "} " << st.latency_sum_seconds << "\n";
    m << "ofn_request_duration_seconds_count{" << labels << "} " << st.requests << "\n";
  }
  return m.str();
}

int Fail(const std::string& m) {
  std::fprintf(stderr, "error: %s\n", m.c_str());
  return 2;
}

}  // namespace

int ServerMain(int argc, char** argv) {
  auto parsed = flags::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), kFlags);
  if (!parsed.ok()) return Fail(parsed.status().message() + " (see ofn server --help)");
  if (parsed->GetBool("help")) {
    std::fputs(kUsageHead, stdout);
    std::fputs(flags::FlagsHelp(kFlags).c_str(), stdout);
    return 0;
  }
  if (!parsed->positionals.empty()) return Fail("unexpected argument \"" + parsed->positionals[0] + "\"");
  const char* env_format = std::getenv("OFN_LOG_FORMAT");
  // Absolute: paths under it reach other processes (bundles, rootfs) from other working directories.
  std::string data_dir = std::filesystem::absolute(parsed->Get("data-dir", cli::DefaultDataDir())).lexically_normal();
  if (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  std::string gateway_addr = parsed->Get("gateway", "0.0.0.0:8080");
  std::string api_addr = parsed->Get("api-addr");
  std::string domain = parsed->Get("domain", "ofn.local");
  std::string dapr_addr = parsed->Get("dapr-addr", "127.0.0.1:0");
  std::string log_format = parsed->Get("log-format", env_format ? env_format : "text");
  std::string log_level = parsed->Get("log-level", "info");
  log::Format format;
  if (!log::ParseFormat(log_format, &format)) return Fail("--log-format: \"" + log_format + "\" is not text or json");
  log::SetFormat(format);
  log::Level level;
  if (!log::ParseLevel(log_level, &level)) return Fail("--log-level: \"" + log_level + "\" is not debug, info, warn or error");
  log::SetLevel(level);
  std::string gw_host, api_host;
  int gw_port = 0, api_port = 0;
  if (!SplitHostPort(gateway_addr, &gw_host, &gw_port)) return Fail("--gateway: \"" + gateway_addr + "\" is not ADDR:PORT");
  std::string dapr_host;
  int dapr_port = 0;
  if (!SplitHostPort(dapr_addr, &dapr_host, &dapr_port)) return Fail("--dapr-addr: \"" + dapr_addr + "\" is not ADDR:PORT");
  if (!api_addr.empty() && !SplitHostPort(api_addr, &api_host, &api_port)) {
    return Fail("--api-addr: \"" + api_addr + "\" is not ADDR:PORT");
  }

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Fail("cannot create data dir " + data_dir + ": " + ec.message());
  chmod(data_dir.c_str(), 0700);

  StopSignals signals;  // before any thread starts

  auto store = store::Store::Open(data_dir + "/ofn.db");
  if (!store.ok()) return Fail(store.status().message());
  auto runtime = runtime::ProcessRuntime::Create();
  if (!runtime.ok()) return Fail(runtime.status().message());

  // The manager and the gateway know each other: the gateway reports demand,
  // the manager publishes instances.
  struct Listener : gateway::GatewayListener {
    FunctionManager* manager = nullptr;
    void OnDemand(const std::string& key) override {
      if (manager) manager->OnDemand(key);
    }
    void OnConcurrency(const std::string& key, int c) override {
      if (manager) manager->OnConcurrency(key, c);
    }
  } listener;
  auto gateway = gateway::Gateway::Start({.host = gw_host, .port = gw_port}, &listener);
  if (!gateway.ok()) return Fail(gateway.status().message());

  // Dapr's HTTP API for instances, each function seeing its own components.
  components::DaprApi dapr(components::DaprApiOptions{});
  components::Registry registry = BuiltinComponents();
  // A function's pubsub.ofn component may name an EventBus (metadata eventBus) to read its embedded bus.
  EventsController* events_controller = nullptr;  // set once it runs
  auto bus_dir = [&events_controller, data_dir](const std::string& ns, const std::string& bus) -> Result<std::string> {
    if (events_controller == nullptr) return Status::Unavailable("the events engine is not running yet");
    auto b = events_controller->ResolveBus(ns, bus);
    if (!b.ok()) return b.status();
    if (!b->component_type.empty()) {
      return Status::InvalidArgument("EventBus " + bus + " is carried by " + b->component_type +
                                     ", not Ofn's embedded bus: give the function a " + b->component_type + " component");
    }
    return events::EmbeddedBusDir(data_dir, *b);
  };
  auto host = std::make_unique<components::ComponentHost>(components::ComponentHost::Options{
      .data_dir = data_dir, .registry = &registry, .api = &dapr, .event_bus_dir = bus_dir});
  net::HttpServerOptions dapr_options;
  dapr_options.host = dapr_host;
  dapr_options.port = dapr_port;
  dapr_options.loops = 1;
  auto dapr_server = net::HttpServer::Start(dapr_options, [&dapr](HttpRequest& req, HttpResponse& resp) {
    dapr.Handle(req, resp);
  });
  if (!dapr_server.ok()) return Fail("--dapr-addr: " + dapr_server.status().message());

  ManagerOptions mo;
  mo.platform.dapr_host = dapr_host == "0.0.0.0" ? "127.0.0.1" : dapr_host;
  mo.platform.dapr_http_port = (*dapr_server)->port();
  mo.data_dir = data_dir;
  mo.gateway_port = (*gateway)->port();
  mo.domain = domain;
  for (std::string dirs = parsed->Get("local-images"); !dirs.empty();) {
    size_t colon = dirs.find(':');
    std::string dir = dirs.substr(0, colon);
    if (!dir.empty()) mo.local_images.push_back(std::filesystem::absolute(dir).string());
    dirs = colon == std::string::npos ? "" : dirs.substr(colon + 1);
  }
  mo.container_runtime = parsed->Get("container-runtime", "auto");
  if (mo.container_runtime == "auto") mo.container_runtime.clear();
  if (!mo.container_runtime.empty() && mo.container_runtime != "crun" && mo.container_runtime != "runc" &&
      mo.container_runtime != "none") {
    return Fail("--container-runtime: \"" + mo.container_runtime + "\" is not crun, runc, auto or none");
  }
  mo.sdk_prefix = parsed->Get("sdk-prefix", SdkBesideProgram());
  if (!mo.sdk_prefix.empty()) mo.sdk_prefix = std::filesystem::absolute(mo.sdk_prefix).string();
  mo.gateway_url_host = gw_host == "0.0.0.0" || gw_host.empty() ? "127.0.0.1" : gw_host;
  FunctionManager manager(mo, store->get(), runtime->get(), gateway->get(), host.get());
  listener.manager = &manager;
  // Events: sources, buses and triggers, in process; sinks that name Functions go through the gateway.
  events::Engine engine({.registry = &registry,
                         .data_dir = data_dir,
                         .resolve = [&manager](const api::SinkRef& ref) { return ResolveFunctionSink(manager, ref); }});
  EventsController events(store->get(), &engine);
  events_controller = &events;  // functions may read an embedded bus from their first reconcile
  Status started = manager.Start();
  if (!started.ok()) return Fail(started.message());
  if (Status s = events.Start(); !s.ok()) return Fail(s.message());
  (*gateway)->SetLocalHandler(kWebhookPrefix, [&events](gateway::LocalRequest r, gateway::LocalReply reply) {
    events.Webhook(std::move(r), std::move(reply));
  });

  ApiOptions ao;
  ao.unix_path = data_dir + "/ofn.sock";
  ao.version = kVersion;
  ao.data_dir = data_dir;
  ao.gateway_address = mo.gateway_url_host + ":" + std::to_string(mo.gateway_port);
  if (!api_addr.empty()) {
    auto token = LoadOrCreateToken(data_dir + "/token");
    if (!token.ok()) return Fail(token.status().message());
    ao.tcp_host = api_host;
    ao.tcp_port = api_port;
    ao.token = *token;
  }
  gateway::Gateway* gw = gateway->get();
  ao.extra_metrics = [gw, s = store->get(), &engine]() { return GatewayMetrics(*gw, *s) + engine.Metrics(); };
  auto api = ApiServer::Start(ao, store->get(), &manager, &events);
  if (!api.ok()) return Fail(api.status().message());

  log::Info("ofn server running", {{"gateway", ao.gateway_address},
                                   {"dapr_api", mo.platform.dapr_host + ":" + std::to_string(mo.platform.dapr_http_port)},
                                   {"api", ao.unix_path},
                                   {"data_dir", data_dir},
                                   {"api_tcp", api_addr.empty() ? "off" : api_addr}});
  int sig = signals.Wait();
  log::Info("shutting down", {{"signal", StopSignals::Name(sig)}});
  (*api)->Shutdown();
  // Events stop before the gateway: deliveries in flight finish, the rest stays with the bus.
  events.Stop();
  engine.Stop();
  (*gateway)->Shutdown(std::chrono::seconds(10));
  manager.Stop();
  host.reset();  // consumers stop; events not yet handled stay with their brokers
  (*dapr_server)->Shutdown(std::chrono::seconds(2));
  listener.manager = nullptr;
  gateway->reset();  // before the manager it reports to goes away
  log::Info("stopped");
  return 0;
}

}  // namespace ofn::server

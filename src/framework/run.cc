// ofn::Run: configuration from flags and environment, start-up, and the
// SIGTERM drain.
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "common/flags.h"
#include "common/log.h"
#include "common/stop_signals.h"
#include "framework/dispatcher.h"
#include "framework/output_sender.h"
#include "net/http_server.h"
#include "ofn/framework.h"

namespace ofn {
namespace {

const std::vector<flags::FlagSpec> kFlags = {
    {"target", 0, flags::FlagType::kValue, "NAME", "function to serve (FUNCTION_TARGET); default: all"},
    {"port", 0, flags::FlagType::kValue, "N", "port to listen on (PORT; else FUNC_CONTEXT's port)", "8080"},
    {"host", 0, flags::FlagType::kValue, "ADDR", "address to listen on (OFN_HOST)", "0.0.0.0"},
    {"log-format", 0, flags::FlagType::kValue, "F", "text or json (OFN_LOG_FORMAT)", "text"},
    {"log-level", 0, flags::FlagType::kValue, "L", "debug, info, warn or error (OFN_LOG_LEVEL)", "info"},
    {"threads", 0, flags::FlagType::kValue, "N", "event-loop threads (OFN_THREADS; 0: the CPUs available)", "0"},
    {"max-body-bytes", 0, flags::FlagType::kValue, "N", "largest request body accepted (OFN_MAX_BODY_BYTES)",
     "67108864"},
    {"drain-seconds", 0, flags::FlagType::kValue, "N",
     "on SIGTERM, how long in-flight requests may finish (OFN_DRAIN_SECONDS)", "10"},
    {"list", 0, flags::FlagType::kBool, "", "print the functions in this binary and exit"},
    {"help", 'h', flags::FlagType::kBool, "", "this text"},
};

constexpr const char* kUsageHead = R"(Usage: %s [flags]

Serves the functions built into this binary over HTTP.

Flags (each has an environment variable; the flag wins):
)";

constexpr const char* kUsageTail = R"(
Other environment: LISTEN_FDS=1 with LISTEN_PID=<this pid> serves the listening
socket passed as fd 3 (socket activation) instead of binding PORT; FUNC_CONTEXT
(OpenFunction's function context JSON); DAPR_HOST / DAPR_HTTP_PORT (where
outputs other than bindings.http are sent); OFN_CLOUDEVENTS_V03=true (accept
CloudEvents spec version 0.3 as well as 1.0).
)";

struct Config {
  std::string target;
  std::string port;
  std::string host = "0.0.0.0";
  std::string log_format = "text";
  std::string log_level = "info";
  std::string threads = "0";
  std::string max_body = "67108864";
  std::string drain = "10";
  bool list = false;
};

std::string Env(const char* name, std::string fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

bool ParseInt(const std::string& s, long min, long max, long* out) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 2;
}

}  // namespace

int Run(int argc, char** argv) {
  Config cfg;
  cfg.target = Env("FUNCTION_TARGET");
  cfg.port = Env("PORT");
  cfg.host = Env("OFN_HOST", cfg.host);
  cfg.log_format = Env("OFN_LOG_FORMAT", cfg.log_format);
  cfg.log_level = Env("OFN_LOG_LEVEL", cfg.log_level);
  cfg.threads = Env("OFN_THREADS", cfg.threads);
  cfg.max_body = Env("OFN_MAX_BODY_BYTES", cfg.max_body);
  cfg.drain = Env("OFN_DRAIN_SECONDS", cfg.drain);

  auto parsed = flags::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), kFlags);
  if (!parsed.ok()) return Fail(parsed.status().message() + " (see --help)");
  if (parsed->GetBool("help")) {
    std::printf(kUsageHead, argv[0]);
    std::fputs(flags::FlagsHelp(kFlags).c_str(), stdout);
    std::fputs(kUsageTail, stdout);
    return 0;
  }
  if (!parsed->positionals.empty()) return Fail("unexpected argument \"" + parsed->positionals[0] + "\" (see --help)");
  cfg.list = parsed->GetBool("list");
  cfg.target = parsed->Get("target", cfg.target);
  cfg.port = parsed->Get("port", cfg.port);
  cfg.host = parsed->Get("host", cfg.host);
  cfg.log_format = parsed->Get("log-format", cfg.log_format);
  cfg.log_level = parsed->Get("log-level", cfg.log_level);
  cfg.threads = parsed->Get("threads", cfg.threads);
  cfg.max_body = parsed->Get("max-body-bytes", cfg.max_body);
  cfg.drain = parsed->Get("drain-seconds", cfg.drain);

  log::Format format;
  if (!log::ParseFormat(cfg.log_format, &format)) return Fail("--log-format: \"" + cfg.log_format + "\" is not text or json");
  log::SetFormat(format);
  log::Level level;
  if (!log::ParseLevel(cfg.log_level, &level)) return Fail("--log-level: \"" + cfg.log_level + "\" is not debug, info, warn or error");
  log::SetLevel(level);

  const auto& all = RegisteredFunctions();
  if (cfg.list) {
    for (const auto& f : all) std::printf("%s\t%s\n", f.name().c_str(), f.path().empty() ? "/" : f.path().c_str());
    return 0;
  }
  if (all.empty()) return Fail("no functions are registered in this binary (use OFN_REGISTER)");

  auto fc = FunctionContext::Parse(Env("FUNC_CONTEXT"));
  if (!fc.ok()) return Fail(fc.status().message());

  DispatcherOptions opts;
  if (!cfg.target.empty()) {
    for (const auto& f : all) {
      if (f.name() == cfg.target) opts.functions.push_back(f);
    }
    if (opts.functions.empty()) {
      std::string names;
      for (const auto& f : all) names += (names.empty() ? "" : ", ") + f.name();
      return Fail("function target \"" + cfg.target + "\" is not in this binary (it has: " + names + ")");
    }
  } else {
    opts.functions = all;
  }
  opts.single = opts.functions.size() == 1;
  // OpenFunction's httpPattern names the path a single function serves.
  if (opts.single && !fc->http_pattern.empty() && fc->http_pattern != "/" && opts.functions[0].path().empty()) {
    opts.functions[0] = Function(opts.functions[0]).WithPath(fc->http_pattern);
  }
  if (fc->name.empty()) fc->name = opts.functions[0].name();
  opts.context = *fc;
  opts.cloudevents.accept_v03 = Env("OFN_CLOUDEVENTS_V03") == "true";
  std::unique_ptr<HttpOutputSender> sender = HttpOutputSender::FromEnv();
  opts.sender = sender.get();

  auto dispatcher = Dispatcher::Create(std::move(opts));
  if (!dispatcher.ok()) return Fail(dispatcher.status().message());
  for (const auto& p : (*dispatcher)->unknown_plugins()) log::Warn("unknown plugin named in FUNC_CONTEXT; skipped", {{"plugin", p}});

  net::HttpServerOptions so;
  long port = 8080;
  std::string port_text = !cfg.port.empty() ? cfg.port : fc->port;
  if (!port_text.empty() && !ParseInt(port_text, 0, 65535, &port)) return Fail("port \"" + port_text + "\" is not a number from 0 to 65535");
  so.port = static_cast<int>(port);
  so.host = cfg.host;
  long threads = 0, max_body = 0, drain = 0;
  if (!ParseInt(cfg.threads, 0, 1024, &threads)) return Fail("--threads: \"" + cfg.threads + "\" is not a number from 0 to 1024");
  if (!ParseInt(cfg.max_body, 0, 1L << 40, &max_body)) return Fail("--max-body-bytes: \"" + cfg.max_body + "\" is not a byte count");
  if (!ParseInt(cfg.drain, 0, 3600, &drain)) return Fail("--drain-seconds: \"" + cfg.drain + "\" is not a number of seconds");
  so.loops = static_cast<int>(threads);
  // Socket activation (systemd's LISTEN_FDS convention): the platform hands us
  // a listening socket as fd 3 so the instance is routable from its first
  // instant. Not passed on to anything we might start.
  if (Env("LISTEN_FDS") == "1" && Env("LISTEN_PID") == std::to_string(getpid())) so.listen_fd = 3;
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_PID");
  so.limits.max_body_bytes = static_cast<size_t>(max_body);

  StopSignals signals;  // before any thread starts

  const Dispatcher* d = dispatcher->get();
  auto server = net::HttpServer::Start(so, [d](HttpRequest& req, HttpResponse& resp) { d->Handle(req, resp); });
  if (!server.ok()) return Fail(server.status().message());
  std::string functions;
  for (const auto& f : RegisteredFunctions()) {
    if (cfg.target.empty() || f.name() == cfg.target) functions += (functions.empty() ? "" : ",") + f.name();
  }
  // Runtime "Async": the functions' own paths are not served; Dapr's app
  // callbacks deliver the inputs' events (framework/async_callbacks.h).
  log::Info("serving", {{"port", std::to_string((*server)->port())}, {"functions", functions}, {"runtime", fc->runtime}});

  int sig = signals.Wait();
  log::Info("draining", {{"signal", StopSignals::Name(sig)}});
  if (!(*server)->Shutdown(std::chrono::seconds(drain))) {
    log::Warn("drain deadline passed with requests still running; exiting");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  server->reset();
  log::Info("stopped");
  return 0;
}

}  // namespace ofn

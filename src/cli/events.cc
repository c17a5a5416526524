// `ofn events tail TOPIC`: prints what arrives on a topic of an event bus, one
// event per line of JSON, by long polls of a watch the server holds
// (POST/GET/DELETE /v1/events/watches). The watch is a new subscriber of the
// topic, asking to start at the newest event (the embedded bus and Kafka do;
// Redis Streams and JetStream start with what they retain).
//
// Ctrl-C ends the tail cleanly: a SIGINT handler (installed for the tail only)
// sets a flag that the loop checks between polls, so the watch is closed on the
// way out; a second Ctrl-C ends the process at once. Polls are kept to a second
// so that the first one is noticed quickly; the server buffers what arrives
// between them, so nothing is missed.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

#include "cli/command.h"
#include "common/duration.h"
#include "common/encoding.h"

namespace ofn::cli {

namespace {

constexpr const char* kUsage = "ofn events tail TOPIC [--bus NAME] [--max N] [--timeout DURATION]";

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void OnInterrupt(int) { g_interrupted = 1; }

// SIGINT sets g_interrupted while this lives; the previous handler comes back after.
class InterruptFlag {
 public:
  InterruptFlag() {
    g_interrupted = 0;
    // A process started with SIGINT ignored (a background job of a script) keeps ignoring it.
    if (::sigaction(SIGINT, nullptr, &previous_) != 0 || previous_.sa_handler == SIG_IGN) return;
    struct sigaction sa = {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // the second Ctrl-C kills as usual
    installed_ = ::sigaction(SIGINT, &sa, nullptr) == 0;
  }
  ~InterruptFlag() {
    if (installed_) ::sigaction(SIGINT, &previous_, nullptr);
  }
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  bool raised() const { return g_interrupted != 0; }

 private:
  struct sigaction previous_ = {};
  bool installed_ = false;
};

int Usage(Context& ctx, const std::string& message) {
  ctx.err() << "error: " << message << "\nUsage:\n  " << kUsage << "\nSee 'ofn events --help' for more.\n";
  return kExitUsage;
}

// One line per event: the text as the bus carried it, unless it spans lines.
std::string EventLine(const json& event) {
  if (!event.is_string()) return event.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string& text = event.get_ref<const std::string&>();
  if (text.find_first_of("\r\n") == std::string::npos) return text;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_discarded()) return parsed.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string line = text;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

int Tail(Context& ctx, const std::string& topic) {
  using Clock = std::chrono::steady_clock;
  long long max = 0;  // 0: no limit
  if (ctx.args.Has("max")) {
    const std::string text = ctx.args.Get("max");
    char* end = nullptr;
    max = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || max <= 0) {
      return Usage(ctx, "--max: expected a positive number, not \"" + text + "\"");
    }
  }
  std::optional<Clock::time_point> deadline;
  std::string timeout_text;
  if (ctx.args.Has("timeout")) {
    timeout_text = ctx.args.Get("timeout");
    Result<std::chrono::nanoseconds> d = ParseGoDuration(timeout_text);
    if (!d.ok() || d->count() <= 0) {
      return Usage(ctx, "--timeout: expected a duration like 30s or 2m, not \"" + timeout_text + "\"");
    }
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(*d);
  }
  const std::string bus = ctx.args.Get("bus", "default");

  int code = kExitFailed;
  std::optional<HttpReply> reply =
      CallApi(ctx, "POST",
              "/v1/events/watches?namespace=" + enc::PercentEncode(ctx.ns) + "&bus=" + enc::PercentEncode(bus) +
                  "&topic=" + enc::PercentEncode(topic),
              "", {}, std::chrono::seconds(30), &code);
  if (!reply) return code;
  if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
  std::optional<json> opened = ParseBody(ctx, *reply);
  if (!opened) return kExitFailed;
  const std::string id = Str(*opened, {"id"});
  if (id.empty()) {
    ctx.err() << "error: the server opened no watch (no id in its answer)\n";
    return kExitFailed;
  }
  const std::string watch = "/v1/events/watches/" + enc::PercentEncode(id);

  InterruptFlag interrupt;
  long long printed = 0;
  bool close = true;  // the watch still exists on the server
  code = kExitOk;
  while (!ctx.io.cancelled() && !interrupt.raised() && (max == 0 || printed < max)) {
    auto wait = std::chrono::seconds(1);
    if (deadline) {
      auto left = *deadline - Clock::now();
      if (left <= Clock::duration::zero()) {
        if (max != 0) {
          ctx.err() << "error: timed out after " << timeout_text << " with " << printed << " of " << max
                    << " events\n";
          code = kExitFailed;
        }
        break;
      }
      // Whole seconds only: the last poll may end up to a second late.
      wait = std::min(wait, std::chrono::ceil<std::chrono::seconds>(left));
    }
    std::optional<HttpReply> got = CallApi(ctx, "GET", watch + "?wait=" + std::to_string(wait.count()), "", {},
                                           wait + std::chrono::seconds(30), &code);
    if (!got) {
      close = false;  // the server is unreachable: nothing to close
      break;
    }
    if (got->status == 404) {
      ctx.err() << "error: the watch of topic \"" << topic << "\" on bus \"" << bus
                << "\" is gone (the server restarted, or it was not read for a minute)\n";
      close = false;
      code = kExitFailed;
      break;
    }
    if (got->status / 100 != 2) {
      code = ReportApiError(ctx, *got);
      break;
    }
    std::optional<json> body = ParseBody(ctx, *got);
    if (!body) {
      code = kExitFailed;
      break;
    }
    if (const json* events = Find(*body, {"events"}); events && events->is_array()) {
      for (const json& e : *events) {
        if (max != 0 && printed >= max) break;
        ctx.out() << EventLine(e) << "\n";
        ++printed;
      }
      ctx.out() << std::flush;
    }
  }
  // Best effort: a watch left open expires on its own after a minute.
  if (close) (void)ctx.api->Do("DELETE", watch, "", {}, std::chrono::seconds(5));
  return code;
}

}  // namespace

int EventsVerb(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) return Usage(ctx, "ofn events needs a subcommand: tail");
  if (pos[0] != "tail") return Usage(ctx, "unknown command \"" + pos[0] + "\" for \"ofn events\"");
  if (pos.size() != 2 || pos[1].empty()) return Usage(ctx, "expected exactly one topic");
  return Tail(ctx, pos[1]);
}

}  // namespace ofn::cli

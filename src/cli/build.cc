// `ofn build NAME... | -f FILE [--cancel]`: builds functions' images on the
// server and shows their build logs as they are written; `ofn logs NAME
// --build` prints (and follows) the latest build log.
#include <ostream>
#include <thread>

#include "cli/command.h"
#include "common/encoding.h"

namespace ofn::cli {
namespace {

using namespace std::chrono_literals;

std::string BuildsPath(const Context& ctx, const std::string& name) {
  return "/v1/builds/" + enc::PercentEncode(ctx.ns) + "/" + enc::PercentEncode(name);
}

// The function's status.build once it is no longer Building (the server
// writes it a moment after the log ends); nullopt after printing why not.
std::optional<json> SettledBuild(Context& ctx, const std::string& name) {
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (true) {
    int code = kExitFailed;
    auto reply = CallApi(ctx, "GET", ObjectPath("Function", ctx.ns, name), "", {}, 30s, &code);
    if (!reply) return std::nullopt;
    if (reply->status / 100 != 2) {
      ReportApiError(ctx, *reply);
      return std::nullopt;
    }
    auto obj = ParseBody(ctx, *reply);
    if (!obj) return std::nullopt;
    std::string state = Str(*obj, {"status", "build", "state"});
    if (state != "Building" || std::chrono::steady_clock::now() >= until) return obj;
    std::this_thread::sleep_for(50ms);
  }
}

// "function/hello built: IMAGE@DIGEST (cached, 12ms)" or the failure; true when built.
bool ReportBuild(Context& ctx, const std::string& name, const json& obj) {
  std::string state = Str(obj, {"status", "build", "state"});
  if (state == "Succeeded") {
    ctx.out() << "function/" << name << " built: " << Str(obj, {"spec", "image"}) << "@"
              << Str(obj, {"status", "revision", "imageDigest"});
    std::string took = Str(obj, {"status", "build", "buildDuration"});
    if (!took.empty()) ctx.out() << " in " << took;
    ctx.out() << "\n";
    return true;
  }
  ctx.err() << "error: function/" << name << " build " << (state.empty() ? "did not run" : state);
  std::string reason = Str(obj, {"status", "build", "reason"});
  if (!reason.empty()) ctx.err() << " (" << reason << ")";
  std::string message = Str(obj, {"status", "build", "message"});
  if (!message.empty()) ctx.err() << ": " << message;
  ctx.err() << "\n";
  return false;
}

}  // namespace

// Prints the build log from the start (unless !print); with `follow`, until
// the build ends. kExitOk, or the exit code after printing the error.
int PrintBuildLog(Context& ctx, const std::string& name, bool follow, bool print) {
  const std::string base = "/v1/logs/" + enc::PercentEncode(ctx.ns) + "/" + enc::PercentEncode(name) + "?build=true";
  std::string offset = "0";
  while (!ctx.io.cancelled()) {
    int code = kExitFailed;
    std::string target = base + "&offset=" + offset + (follow ? "&follow=true" : "");
    auto reply = CallApi(ctx, "GET", target, "", {}, 40s, &code);  // a follow is held up to 10 s
    if (!reply) return code;
    if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
    if (print) ctx.out() << reply->body << std::flush;
    if (const std::string* next = reply->header("X-Ofn-Log-Offset")) offset = *next;
    const std::string* ended = reply->header("X-Ofn-Log-Ended");
    if (!follow || (ended && *ended == "true")) return kExitOk;
  }
  return kExitOk;
}

int BuildVerb(Context& ctx) {
  std::vector<std::string> names = ctx.args.positionals;
  const bool from_files = !ctx.args.GetAll("filename").empty();
  if (from_files == !names.empty()) {
    ctx.err() << "error: give function names or -f FILE (not both)\nSee 'ofn build --help' for usage.\n";
    return kExitUsage;
  }
  if (from_files) {
    std::vector<json> applied;
    int code = ApplyManifests(ctx, &applied);
    if (code != kExitOk) return code;
    for (const json& r : applied) {
      if (Str(r, {"kind"}) != "Function") continue;
      std::string ns = Str(r, {"namespace"});
      if (!ns.empty()) ctx.ns = ns;
      names.push_back(Str(r, {"name"}));
    }
  }
  const bool cancel = ctx.args.GetBool("cancel");
  const bool quiet = ctx.args.GetBool("quiet");
  bool failed = false;
  for (const std::string& name : names) {
    int code = kExitFailed;
    auto reply = CallApi(ctx, cancel ? "DELETE" : "POST", BuildsPath(ctx, name), "", {}, 30s, &code);
    if (!reply) return code;
    if (reply->status / 100 != 2) {
      if (from_files && reply->status == 409) continue;  // a function of the file without spec.build
      ReportApiError(ctx, *reply);
      failed = true;
      continue;
    }
    if (cancel) {
      ctx.out() << "function/" << name << " build cancelled\n";
      continue;
    }
    code = PrintBuildLog(ctx, name, true, !quiet);
    if (code != kExitOk) return code;
    auto obj = SettledBuild(ctx, name);
    if (!obj || !ReportBuild(ctx, name, *obj)) failed = true;
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace ofn::cli

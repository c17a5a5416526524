// `ofn logs NAME [-f] [--instance ID]`: an instance's log, and with -f the
// rest of it as it is written, by long polls from the returned offset.
#include <ostream>
#include <set>

#include "cli/command.h"
#include "common/encoding.h"

namespace ofn::cli {

namespace {

std::set<std::string> InstanceList(const HttpReply& r) {
  std::set<std::string> ids;
  const std::string* list = r.header("X-Ofn-Instances");
  if (!list) return ids;
  std::string_view rest = *list;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view id = enc::Trim(rest.substr(0, comma));
    if (!id.empty()) ids.insert(std::string(id));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return ids;
}

std::string Header(const HttpReply& r, std::string_view name) {
  const std::string* v = r.header(name);
  return v ? *v : "";
}

}  // namespace

int LogsVerb(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.size() != 1) {
    ctx.err() << "error: expected exactly one function name: ofn logs NAME [-f] [--instance ID]\n"
              << "See 'ofn logs --help' for usage.\n";
    return kExitUsage;
  }
  std::string name = pos[0];
  if (size_t slash = name.find('/'); slash != std::string::npos) {  // "fn/hello", as kubectl takes "pod/x"
    const api::KindName* k = api::LookupKind(name.substr(0, slash));
    if (!k || k->kind != "Function") {
      ctx.err() << "error: logs are kept for functions only, not \"" << name.substr(0, slash) << "\"\n";
      return kExitUsage;
    }
    name = name.substr(slash + 1);
  }
  if (ctx.args.GetBool("build")) {
    if (!ctx.args.Get("instance").empty()) {
      ctx.err() << "error: --build and --instance cannot be used together\n";
      return kExitUsage;
    }
    return PrintBuildLog(ctx, name, ctx.args.GetBool("follow"));
  }
  const std::string base = "/v1/logs/" + enc::PercentEncode(ctx.ns) + "/" + enc::PercentEncode(name);
  const std::string pinned = ctx.args.Get("instance");
  const bool follow = ctx.args.GetBool("follow");

  int code = kExitFailed;
  std::optional<HttpReply> reply =
      CallApi(ctx, "GET", pinned.empty() ? base : base + "?instance=" + enc::PercentEncode(pinned), "", {},
              std::chrono::seconds(30), &code);
  if (!reply) return code;
  if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
  ctx.out() << reply->body << std::flush;
  if (!follow) return kExitOk;

  std::string instance = pinned.empty() ? Header(*reply, "X-Ofn-Instance") : pinned;
  std::string offset = Header(*reply, "X-Ofn-Log-Offset");
  std::set<std::string> seen = InstanceList(*reply);
  if (!instance.empty()) seen.insert(instance);
  while (!ctx.io.cancelled()) {
    std::string target = base + "?follow=true";
    if (!instance.empty()) target += "&instance=" + enc::PercentEncode(instance);
    if (!offset.empty()) target += "&offset=" + enc::PercentEncode(offset);
    // The server holds a follow request up to 10 s: allow for that and more.
    reply = CallApi(ctx, "GET", target, "", {}, std::chrono::seconds(40), &code);
    if (!reply) return code;
    if (reply->status == 404) return kExitOk;  // the function is gone: nothing more will be written
    if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
    ctx.out() << reply->body << std::flush;
    if (const std::string* next = reply->header("X-Ofn-Log-Offset")) {
      offset = *next;
    }
    if (!reply->body.empty() || !pinned.empty()) continue;

    // Nothing new here. If another instance has started meanwhile (a restart
    // after a crash, a scale-up from zero), follow the newest one from its start.
    bool fresh = false;
    for (const std::string& id : InstanceList(*reply)) fresh |= seen.insert(id).second;
    if (!fresh) continue;
    std::optional<HttpReply> newest = CallApi(ctx, "GET", base + "?offset=0", "", {}, std::chrono::seconds(30), &code);
    if (!newest) return code;
    if (newest->status / 100 != 2) continue;
    std::string id = Header(*newest, "X-Ofn-Instance");
    if (id.empty() || id == instance) continue;
    instance = id;
    ctx.out() << newest->body << std::flush;
    offset = Header(*newest, "X-Ofn-Log-Offset");
  }
  return kExitOk;
}

}  // namespace ofn::cli

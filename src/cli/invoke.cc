// `ofn invoke NAME`: call a function at the address its status advertises,
// as plain HTTP or as a binary-mode CloudEvent.
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

#include "cli/command.h"
#include "cli/printers.h"
#include "common/encoding.h"
#include "common/uuid.h"
#include "net/http_client.h"
#include "ofn/http_request.h"

namespace ofn::cli {

namespace {

// "60", "60s", "1500ms", "2m".
std::optional<std::chrono::milliseconds> ParseTimeout(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  long long n = std::stoll(std::string(s.substr(0, digits)));
  std::string_view unit = s.substr(digits);
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  return std::nullopt;
}

// The function's base URL with the user's path appended ("/default/hello" + "/x?y=1").
std::string JoinUrl(std::string base, std::string_view path) {
  if (path.empty()) return base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (path.front() != '/' && path.front() != '?') base += "/";
  return base + std::string(path);
}

}  // namespace

int InvokeVerb(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  auto usage = [&](const std::string& msg) {
    ctx.err() << "error: " << msg << "\nSee 'ofn invoke --help' for usage.\n";
    return kExitUsage;
  };
  if (pos.size() != 1) return usage("expected exactly one function name: ofn invoke NAME");
  if (ctx.args.Has("data") && ctx.args.Has("data-file")) return usage("--data and --data-file cannot both be given");
  const bool cloudevent = ctx.args.Has("cloudevent");
  if (!cloudevent && (ctx.args.Has("source") || ctx.args.Has("id"))) {
    return usage("--source and --id are CloudEvent attributes: give --cloudevent TYPE too");
  }
  std::optional<std::chrono::milliseconds> timeout = ParseTimeout(ctx.args.Get("timeout", "60s"));
  if (!timeout) return usage("--timeout: expected a duration like 30s or 500ms");

  Headers headers;
  for (const std::string& h : ctx.args.GetAll("header")) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return usage("--header \"" + h + "\": expected 'Name: value'");
    headers.emplace_back(std::string(enc::Trim(h.substr(0, colon))), std::string(enc::Trim(h.substr(colon + 1))));
  }
  std::string body;
  const bool has_data = ctx.args.Has("data") || ctx.args.Has("data-file");
  if (ctx.args.Has("data")) {
    body = ctx.args.Get("data");
  } else if (ctx.args.Has("data-file")) {
    std::string path = ctx.args.Get("data-file");
    std::stringstream ss;
    if (path == "-") {
      ss << ctx.io.in->rdbuf();
    } else {
      std::ifstream f(path, std::ios::binary);
      if (!f) {
        ctx.err() << "error: cannot read " << path << "\n";
        return kExitFailed;
      }
      ss << f.rdbuf();
    }
    body = ss.str();
  }

  // Where the function is: its status, from the API.
  std::string name = pos[0];
  if (size_t slash = name.find('/'); slash != std::string::npos) name = name.substr(slash + 1);
  int code = kExitFailed;
  std::optional<HttpReply> reply =
      CallApi(ctx, "GET", ObjectPath("Function", ctx.ns, name), "", {}, std::chrono::seconds(30), &code);
  if (!reply) return code;
  if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
  std::optional<json> fn = ParseBody(ctx, *reply);
  if (!fn) return kExitFailed;
  std::string address = PreferredAddress(*fn);
  if (address.empty()) {
    std::string state = Str(*fn, {"status", "serving", "state"});
    ctx.err() << "error: function \"" << name << "\" has no address yet (serving state: "
              << (state.empty() ? "unknown" : state) << "); see 'ofn describe fn " << name << "'\n";
    return kExitFailed;
  }
  const std::string url = JoinUrl(address, ctx.args.Get("path"));
  Result<net::ParsedUrl> parsed = net::ParseUrl(url);
  if (!parsed.ok()) {
    ctx.err() << "error: " << parsed.status().message() << "\n";
    return kExitFailed;
  }

  auto has_header = [&](std::string_view n) {
    for (const auto& [k, v] : headers) {
      if (EqualsIgnoreCase(k, n)) return true;
    }
    return false;
  };
  if (cloudevent) {
    // Binary content mode (CloudEvents HTTP binding §3.1): attributes as ce- headers, data as the body.
    headers.emplace_back("ce-specversion", "1.0");
    headers.emplace_back("ce-type", ctx.args.Get("cloudevent"));
    headers.emplace_back("ce-source", ctx.args.Get("source", "ofn-cli"));
    headers.emplace_back("ce-id", ctx.args.Get("id", NewUuid()));
  }
  if (!body.empty() && !has_header("Content-Type")) {
    const bool is_json = !json::parse(body, nullptr, false).is_discarded();
    headers.emplace_back("Content-Type", is_json ? "application/json" : "text/plain");
  }

  HttpCall call;
  call.method = ctx.args.Get("method", has_data || cloudevent ? "POST" : "GET");
  call.target = parsed->target;
  call.host_header = parsed->HostHeader();
  call.headers = std::move(headers);
  call.body = std::move(body);
  call.timeout = *timeout;
  Endpoint ep;
  ep.host = parsed->host;
  ep.port = parsed->port;
  Result<HttpReply> answer = Exchange(ep, call);
  if (!answer.ok()) {
    ctx.err() << "error: calling " << url << ": " << answer.status().message() << "\n";
    return kExitFailed;
  }
  if (ctx.args.GetBool("verbose")) {
    // On stderr, as curl -v does, so stdout stays the body.
    ctx.err() << "> " << call.method << " " << url << "\n";
    ctx.err() << "< HTTP/1.1 " << answer->status << " " << ReasonPhrase(answer->status) << "\n";
    for (const auto& [k, v] : answer->headers) ctx.err() << "< " << k << ": " << v << "\n";
    ctx.err() << "<\n";
  }
  ctx.out() << answer->body << std::flush;
  return answer->status / 100 == 2 ? kExitOk : kExitFailed;
}

}  // namespace ofn::cli

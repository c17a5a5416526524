// `ofn apply` and `ofn create`: send each manifest file to POST /v1/apply and
// report per object, kubectl's way.
#include <ostream>

#include "cli/command.h"
#include "cli/manifest_files.h"
#include "common/encoding.h"

namespace ofn::cli {

int ApplyVerb(Context& ctx) { return ApplyManifests(ctx, nullptr); }

int ApplyManifests(Context& ctx, std::vector<json>* applied) {
  const bool create = ctx.verb == "create";
  const std::vector<std::string>& files = ctx.args.GetAll("filename");
  if (!ctx.args.positionals.empty()) {
    ctx.err() << "error: unexpected argument \"" << ctx.args.positionals[0] << "\": manifests are given with -f\n"
              << "See 'ofn " << ctx.verb << " --help' for usage.\n";
    return kExitUsage;
  }
  if (files.empty()) {
    ctx.err() << "error: must specify -f FILE (a file, a directory, or - for stdin)\n"
              << "See 'ofn " << ctx.verb << " --help' for usage.\n";
    return kExitUsage;
  }
  Result<std::vector<ManifestInput>> inputs = ReadManifests(files, *ctx.io.in);
  if (!inputs.ok()) {
    ctx.err() << "error: " << inputs.status().message() << "\n";
    return kExitFailed;
  }
  if (inputs->empty()) {
    ctx.err() << "error: no objects passed to " << ctx.verb << "\n";
    return kExitFailed;
  }
  const bool dry_run = ctx.args.GetBool("dry-run");
  std::string target = std::string("/v1/apply?mode=") + (create ? "create" : "apply") +
                       "&dryRun=" + (dry_run ? "true" : "false");
  // Not in docs/api.md yet: the namespace for objects that name none (kubectl's -n).
  if (ctx.ns_given) target += "&namespace=" + enc::PercentEncode(ctx.ns);

  // One request per file, as kubectl does: errors name the right file, and
  // one bad file does not stop the others.
  bool failed = false;
  size_t objects = 0;
  json all_results = json::array();
  for (const ManifestInput& input : *inputs) {
    int code = kExitFailed;
    std::optional<HttpReply> reply =
        CallApi(ctx, "POST", target, input.text,
                {{"Content-Type", "application/yaml"}, {"X-Ofn-Source", input.source}},
                std::chrono::seconds(60), &code);
    if (!reply) {
      if (code == kExitNotRunning) return code;  // the next files would fail the same way
      failed = true;
      continue;
    }
    if (reply->status / 100 != 2) {
      ReportApiError(ctx, *reply);
      failed = true;
      continue;
    }
    std::optional<json> body = ParseBody(ctx, *reply);
    if (!body) {
      failed = true;
      continue;
    }
    const json* results = Find(*body, {"results"});
    if (!results || !results->is_array()) continue;
    for (const json& r : *results) {
      ++objects;
      if (applied) applied->push_back(r);
      if (ctx.output == "json" || ctx.output == "yaml") {
        all_results.push_back(r);
        continue;
      }
      std::string action = Str(r, {"action"});
      if (dry_run && action == "validated") action += " (dry run)";
      std::string resource = api::QualifiedResource(Str(r, {"apiVersion"}), Str(r, {"kind"})) + "/" + Str(r, {"name"});
      if (ctx.output == "name") {
        ctx.out() << resource << "\n";
      } else {
        ctx.out() << resource << " " << action << "\n";
      }
      if (const json* ignored = Find(r, {"ignored"}); ignored && ignored->is_array() && !ignored->empty()) {
        std::string list;
        for (const json& f : *ignored) {
          if (!list.empty()) list += ", ";
          list += f.is_string() ? f.get<std::string>() : f.dump();
        }
        ctx.out() << "  ignored (kept, not acted on yet): " << list << "\n";
      }
      if (const json* warnings = Find(r, {"warnings"}); warnings && warnings->is_array()) {
        for (const json& w : *warnings) {
          ctx.err() << "Warning: " << (w.is_string() ? w.get<std::string>() : w.dump()) << "\n";
        }
      }
    }
  }
  if (ctx.output == "json" || ctx.output == "yaml") PrintStructured(ctx, json{{"results", all_results}});
  if (!failed && objects == 0) {
    ctx.err() << "error: no objects passed to " << ctx.verb << "\n";
    return kExitFailed;
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace ofn::cli

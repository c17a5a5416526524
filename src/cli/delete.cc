// `ofn delete TYPE NAME...`, `ofn delete TYPE/NAME...`, `ofn delete -f FILE`.
#include <ostream>

#include "cli/command.h"
#include "cli/manifest_files.h"

namespace ofn::cli {

int DeleteVerb(Context& ctx) {
  struct Target {
    std::string kind;       // as the API takes it
    std::string resource;   // "function.core.openfunction.io", for messages
    std::string ns, name;
  };
  std::vector<Target> targets;
  const auto& pos = ctx.args.positionals;
  const std::vector<std::string>& files = ctx.args.GetAll("filename");
  if (!files.empty()) {
    if (!pos.empty()) {
      ctx.err() << "error: there is no need to specify a resource type as a separate argument when passing "
                   "arguments in resource/name form or with -f\n";
      return kExitUsage;
    }
    Result<std::vector<ManifestInput>> inputs = ReadManifests(files, *ctx.io.in);
    if (!inputs.ok()) {
      ctx.err() << "error: " << inputs.status().message() << "\n";
      return kExitFailed;
    }
    for (const ManifestInput& in : *inputs) {
      Result<std::vector<ObjectRef>> refs = ObjectRefs(in);
      if (!refs.ok()) {
        ctx.err() << "error: " << refs.status().message() << "\n";
        return kExitFailed;
      }
      for (const ObjectRef& r : *refs) {
        const api::KindName* k = api::LookupKind(r.kind);
        targets.push_back({r.kind, k ? k->Qualified() : api::QualifiedResource(r.api_version, r.kind),
                           r.ns.empty() ? ctx.ns : r.ns, r.name});
      }
    }
    if (targets.empty()) {
      ctx.err() << "error: no objects passed to delete\n";
      return kExitFailed;
    }
  } else {
    if (pos.empty()) {
      ctx.err() << "error: you must provide one or more resources by argument or filename\n"
                << "See 'ofn delete --help' for usage.\n";
      return kExitUsage;
    }
    auto add = [&](std::string_view type, std::string name) {
      const api::KindName* k = api::LookupKind(type);
      if (!k) {
        ctx.err() << "error: the server doesn't have a resource type \"" << type << "\"\n";
        return false;
      }
      targets.push_back({std::string(k->kind), k->Qualified(), ctx.ns, std::move(name)});
      return true;
    };
    if (pos[0].find('/') != std::string::npos) {
      for (const std::string& p : pos) {
        std::string resource, name;
        if (!SplitResourceName(ctx, p, &resource, &name)) return kExitUsage;
        if (!add(resource, name)) return kExitFailed;
      }
    } else {
      if (pos.size() < 2) {
        ctx.err() << "error: resource(s) were provided, but no name was specified\n";
        return kExitUsage;
      }
      for (size_t i = 1; i < pos.size(); ++i) {
        if (!add(pos[0], pos[i])) return kExitFailed;
      }
    }
  }

  const bool ignore_not_found = ctx.args.GetBool("ignore-not-found");
  bool failed = false;
  for (const Target& t : targets) {
    int code = kExitFailed;
    std::optional<HttpReply> reply =
        CallApi(ctx, "DELETE", ObjectPath(t.kind, t.ns, t.name), "", {}, std::chrono::seconds(60), &code);
    if (!reply) return code;
    if (reply->status == 404 && ignore_not_found) continue;
    if (reply->status / 100 != 2) {
      ReportApiError(ctx, *reply);
      failed = true;
      continue;
    }
    if (ctx.output == "name") {
      ctx.out() << t.resource << "/" << t.name << "\n";
    } else {
      ctx.out() << t.resource << " \"" << t.name << "\" deleted\n";
    }
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace ofn::cli

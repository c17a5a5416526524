// `ofn get [TYPE[,TYPE]] [NAME...]`, `ofn get TYPE/NAME...`: tables like
// kubectl's, or the objects as YAML / JSON / names.
#include <algorithm>
#include <map>
#include <ostream>

#include "cli/command.h"
#include "cli/printers.h"
#include "common/encoding.h"

namespace ofn::cli {

namespace {

struct Query {
  const api::KindName* kind = nullptr;  // null: every kind
  std::string name;                // empty: list
};

// Turns the positionals into queries; prints and returns false on a bad type.
bool ParseQueries(Context& ctx, bool* several_kinds, std::vector<Query>* out) {
  const auto& pos = ctx.args.positionals;
  auto lookup = [&](std::string_view type) -> const api::KindName* {
    const api::KindName* k = api::LookupKind(type);
    if (!k) ctx.err() << "error: the server doesn't have a resource type \"" << type << "\"\n";
    return k;
  };
  *several_kinds = false;
  if (pos.empty() || (pos.size() == 1 && pos[0] == "all")) {
    out->push_back({});
    *several_kinds = true;
    return true;
  }
  if (pos[0].find('/') != std::string::npos) {
    for (const std::string& p : pos) {
      std::string resource, name;
      if (!SplitResourceName(ctx, p, &resource, &name)) return false;
      const api::KindName* k = lookup(resource);
      if (!k) return false;
      out->push_back({k, name});
    }
    for (const Query& q : *out) *several_kinds |= q.kind != out->front().kind;
    return true;
  }
  std::vector<const api::KindName*> kinds;
  std::string_view types = pos[0];
  while (!types.empty()) {
    size_t comma = types.find(',');
    std::string_view t = types.substr(0, comma);
    types = comma == std::string_view::npos ? std::string_view() : types.substr(comma + 1);
    if (t.empty()) continue;
    const api::KindName* k = lookup(t);
    if (!k) return false;
    kinds.push_back(k);
  }
  if (kinds.empty()) return lookup(pos[0]) != nullptr;
  *several_kinds = kinds.size() > 1;
  if (pos.size() == 1) {
    for (const api::KindName* k : kinds) out->push_back({k, ""});
    return true;
  }
  for (const api::KindName* k : kinds) {
    for (size_t i = 1; i < pos.size(); ++i) out->push_back({k, pos[i]});
  }
  return true;
}

}  // namespace

int GetVerb(Context& ctx) {
  bool several_kinds = false;
  std::vector<Query> queries;
  if (!ParseQueries(ctx, &several_kinds, &queries)) return kExitFailed;
  const bool by_name = !queries.front().name.empty();
  if (by_name && ctx.all_namespaces) {
    ctx.err() << "error: a resource cannot be retrieved by name across all namespaces\n";
    return kExitUsage;
  }

  bool failed = false;
  std::vector<json> items;
  for (const Query& q : queries) {
    int code = kExitFailed;
    std::string target;
    if (by_name) {
      target = ObjectPath(q.kind->kind, ctx.ns, q.name);
    } else {
      target = "/v1/objects";
      std::string sep = "?";
      if (q.kind) {
        target += sep + "kind=" + std::string(q.kind->kind);
        sep = "&";
      }
      // Cluster-scoped kinds (ClusterEventBus) are stored without a namespace.
      if (!ctx.all_namespaces && (!q.kind || q.kind->namespaced)) {
        target += sep + "namespace=" + enc::PercentEncode(ctx.ns);
      }
    }
    std::optional<HttpReply> reply = CallApi(ctx, "GET", target, "", {}, std::chrono::seconds(30), &code);
    if (!reply) return code;
    if (reply->status / 100 != 2) {
      ReportApiError(ctx, *reply);
      failed = true;
      continue;
    }
    std::optional<json> body = ParseBody(ctx, *reply);
    if (!body) return kExitFailed;
    if (by_name) {
      items.push_back(std::move(*body));
    } else if (const json* list = Find(*body, {"items"}); list && list->is_array()) {
      for (const json& obj : *list) items.push_back(obj);
    }
  }

  if (ctx.output == "yaml" || ctx.output == "json") {
    // kubectl: a single object asked for by name prints as itself, anything else as a List.
    if (by_name && queries.size() == 1) {
      if (!items.empty()) PrintStructured(ctx, items.front());
    } else if (!items.empty() || !failed) {
      PrintStructured(ctx, AsList(std::move(items)));
    }
    return failed ? kExitFailed : kExitOk;
  }
  if (ctx.output == "name") {
    for (const json& obj : items) ctx.out() << ObjectName(obj) << "\n";
    return failed ? kExitFailed : kExitOk;
  }
  if (items.empty()) {
    if (!failed) {
      if (ctx.all_namespaces) {
        ctx.err() << "No resources found\n";
      } else {
        ctx.err() << "No resources found in " << ctx.ns << " namespace.\n";
      }
    }
    return failed ? kExitFailed : kExitOk;
  }

  // One table per kind, in the order the kinds first appear (the API sorts by kind).
  std::vector<std::string> order;
  std::map<std::string, std::vector<json>> by_kind;
  for (json& obj : items) {
    std::string key = Str(obj, {"apiVersion"}) + "/" + Str(obj, {"kind"});
    if (!by_kind.count(key)) order.push_back(key);
    by_kind[key].push_back(std::move(obj));
  }
  TableOptions options;
  options.all_namespaces = ctx.all_namespaces;
  options.wide = ctx.output == "wide";
  options.kind_prefix = several_kinds || order.size() > 1;
  const auto now = ctx.io.now();
  for (size_t i = 0; i < order.size(); ++i) {
    if (i > 0) ctx.out() << "\n";
    ctx.out() << RenderTable(by_kind[order[i]], options, now);
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace ofn::cli

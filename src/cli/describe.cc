#include "cli/describe.h"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <set>

#include "cli/command.h"
#include "cli/table.h"
#include "common/encoding.h"

namespace ofn::cli {

namespace {

// Lines of "Key:  value" at an indentation; values line up within a run of
// consecutive lines at the same indentation, as kubectl's tabwriter does.
class Writer {
 public:
  void Line(int level, std::string key, std::string value) {
    lines_.push_back({level, std::move(key) + ":", std::move(value), true, false});
  }
  void Section(int level, std::string key) { lines_.push_back({level, std::move(key) + ":", "", false, false}); }
  void Raw(int level, std::string text) { lines_.push_back({level, std::move(text), "", false, false}); }

  // Any JSON value under `key`, recursively.
  void Value(int level, const std::string& key, const json& v) {
    if (v.is_object()) {
      if (v.empty()) return Line(level, key, "");
      Section(level, key);
      for (const auto& [k, sub] : v.items()) Value(level + 1, TitleCase(k), sub);
    } else if (v.is_array()) {
      bool scalars = std::all_of(v.begin(), v.end(), [](const json& e) { return !e.is_structured(); });
      if (scalars) {
        std::string joined;
        for (const json& e : v) joined += (joined.empty() ? "" : ", ") + Scalar(e);
        return Line(level, key, joined);
      }
      Section(level, key);
      for (const json& e : v) {
        if (!e.is_object()) {
          Raw(level + 1, "- " + Scalar(e));
          continue;
        }
        // An item's fields sit two columns right of the "- " that marks where
        // it starts, so what nests under them lines up too.
        const size_t start = lines_.size();
        for (const auto& [k, sub] : e.items()) Value(level + 2, TitleCase(k), sub);
        if (start < lines_.size()) lines_[start].dash = true;
      }
    } else {
      Line(level, key, Scalar(v));
    }
  }

  std::string Render() const {
    std::string out;
    for (size_t i = 0; i < lines_.size();) {
      if (!lines_[i].has_value) {
        out += Pad(lines_[i]) + lines_[i].key + "\n";
        ++i;
        continue;
      }
      size_t j = i, width = 0;
      while (j < lines_.size() && lines_[j].has_value && lines_[j].level == lines_[i].level) {
        width = std::max(width, lines_[j].key.size());
        ++j;
      }
      for (; i < j; ++i) {
        std::string line = Pad(lines_[i]) + lines_[i].key;
        if (!lines_[i].value.empty()) line += std::string(width - lines_[i].key.size() + 2, ' ') + lines_[i].value;
        out += line + "\n";
      }
    }
    return out;
  }

  static std::string Scalar(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "<nil>";
    return v.dump();
  }

 private:
  struct L {
    int level;
    std::string key, value;
    bool has_value;
    bool dash;  // the first line of an array item: "- " in the indentation's last two columns
  };
  static std::string Pad(const L& l) {
    std::string pad(static_cast<size_t>(l.level) * 2, ' ');
    if (l.dash && pad.size() >= 2) pad.replace(pad.size() - 2, 2, "- ");
    return pad;
  }
  std::vector<L> lines_;
};

std::string MapLines(const json* m, size_t indent) {
  if (!m || !m->is_object() || m->empty()) return "<none>";
  std::string s;
  for (const auto& [k, v] : m->items()) {
    if (!s.empty()) s += "\n" + std::string(indent, ' ');
    s += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s;
}

void FunctionSpec(Writer& w, const json& spec) {
  w.Section(0, "Spec");
  for (const char* key : {"version", "image", "imageCredentials", "workloadRuntime"}) {
    if (const json* v = Find(spec, {key})) w.Value(1, TitleCase(key), *v);
  }
  if (const json* build = Find(spec, {"build"})) {
    w.Section(1, "Build");
    for (const char* key : {"builder", "srcRepo", "dockerfile", "shipwright"}) {
      if (const json* v = Find(*build, {key})) w.Value(2, TitleCase(key), *v);
    }
  }
  if (const json* serving = Find(spec, {"serving"})) {
    w.Section(1, "Serving");
    for (const char* key : {"triggers", "outputs", "scaleOptions", "timeout", "params"}) {
      if (const json* v = Find(*serving, {key})) w.Value(2, TitleCase(key), *v);
    }
    // The function's container: where its command, env and limits live.
    if (const json* containers = Find(*serving, {"template", "containers"}); containers && containers->is_array()) {
      for (const json& c : *containers) {
        if (Str(c, {"name"}) != "function") continue;
        w.Section(2, "Function Container");
        for (const char* key : {"image", "command", "args", "workingDir", "env", "resources"}) {
          if (const json* v = Find(c, {key})) w.Value(3, TitleCase(key), *v);
        }
      }
    }
  }
}

void Phase(Writer& w, const json& status, const char* key) {
  const json* phase = Find(status, {key});
  if (!phase || !phase->is_object()) return;
  w.Section(1, TitleCase(key));
  // State, reason and message always, so an empty reason reads as "none".
  for (const char* k : {"state", "reason", "message"}) w.Line(2, TitleCase(k), Str(*phase, {k}));
  const std::set<std::string> first = {"state", "reason", "message", "replicas", "readyReplicas"};
  for (const char* k : {"replicas", "readyReplicas"}) {
    if (const json* v = Find(*phase, {k})) w.Value(2, TitleCase(k), *v);
  }
  for (const auto& [k, v] : phase->items()) {
    if (!first.count(k)) w.Value(2, TitleCase(k), v);
  }
}

void Conditions(Writer& w, const json& conditions) {
  w.Section(1, "Conditions");
  Table t({"Type", "Status", "Reason", "Message", "Last Transition Time"});
  for (const json& c : conditions) {
    // The events controller writes "timestamp" where Kubernetes has lastTransitionTime.
    std::string when = Str(c, {"lastTransitionTime"});
    if (when.empty()) when = Str(c, {"timestamp"});
    t.AddRow({Str(c, {"type"}), Str(c, {"status"}), Str(c, {"reason"}), Str(c, {"message"}), when});
  }
  std::string text = t.Render();
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    w.Raw(2, text.substr(start, nl - start));
    start = nl + 1;
  }
}

void StatusSection(Writer& w, const json& status, bool function) {
  w.Section(0, "Status");
  std::set<std::string> done;
  if (function) {
    Phase(w, status, "serving");
    Phase(w, status, "build");
    done = {"serving", "build"};
  }
  if (const json* addresses = Find(status, {"addresses"}); addresses && addresses->is_array()) {
    w.Section(1, "Addresses");
    for (const json& a : *addresses) w.Line(2, Str(a, {"type"}), Str(a, {"value"}));
    done.insert("addresses");
  }
  if (const json* conditions = Find(status, {"conditions"}); conditions && conditions->is_array()) {
    Conditions(w, *conditions);
    done.insert("conditions");
  }
  for (const auto& [k, v] : status.items()) {
    if (!done.count(k)) w.Value(1, TitleCase(k), v);
  }
}

// The counters of one stats item, in the API's order (JSON objects here sort
// their keys), then any the server added since.
void StatsEntry(Writer& w, const json& item, std::initializer_list<const char*> order,
                std::set<std::string> done = {}) {
  for (const char* k : order) {
    done.insert(k);
    if (const json* v = Find(item, {k})) w.Value(2, TitleCase(k), *v);
  }
  for (const auto& [k, v] : item.items()) {
    if (!done.count(k)) w.Value(2, TitleCase(k), v);
  }
}

// False (nothing written) when `stats` holds no items array.
bool StatsSection(Writer& w, const std::string& kind, const json& stats) {
  const json* items = stats.is_array() ? &stats : Find(stats, {"items"});
  if (!items || !items->is_array()) return false;
  if (kind == "EventSource") {
    w.Section(0, "Events");
    for (const json& e : *items) {
      if (!e.is_object()) continue;
      w.Section(1, Str(e, {"kind"}) + "/" + Str(e, {"event"}));
      StatsEntry(w, e, {"received", "published", "publishFailed", "delivered", "dropped", "rejected"},
                 {"kind", "event"});  // in the heading
    }
    if (items->empty()) w.Raw(1, "<none>");
  } else {
    w.Section(0, "Subscribers");
    for (size_t i = 0; i < items->size(); ++i) {
      const json& s = (*items)[i];
      if (!s.is_object()) continue;
      w.Section(1, std::to_string(i));
      StatsEntry(w, s,
                 {"condition", "destination", "received", "matched", "filtered", "invalid", "published", "delivered",
                  "retried", "deadLettered", "dropped", "inFlight"});
    }
    if (items->empty()) w.Raw(1, "<none>");
  }
  return true;
}

}  // namespace

std::string TitleCase(std::string_view key) {
  // Keys that are not field names (annotations, Knative settings, env names
  // with dots) are shown as written.
  if (key.find_first_of("./") != std::string_view::npos) return std::string(key);
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    // A new word at a lower→Upper change, or at the last capital of a run ("HTTPPort" → HTTP Port).
    bool next_lower = i + 1 < key.size() && std::islower(static_cast<unsigned char>(key[i + 1]));
    bool prev_lower = i > 0 && !std::isupper(static_cast<unsigned char>(key[i - 1]));
    if (!cur.empty() && upper && (prev_lower || next_lower)) {
      words.push_back(cur);
      cur.clear();
    }
    if (c == '_' || c == '-') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) words.push_back(cur);
  std::string out;
  for (std::string& w : words) {
    std::string lower;
    for (char c : w) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "uid" || lower == "url" || lower == "id" || lower == "api" || lower == "http" || lower == "uri" ||
        lower == "ip" || lower == "tls" || lower == "cpu") {
      for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else {
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    }
    if (!out.empty()) out += " ";
    out += w;
  }
  return out;
}

std::string Describe(const json& obj, SysTime now, const json& stats) {
  Writer w;
  const json empty = json::object();
  const json* md = Find(obj, {"metadata"});
  if (!md) md = &empty;
  w.Line(0, "Name", Str(*md, {"name"}));
  if (Find(*md, {"namespace"})) w.Line(0, "Namespace", Str(*md, {"namespace"}));
  // Multi-line values continue under the value column ("Annotations:  " is 14 wide).
  w.Line(0, "Labels", MapLines(Find(*md, {"labels"}), 14));
  w.Line(0, "Annotations", MapLines(Find(*md, {"annotations"}), 14));
  w.Line(0, "API Version", Str(obj, {"apiVersion"}));
  w.Line(0, "Kind", Str(obj, {"kind"}));
  w.Section(0, "Metadata");
  if (const json* ts = Find(*md, {"creationTimestamp"})) {
    std::string created = Writer::Scalar(*ts);
    std::string age = AgeSince(created, now);
    if (age != "<unknown>") created += " (" + age + " ago)";
    w.Line(1, "Creation Timestamp", created);
  }
  for (const char* key : {"generation", "resourceVersion", "uid"}) {
    if (const json* v = Find(*md, {key})) w.Value(1, TitleCase(key), *v);
  }
  const bool function = Str(obj, {"kind"}) == "Function";
  if (const json* spec = Find(obj, {"spec"}); spec && spec->is_object()) {
    if (function) {
      FunctionSpec(w, *spec);
    } else {
      w.Value(0, "Spec", *spec);
    }
  }
  if (const json* status = Find(obj, {"status"}); status && status->is_object() && !status->empty()) {
    StatusSection(w, *status, function);
  }
  const std::string kind = Str(obj, {"kind"});
  const bool has_stats = (kind == "EventSource" || kind == "Trigger") && StatsSection(w, kind, stats);
  // kubectl's closing "Events:" (Kubernetes events, which Ofn has none of);
  // an EventSource's own "Events:" section above takes its place.
  if (!(has_stats && kind == "EventSource")) w.Line(0, "Events", "<none>");
  return w.Render();
}

namespace {

// The live counts of an EventSource or Trigger; null for other kinds or when
// the call fails in any way (an older server has no such endpoint), so that
// describe still prints the rest without an error.
json EventStats(Context& ctx, const json& obj) {
  const std::string kind = Str(obj, {"kind"});
  if (kind != "EventSource" && kind != "Trigger") return nullptr;
  const std::string target = "/v1/events/stats/" + std::string(kind == "EventSource" ? "eventsources" : "triggers") +
                             "/" + enc::PercentEncode(Str(obj, {"metadata", "namespace"})) + "/" +
                             enc::PercentEncode(Str(obj, {"metadata", "name"}));
  Result<HttpReply> reply = ctx.api->Do("GET", target, "", {}, std::chrono::seconds(10));
  if (!reply.ok() || reply->status / 100 != 2) return nullptr;
  json body = json::parse(reply->body, nullptr, false);
  return body.is_discarded() ? json(nullptr) : body;
}

}  // namespace

int DescribeVerb(Context& ctx) {
  const auto& pos = ctx.args.positionals;
  if (pos.empty()) {
    ctx.err() << "error: you must specify the type of resource to describe\n"
              << "See 'ofn describe --help' for usage.\n";
    return kExitUsage;
  }
  std::string type = pos[0];
  std::vector<std::string> names(pos.begin() + 1, pos.end());
  if (size_t slash = type.find('/'); slash != std::string::npos) {
    names.insert(names.begin(), type.substr(slash + 1));
    type = type.substr(0, slash);
  }
  const api::KindName* kind = api::LookupKind(type);
  if (!kind) {
    ctx.err() << "error: the server doesn't have a resource type \"" << type << "\"\n";
    return kExitFailed;
  }
  std::vector<json> objects;
  bool failed = false;
  // No name: every object of the kind, as kubectl does.
  if (names.empty()) {
    std::string target = "/v1/objects?kind=" + std::string(kind->kind);
    if (!ctx.all_namespaces && kind->namespaced) target += "&namespace=" + enc::PercentEncode(ctx.ns);
    int code = kExitFailed;
    std::optional<HttpReply> reply = CallApi(ctx, "GET", target, "", {}, std::chrono::seconds(30), &code);
    if (!reply) return code;
    if (reply->status / 100 != 2) return ReportApiError(ctx, *reply);
    std::optional<json> body = ParseBody(ctx, *reply);
    if (!body) return kExitFailed;
    if (const json* items = Find(*body, {"items"}); items && items->is_array()) {
      for (const json& o : *items) objects.push_back(o);
    }
    if (objects.empty()) {
      ctx.err() << "No resources found in " << ctx.ns << " namespace.\n";
      return kExitOk;
    }
  }
  for (const std::string& name : names) {
    int code = kExitFailed;
    std::optional<HttpReply> reply =
        CallApi(ctx, "GET", ObjectPath(kind->kind, ctx.ns, name), "", {}, std::chrono::seconds(30), &code);
    if (!reply) return code;
    if (reply->status / 100 != 2) {
      ReportApiError(ctx, *reply);
      failed = true;
      continue;
    }
    std::optional<json> body = ParseBody(ctx, *reply);
    if (!body) return kExitFailed;
    objects.push_back(std::move(*body));
  }
  const auto now = ctx.io.now();
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) ctx.out() << "\n\n";  // kubectl separates objects with a blank line
    ctx.out() << Describe(objects[i], now, EventStats(ctx, objects[i]));
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace ofn::cli

#include "cli/cli.h"

#include <algorithm>
#include <iostream>

#include "cli/command.h"

#ifndef OFN_VERSION
#define OFN_VERSION "0.1.0"  // keep in step with project(VERSION) in the top CMakeLists.txt
#endif

namespace ofn::cli {

namespace {

struct Verb {
  const char* name;
  const char* usage;    // after "ofn "
  const char* summary;  // one line for `ofn --help`
  const char* details;  // examples and notes for `ofn VERB --help`
  std::vector<flags::FlagSpec> flags;
  int (*run)(Context&);
};

int VersionVerb(Context& ctx);

std::vector<flags::FlagSpec> GlobalFlags() {
  return {
      {"data-dir", 0, flags::FlagType::kValue, "DIR",
       "the server's data directory, where its socket ofn.sock is\n"
       "                         (default: $OFN_DATA_DIR, else $XDG_DATA_HOME/ofn or ~/.local/share/ofn)",
       ""},
      {"server", 's', flags::FlagType::kValue, "URL", "reach the server over TCP instead: http://HOST:PORT", ""},
      {"token", 0, flags::FlagType::kValue, "TOKEN", "bearer token for --server (default: $OFN_TOKEN, else DATA_DIR/token)",
       ""},
      {"namespace", 'n', flags::FlagType::kValue, "NS", "the namespace", "default"},
      {"all-namespaces", 'A', flags::FlagType::kBool, "", "every namespace", ""},
      {"output", 'o', flags::FlagType::kValue, "FORMAT", "output format: wide, yaml, json or name", ""},
      {"help", 'h', flags::FlagType::kBool, "", "help for the command", ""},
  };
}

const std::vector<Verb>& Verbs() {
  static const std::vector<Verb> verbs = {
      {"apply", "apply -f FILE|DIR|- [-f ...] [--dry-run]", "Create or update objects from manifests",
       "Sends each manifest (YAML or JSON, several documents per file) to the server, which validates all of a\n"
       "file's documents before storing any. A directory means its *.yaml, *.yml and *.json files, sorted;\n"
       "'-' reads stdin. Fields Ofn does not act on yet are kept and listed.\n\n"
       "Examples:\n  ofn apply -f hello.yaml\n  ofn apply -f functions/ --dry-run\n  cat fn.yaml | ofn apply -f -\n",
       {{"filename", 'f', flags::FlagType::kList, "FILE", "a manifest file, a directory of them, or - for stdin", ""},
        {"dry-run", 0, flags::FlagType::kBool, "", "validate only; store nothing", ""}},
       &ApplyVerb},
      {"create", "create -f FILE|DIR|- [--dry-run]", "Create objects from manifests (fails if one exists)",
       "As apply, but an object that already exists is an error.\n",
       {{"filename", 'f', flags::FlagType::kList, "FILE", "a manifest file, a directory of them, or - for stdin", ""},
        {"dry-run", 0, flags::FlagType::kBool, "", "validate only; store nothing", ""}},
       &ApplyVerb},
      {"build", "build NAME... | build -f FILE|DIR|- [--cancel]", "Build functions' images from their spec.build",
       "Makes sure each function's image is built from its spec.build and prints the build log as it is written,\n"
       "then the result. A build in progress is followed, not restarted; otherwise the function is built again\n"
       "(a source that did not change is a cache hit). With -f, the manifests are applied first (as apply does)\n"
       "and every function in them that has a spec.build is followed. --cancel stops the functions' builds.\n"
       "Exit 0 when every build succeeded, 1 otherwise.\n\n"
       "Examples:\n  ofn build hello\n  ofn build -f hello.yaml\n  ofn build hello --cancel\n",
       {{"filename", 'f', flags::FlagType::kList, "FILE", "apply these manifests first, then build their functions", ""},
        {"cancel", 0, flags::FlagType::kBool, "", "cancel the builds instead", ""},
        {"quiet", 'q', flags::FlagType::kBool, "", "print the result only, not the build log", ""}},
       &BuildVerb},
      {"get", "get [TYPE[,TYPE...]] [NAME...] [-o wide|yaml|json|name]", "List objects, or show some",
       "TYPE is a kind, its plural or short name: function (fn), gateway (gw), component, eventsource (es),\n"
       "eventbus (eb), clustereventbus (ceb), trigger. No TYPE lists every kind.\n\n"
       "Examples:\n  ofn get fn\n  ofn get fn hello -o yaml\n  ofn get -A\n  ofn get gw/default\n"
       "  ofn get eventsources,triggers -o wide\n",
       {},
       &GetVerb},
      {"describe", "describe TYPE [NAME...]", "Show an object's details and status",
       "For an EventSource or a Trigger, the server's live counts follow the status: per event, or per\n"
       "subscriber (received, matched, delivered, retried, dead-lettered, ...).\n\n"
       "Examples:\n  ofn describe fn hello\n  ofn describe trigger my-trigger\n", {}, &DescribeVerb},
      {"delete", "delete TYPE NAME... | TYPE/NAME... | -f FILE", "Delete objects (and stop their instances)",
       "Examples:\n  ofn delete fn hello\n  ofn delete -f hello.yaml\n",
       {{"filename", 'f', flags::FlagType::kList, "FILE", "delete the objects a manifest names", ""},
        {"ignore-not-found", 0, flags::FlagType::kBool, "", "an object that does not exist is not an error", ""}},
       &DeleteVerb},
      {"logs", "logs NAME [-f] [--instance ID | --build]", "Print a function instance's log, or its build's",
       "Without --instance, the newest instance's. With -f, keeps printing until Ctrl-C, moving to a newer\n"
       "instance when one starts. --build prints the function's latest build log instead (with -f, until the\n"
       "build ends).\n\nExamples:\n  ofn logs hello\n  ofn logs hello -f\n  ofn logs hello --build -f\n",
       {{"follow", 'f', flags::FlagType::kBool, "", "keep printing what is written", ""},
        {"instance", 0, flags::FlagType::kValue, "ID", "this instance (see X-Ofn-Instances / describe)", ""},
        {"build", 0, flags::FlagType::kBool, "", "the latest build's log", ""}},
       &LogsVerb},
      {"invoke", "invoke NAME [--data STR | --data-file F] [--cloudevent TYPE] [-H 'K: V']...",
       "Call a function at its address",
       "Calls the function's Internal address (else its first), with POST when there is data or a CloudEvent,\n"
       "GET otherwise, and prints the body. Exit 0 on a 2xx answer, 1 otherwise.\n\n"
       "Examples:\n  ofn invoke hello\n  ofn invoke hello --data '{\"name\":\"Ofn\"}'\n"
       "  ofn invoke sink --cloudevent com.example.ping --data '{}'\n",
       {{"data", 'd', flags::FlagType::kValue, "STR", "the request body", ""},
        {"data-file", 0, flags::FlagType::kValue, "FILE", "the request body from a file (- for stdin)", ""},
        {"method", 'X', flags::FlagType::kValue, "METHOD", "the HTTP method (default: POST with data, else GET)", ""},
        {"path", 0, flags::FlagType::kValue, "PATH", "appended to the function's address (may hold a ?query)", ""},
        {"header", 'H', flags::FlagType::kList, "'K: V'", "a request header (repeatable)", ""},
        {"cloudevent", 0, flags::FlagType::kValue, "TYPE", "send a binary-mode CloudEvent of this type", ""},
        {"source", 0, flags::FlagType::kValue, "S", "the CloudEvent's source", "ofn-cli"},
        {"id", 0, flags::FlagType::kValue, "ID", "the CloudEvent's id (default: a random UUID)", ""},
        {"timeout", 0, flags::FlagType::kValue, "DURATION", "give up after this long (30s, 500ms)", "60s"},
        {"verbose", 'v', flags::FlagType::kBool, "", "print the status line and headers on stderr", ""}},
       &InvokeVerb},
      {"events", "events tail TOPIC [--bus NAME] [--max N] [--timeout DURATION]",
       "Print the events arriving on a topic of an event bus",
       "Opens a watch of TOPIC on the event bus --bus (an EventBus in the namespace, else the ClusterEventBus of\n"
       "that name) as a new subscriber, and prints each event it gets as one line of JSON (a CloudEvent as the\n"
       "bus carries it), until Ctrl-C, --max events or --timeout. It shows what arrives from now on the\n"
       "embedded bus and Kafka; Redis Streams and JetStream buses start with what they retain. An EventSource's topics are in the TOPICS column of\n"
       "'ofn get eventsources -o wide' (NAMESPACE-SOURCE-EVENT). Exit 0 when it ends that way; 1 when the watch\n"
       "is lost, or when --timeout comes before --max events.\n\n"
       "Examples:\n  ofn events tail default-my-source-push\n"
       "  ofn events tail default-my-source-push --bus nats --max 1 --timeout 30s\n"
       "  ofn events tail prod-orders-created -n prod | jq .data\n",
       {{"bus", 0, flags::FlagType::kValue, "NAME", "the EventBus or ClusterEventBus", "default"},
        {"max", 0, flags::FlagType::kValue, "N", "stop after N events", ""},
        {"timeout", 0, flags::FlagType::kValue, "DURATION", "stop after this long (30s, 2m)", ""}},
       &EventsVerb},
      {"version", "version [--client]", "Print the client's and the server's versions", "",
       {{"client", 0, flags::FlagType::kBool, "", "the client's version only", ""}},
       &VersionVerb},
  };
  return verbs;
}

const Verb* FindVerb(std::string_view name) {
  for (const Verb& v : Verbs()) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

void MainHelp(std::ostream& os) {
  os << "ofn: OpenFunction on one machine.\n\nUsage:\n  ofn VERB [flags]\n\nVerbs:\n";
  for (const Verb& v : Verbs()) os << "  " << v.name << std::string(11 - std::string_view(v.name).size(), ' ')
                                   << v.summary << "\n";
  os << "  server     Run the platform (ofn server --help)\n";
  os << "\nGlobal flags (before or after the verb):\n" << flags::FlagsHelp(GlobalFlags());
  os << "\nExit codes: 0 ok, 1 a request failed or bad input, 2 usage error, 3 the server is not running.\n"
        "Use 'ofn VERB --help' for more about a verb.\n";
}

void VerbHelp(std::ostream& os, const Verb& v) {
  os << v.summary << ".\n\nUsage:\n  ofn " << v.usage << "\n";
  if (*v.details) os << "\n" << v.details;
  if (!v.flags.empty()) os << "\nFlags:\n" << flags::FlagsHelp(v.flags);
  os << "\nGlobal flags:\n" << flags::FlagsHelp(GlobalFlags());
}

int VersionVerb(Context& ctx) {
  const bool structured = ctx.output == "json" || ctx.output == "yaml";
  json v = {{"clientVersion", OFN_VERSION}};
  if (!structured) ctx.out() << "Client Version: " << OFN_VERSION << "\n";
  if (ctx.args.GetBool("client")) {
    if (structured) PrintStructured(ctx, v);
    return kExitOk;
  }
  int code = kExitOk;
  std::optional<HttpReply> reply = CallApi(ctx, "GET", "/v1/version", "", {}, std::chrono::seconds(10), &code);
  if (reply && reply->status / 100 == 2) {
    json server = json::parse(reply->body, nullptr, false);
    std::string sv = server.is_object() ? Str(server, {"version"}) : "";
    v["serverVersion"] = sv;
    if (server.is_object()) {
      for (const char* k : {"gateway", "dataDir"}) {
        if (server.contains(k)) v[k] = server[k];
      }
    }
    if (!structured) {
      ctx.out() << "Server Version: " << sv << "\n";
      if (server.is_object() && server.contains("gateway")) ctx.out() << "Gateway: " << Str(server, {"gateway"}) << "\n";
    }
  } else if (reply) {
    code = ReportApiError(ctx, *reply);
  }
  if (structured) PrintStructured(ctx, v);
  return code;
}

// The index of the verb in args: the first word that is not a global flag or a
// global flag's value. args.size() if none.
size_t VerbIndex(const std::vector<std::string>& args, const std::vector<flags::FlagSpec>& globals) {
  auto takes_value = [&](auto match) {
    for (const flags::FlagSpec& g : globals) {
      if (match(g)) return g.type != flags::FlagType::kBool;
    }
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return i + 1 < args.size() ? i + 1 : args.size();
    if (a.size() < 2 || a[0] != '-') return i;
    if (a[1] == '-') {
      if (a.find('=') == std::string::npos && takes_value([&](const flags::FlagSpec& g) { return a.substr(2) == g.name; })) {
        ++i;  // skip its value
      }
      continue;
    }
    // A short group (-An): the first flag taking a value takes the rest of the
    // word, or the next word when it ends the group.
    for (size_t j = 1; j < a.size(); ++j) {
      if (takes_value([&](const flags::FlagSpec& g) { return g.shorthand == a[j]; })) {
        if (j + 1 == a.size()) ++i;
        break;
      }
    }
  }
  return args.size();
}

}  // namespace

int Run(const std::vector<std::string>& args, Io& io, const ServerEntry& server) {
  const std::vector<flags::FlagSpec> globals = GlobalFlags();
  const size_t vi = VerbIndex(args, globals);
  std::vector<std::string> rest(args.begin(), args.begin() + static_cast<long>(std::min(vi, args.size())));
  if (vi < args.size()) rest.insert(rest.end(), args.begin() + static_cast<long>(vi) + 1, args.end());
  std::string verb_name = vi < args.size() ? args[vi] : "";

  if (verb_name == "server") {
    if (!server) {
      *io.err << "error: this ofn was built without the server\n";
      return kExitFailed;
    }
    // argv for the server: "server", then every other argument in order.
    std::vector<std::string> owned = {"server"};
    owned.insert(owned.end(), rest.begin(), rest.end());
    std::vector<char*> argv;
    for (std::string& s : owned) argv.push_back(s.data());
    argv.push_back(nullptr);
    return server(static_cast<int>(owned.size()), argv.data());
  }
  if (verb_name == "help") {
    const Verb* v = rest.empty() ? nullptr : FindVerb(rest.back());
    if (v) {
      VerbHelp(*io.out, *v);
    } else {
      MainHelp(*io.out);
    }
    return kExitOk;
  }
  if (verb_name.empty()) {
    Result<flags::ParsedArgs> parsed = flags::ParseFlags(rest, globals);
    if (!parsed.ok()) {
      *io.err << "error: " << parsed.status().message() << "\nRun 'ofn --help' for usage.\n";
      return kExitUsage;
    }
    MainHelp(*io.out);
    return kExitOk;
  }
  const Verb* verb = FindVerb(verb_name);
  if (!verb) {
    *io.err << "error: unknown command \"" << verb_name << "\" for \"ofn\"\nRun 'ofn --help' for usage.\n";
    return kExitUsage;
  }
  std::vector<flags::FlagSpec> specs = verb->flags;
  for (const flags::FlagSpec& g : globals) {
    // A verb's own flag wins over a global one with the same letter (logs -f, invoke -v).
    bool clash = std::any_of(specs.begin(), specs.end(), [&](const flags::FlagSpec& s) {
      return s.name == g.name || (g.shorthand && s.shorthand == g.shorthand);
    });
    if (!clash) specs.push_back(g);
  }
  Result<flags::ParsedArgs> parsed = flags::ParseFlags(rest, specs);
  if (!parsed.ok()) {
    *io.err << "error: " << parsed.status().message() << "\nSee 'ofn " << verb->name << " --help' for usage.\n";
    return kExitUsage;
  }
  if (parsed->GetBool("help")) {
    VerbHelp(*io.out, *verb);
    return kExitOk;
  }

  Context ctx{io, std::move(parsed).value(), verb->name};
  auto env = [&](const char* name) -> std::string {
    const char* v = io.getenv ? io.getenv(name) : nullptr;
    return v ? v : "";
  };
  ctx.data_dir = ResolveDataDir(ctx.args.Get("data-dir"), io.getenv ? io.getenv : GetEnvFn(std::getenv));
  ctx.ns_given = ctx.args.Has("namespace");
  ctx.ns = ctx.args.Get("namespace", "default");
  if (ctx.ns.empty()) ctx.ns = "default";
  ctx.all_namespaces = ctx.args.GetBool("all-namespaces");
  ctx.output = ctx.args.Get("output");
  static const char* const kOutputs[] = {"", "wide", "yaml", "json", "name"};
  if (std::find(std::begin(kOutputs), std::end(kOutputs), ctx.output) == std::end(kOutputs)) {
    *io.err << "error: unable to match a printer suitable for the output format \"" << ctx.output
            << "\", allowed formats are: json,name,wide,yaml\n";
    return kExitUsage;
  }
  ApiOptions api;
  api.data_dir = ctx.data_dir;
  api.server_url = ctx.args.Get("server");
  api.token = ctx.args.Get("token", env("OFN_TOKEN"));
  Result<ApiClient> client = ApiClient::Create(api);
  if (!client.ok()) {
    *io.err << "error: " << client.status().message() << "\n";
    return kExitUsage;
  }
  ctx.api = std::move(client).value();
  return verb->run(ctx);
}

int Main(int argc, char** argv, const ServerEntry& server) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  Io io;
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  int code = Run(args, io, server);
  std::cout.flush();
  std::cerr.flush();
  return code;
}

}  // namespace ofn::cli

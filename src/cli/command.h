// What every verb gets (Context) and the helpers they share: reaching the API,
// turning its answers into kubectl-style messages and exit codes, printing
// objects as YAML or JSON. Internal to the CLI.
//
// A Context lives for one verb on one thread; not thread-safe.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/client.h"
#include "common/flags.h"
#include "api/kinds.h"

namespace ofn::cli {

using nlohmann::json;

struct Context {
  Io& io;
  flags::ParsedArgs args;             // the verb's flags and the global ones
  std::string verb;
  std::string data_dir;        // resolved
  std::string ns = "default";  // -n, or "default"
  bool ns_given = false;       // -n was given (apply passes it on)
  bool all_namespaces = false; // -A
  std::string output;          // -o: "", "wide", "yaml", "json", "name"
  std::optional<ApiClient> api;

  std::ostream& out() { return *io.out; }
  std::ostream& err() { return *io.err; }
};

// A request to the API. On a transport failure it prints the error (the
// not-running message for UNAVAILABLE) and sets *exit_code (3 or 1).
std::optional<HttpReply> CallApi(Context& ctx, std::string_view method, std::string_view target,
                                 std::string body = "", Headers headers = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                 int* exit_code = nullptr);

// Prints an API error answer kubectl's way ("Error from server (NotFound):
// ..."; validation errors one per line, as the API wrote them). Returns 1.
int ReportApiError(Context& ctx, const HttpReply& reply);
// The API's one-line error ("error" field, else the body).
std::string ApiErrorText(const HttpReply& reply);

// The JSON body of a 2xx answer; prints and returns nullopt when it is not JSON.
std::optional<json> ParseBody(Context& ctx, const HttpReply& reply);

// "/v1/objects/Function/default/hello", each segment percent-encoded.
std::string ObjectPath(std::string_view kind, std::string_view ns, std::string_view name);

// "function/hello" -> ("function", "hello"). False (after printing kubectl's
// message) unless the argument is exactly a non-empty resource and name.
bool SplitResourceName(Context& ctx, const std::string& arg, std::string* resource, std::string* name);

// "function.core.openfunction.io/hello" for an object.
std::string ObjectName(const json& obj);

// Prints one object, or a kubectl `kind: List` of them, as -o yaml / -o json.
void PrintStructured(Context& ctx, const json& value);
json AsList(std::vector<json> items);

// A string field by JSON pointer-ish path ("status", "serving", "state"); "" if absent.
std::string Str(const json& obj, std::initializer_list<std::string_view> path);
const json* Find(const json& obj, std::initializer_list<std::string_view> path);

// The verbs.
int ApplyVerb(Context& ctx);   // apply and create (ctx.verb says which)
// What apply does with -f, also collecting the server's result for each
// object (kind, namespace, name, action) in *applied when given.
int ApplyManifests(Context& ctx, std::vector<json>* applied);
int BuildVerb(Context& ctx);
// The function's latest build log from its start (printed unless !print);
// with `follow`, until the build ends. kExitOk, or the exit code after
// printing the error.
int PrintBuildLog(Context& ctx, const std::string& name, bool follow, bool print = true);
int GetVerb(Context& ctx);
int DescribeVerb(Context& ctx);
int DeleteVerb(Context& ctx);
int LogsVerb(Context& ctx);
int InvokeVerb(Context& ctx);
int EventsVerb(Context& ctx);  // events tail

}  // namespace ofn::cli

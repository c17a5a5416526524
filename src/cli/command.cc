#include "cli/command.h"

#include <ostream>

#include "cli/yaml_output.h"
#include "common/encoding.h"

namespace ofn::cli {

std::optional<HttpReply> CallApi(Context& ctx, std::string_view method, std::string_view target, std::string body,
                                 Headers headers, std::chrono::milliseconds timeout, int* exit_code) {
  Result<HttpReply> r = ctx.api->Do(method, target, std::move(body), std::move(headers), timeout);
  if (r.ok()) return std::move(r).value();
  int code = kExitFailed;
  if (r.status().code() == StatusCode::kUnavailable) {
    ctx.err() << ctx.api->NotRunningMessage() << "\n";
    code = kExitNotRunning;
  } else {
    ctx.err() << "error: " << r.status().message() << "\n";
  }
  if (exit_code) *exit_code = code;
  return std::nullopt;
}

namespace {

std::string_view KubeReason(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "AlreadyExists";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
  }
}

}  // namespace

std::string ApiErrorText(const HttpReply& reply) {
  json j = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  std::string_view body = enc::Trim(reply.body);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  if (!body.empty()) return std::string(body);
  return "HTTP " + std::to_string(reply.status) + " " + std::string(ReasonPhrase(reply.status));
}

int ReportApiError(Context& ctx, const HttpReply& reply) {
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    // Validation: each line already says "file:line: field.path: message".
    for (const json& e : j["errors"]) ctx.err() << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
    return kExitFailed;
  }
  if (reply.status == 401) {
    ctx.err() << "error: the server asks for a valid token (401): give --token or set OFN_TOKEN\n";
    return kExitFailed;
  }
  std::string_view reason = KubeReason(reply.status);
  ctx.err() << "Error from server";
  if (!reason.empty()) ctx.err() << " (" << reason << ")";
  ctx.err() << ": " << ApiErrorText(reply) << "\n";
  return kExitFailed;
}

std::optional<json> ParseBody(Context& ctx, const HttpReply& reply) {
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    ctx.err() << "error: the server's answer is not JSON (HTTP " << reply.status << ")\n";
    return std::nullopt;
  }
  return j;
}

std::string ObjectPath(std::string_view kind, std::string_view ns, std::string_view name) {
  return "/v1/objects/" + enc::PercentEncode(kind) + "/" + enc::PercentEncode(ns) + "/" + enc::PercentEncode(name);
}

std::string ObjectName(const json& obj) {
  return api::QualifiedResource(Str(obj, {"apiVersion"}), Str(obj, {"kind"})) + "/" + Str(obj, {"metadata", "name"});
}

void PrintStructured(Context& ctx, const json& value) {
  if (ctx.output == "json") {
    ctx.out() << value.dump(4, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    ctx.out() << ToYaml(value);
  }
}

json AsList(std::vector<json> items) {
  json list = json::object();
  list["apiVersion"] = "v1";
  list["kind"] = "List";
  list["items"] = json(std::move(items));
  list["metadata"] = {{"resourceVersion", ""}};
  return list;
}

const json* Find(const json& obj, std::initializer_list<std::string_view> path) {
  const json* cur = &obj;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string Str(const json& obj, std::initializer_list<std::string_view> path) {
  const json* v = Find(obj, path);
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

bool SplitResourceName(Context& ctx, const std::string& arg, std::string* resource, std::string* name) {
  size_t slash = arg.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size()) {
    ctx.err() << "error: arguments in resource/name form must have a single resource and name\n";
    return false;
  }
  *resource = arg.substr(0, slash);
  *name = arg.substr(slash + 1);
  return true;
}

}  // namespace ofn::cli

#include "framework/output_sender.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <utility>

#include "common/encoding.h"

namespace ofn {
namespace {

using Json = nlohmann::json;

std::string Clip(std::string_view s, size_t max = 512) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

// `bindings.kafka "kafka-server"`: how errors name the component.
std::string Describe(const Component& c) { return c.component_type + " \"" + c.component_name + "\""; }

// Maps a failed HTTP answer to the closest status code; the message keeps the
// HTTP status and body so nothing the server said is lost.
Status HttpFailure(const std::string& what, const net::ClientResponse& r) {
  std::string msg = what + ": HTTP " + std::to_string(r.status);
  if (!r.body.empty()) msg += ": " + Clip(r.body);
  switch (r.status) {
    case 400: return Status::InvalidArgument(msg);
    case 401: return Status::Unauthenticated(msg);
    case 403: return Status::PermissionDenied(msg);
    case 404: return Status::NotFound(msg);
    case 408:
    case 504: return Status::DeadlineExceeded(msg);
    case 429: return Status::ResourceExhausted(msg);
    default: break;
  }
  if (r.status >= 500) return Status::Unavailable(msg);
  return Status::FailedPrecondition(msg);
}

Status Prefixed(const std::string& prefix, const Status& s) { return Status(s.code(), prefix + ": " + s.message()); }

bool IsSuccess(int status) { return status >= 200 && status < 300; }

const char* SniffContentType(std::string_view data) {
  return Json::accept(data) ? "application/json" : "text/plain";
}

bool IsHttpUrl(std::string_view s) { return s.size() >= 7 && enc::ToLower(s.substr(0, 7)) == "http://"; }

// Dapr's HTTP binding: `path` is joined to the URL's path with exactly one slash.
std::string JoinPath(const net::ParsedUrl& base, std::string_view path) {
  std::string_view target = base.target;
  size_t q = target.find('?');
  std::string_view base_path = target.substr(0, q);
  std::string_view base_query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  while (!base_path.empty() && base_path.back() == '/') base_path.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out = std::string(base_path) + "/";
  size_t pq = path.find('?');
  out += path.substr(0, pq);
  std::string query(base_query);
  if (pq != std::string_view::npos) {
    std::string_view extra = path.substr(pq + 1);
    query += (query.empty() || extra.empty() ? "" : "&") + std::string(extra);
  }
  if (!query.empty()) out += "?" + query;
  return out;
}

Result<std::string> MethodFor(std::string_view operation) {
  std::string op = enc::ToLower(operation);
  if (op.empty() || op == "create" || op == "post") return std::string("POST");
  if (op == "get") return std::string("GET");
  if (op == "put") return std::string("PUT");
  if (op == "delete") return std::string("DELETE");
  if (op == "patch") return std::string("PATCH");
  if (op == "head") return std::string("HEAD");
  return Status::InvalidArgument("unsupported operation \"" + Clip(operation, 64) +
                                 "\" (expected create, post, get, put, delete, patch or head)");
}

// A topic may contain '/' (Dapr takes the rest of the path); every other
// reserved character is escaped.
std::string EncodeTopic(std::string_view topic) {
  std::string out;
  for (;;) {
    size_t slash = topic.find('/');
    out += enc::PercentEncode(topic.substr(0, slash));
    if (slash == std::string_view::npos) break;
    out += '/';
    topic.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

HttpOutputSender::HttpOutputSender(std::string dapr_host, int dapr_http_port, std::string api_token)
    : dapr_host_(std::move(dapr_host)), dapr_http_port_(dapr_http_port), api_token_(std::move(api_token)) {}

std::unique_ptr<HttpOutputSender> HttpOutputSender::FromEnv() {
  const char* host = std::getenv("DAPR_HOST");
  const char* port_text = std::getenv("DAPR_HTTP_PORT");
  const char* token = std::getenv("DAPR_API_TOKEN");
  int port = 3500;
  if (port_text != nullptr && *port_text != '\0') {
    char* end = nullptr;
    long p = std::strtol(port_text, &end, 10);
    if (*end == '\0' && p >= 1 && p <= 65535) port = static_cast<int>(p);
  }
  return std::make_unique<HttpOutputSender>(host != nullptr && *host != '\0' ? host : "127.0.0.1", port,
                                            token != nullptr ? token : "");
}

std::string HttpOutputSender::DaprBase() const {
  bool v6 = dapr_host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + dapr_host_ + "]" : dapr_host_) + ":" + std::to_string(dapr_http_port_);
}

Result<std::string> HttpOutputSender::Send(const Component& out, std::string_view data) {
  // A bindings.http output that carries its own URL is called directly (no
  // sidecar needed); one that names a Component goes through the Dapr API,
  // where the component's metadata (url, timeouts, tokens) lives.
  if (out.component_type == "bindings.http") {
    bool own_url = out.metadata.count("url") > 0 || IsHttpUrl(out.uri) ||
                   enc::ToLower(out.uri.substr(0, std::min<size_t>(out.uri.size(), 8))) == "https://";
    if (own_url) return SendHttpBinding(out, data);
  }
  std::string_view block = out.building_block();
  if (block == "bindings") return SendDaprBinding(out, data);
  if (block == "pubsub") return Publish(out, data);
  return Status::InvalidArgument(Describe(out) + ": unsupported component type (expected bindings.* or pubsub.*)");
}

Result<std::string> HttpOutputSender::SendHttpBinding(const Component& out, std::string_view data) {
  const std::string who = Describe(out);
  auto url_it = out.metadata.find("url");
  std::string url = url_it != out.metadata.end() ? url_it->second : out.uri;
  if (!IsHttpUrl(url)) {
    return Status::InvalidArgument(who + ": no http:// URL to call (set metadata \"url\" or the output's uri" +
                                   (url.empty() ? std::string(")") : "; got \"" + Clip(url, 200) + "\")"));
  }
  auto parsed = net::ParseUrl(url);
  if (!parsed.ok()) return Prefixed(who, parsed.status());
  if (auto p = out.metadata.find("path"); p != out.metadata.end()) parsed->target = JoinPath(*parsed, p->second);
  auto method = MethodFor(out.operation);
  if (!method.ok()) return Prefixed(who, method.status());

  net::ClientRequest req;
  req.method = *method;
  req.url = "http://" + parsed->HostHeader() + parsed->target;
  req.timeout = timeout_;
  bool has_content_type = false;
  for (const auto& [k, v] : out.metadata) {
    std::string lower = enc::ToLower(k);
    if (lower == "url" || lower == "path") continue;
    if (lower == "content-type") has_content_type = true;
    req.headers.emplace_back(k, v);
  }
  if (!has_content_type && !data.empty()) req.headers.emplace_back("Content-Type", SniffContentType(data));
  req.body = std::string(data);

  auto resp = client_.Do(req);
  if (!resp.ok()) return Prefixed(who + ": " + req.method + " " + req.url, resp.status());
  if (!IsSuccess(resp->status)) return HttpFailure(who + ": " + req.method + " " + req.url, *resp);
  return std::move(resp->body);
}

Result<std::string> HttpOutputSender::SendDaprBinding(const Component& out, std::string_view data) {
  const std::string who = Describe(out);
  if (out.component_name.empty()) return Status::InvalidArgument(who + ": componentName is empty");
  Json body = Json::object();
  if (Json::accept(data)) {
    body["data"] = Json::parse(data);
  } else if (enc::IsValidUtf8(data)) {
    body["data"] = std::string(data);  // Dapr's JSON API carries it as a JSON string
  } else {
    return Status::InvalidArgument(who + ": data is neither JSON nor UTF-8 text; the Dapr HTTP API cannot carry it");
  }
  body["metadata"] = Json::object();
  for (const auto& [k, v] : out.metadata) body["metadata"][k] = v;
  body["operation"] = out.operation.empty() ? "create" : out.operation;

  net::ClientRequest req;
  req.method = "POST";
  req.url = DaprBase() + "/v1.0/bindings/" + enc::PercentEncode(out.component_name);
  req.timeout = timeout_;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!api_token_.empty()) req.headers.emplace_back("dapr-api-token", api_token_);
  // Metadata set in code (not from FUNC_CONTEXT) might not be UTF-8: replace rather than throw.
  req.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);

  auto resp = client_.Do(req);
  if (!resp.ok()) return Prefixed(who + ": invoking binding via " + DaprBase(), resp.status());
  if (!IsSuccess(resp->status)) return HttpFailure(who + ": invoking binding via " + DaprBase(), *resp);
  return std::move(resp->body);
}

Result<std::string> HttpOutputSender::Publish(const Component& out, std::string_view data) {
  const std::string who = Describe(out);
  if (out.component_name.empty()) return Status::InvalidArgument(who + ": componentName is empty");
  if (out.uri.empty()) return Status::InvalidArgument(who + ": no topic (the output's uri is empty)");

  net::ClientRequest req;
  req.method = "POST";
  req.url = DaprBase() + "/v1.0/publish/" + enc::PercentEncode(out.component_name) + "/" + EncodeTopic(out.uri);
  char sep = '?';
  for (const auto& [k, v] : out.metadata) {
    req.url += sep;
    req.url += "metadata." + enc::PercentEncode(k) + "=" + enc::PercentEncode(v);
    sep = '&';
  }
  req.timeout = timeout_;
  req.headers.emplace_back("Content-Type", SniffContentType(data));
  if (!api_token_.empty()) req.headers.emplace_back("dapr-api-token", api_token_);
  req.body = std::string(data);

  auto resp = client_.Do(req);
  if (!resp.ok()) return Prefixed(who + ": publishing to \"" + out.uri + "\" via " + DaprBase(), resp.status());
  if (!IsSuccess(resp->status)) {
    return HttpFailure(who + ": publishing to \"" + out.uri + "\" via " + DaprBase(), *resp);
  }
  return std::move(resp->body);
}

}  // namespace ofn

#include "components/http_binding.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "ofn/http_response.h"

namespace ofn::components {

namespace {

constexpr int64_t kDefaultMaxResponseBytes = int64_t{100} << 20;  // Dapr's 100Mi
// Dapr sets no deadline when responseTimeout is unset; the client needs one.
constexpr std::chrono::milliseconds kNoTimeout = std::chrono::hours(24 * 365);
constexpr std::string_view kJson = "application/json; charset=utf-8";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// dapr/kit's IsTruthy: y, yes, true, t, on, 1 (any case); anything else is false.
bool IsTruthy(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  const std::string v = Lower(value);
  return v == "y" || v == "yes" || v == "true" || v == "t" || v == "on" || v == "1";
}

// A byte count the way Dapr reads maxResponseBodySize: a number, optionally
// with a fraction, and an optional unit k, M, G, T, P, E (powers of 1000) or
// Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024); rounded up to whole bytes.
std::optional<int64_t> ParseByteSize(std::string_view text) {
  size_t end = 0;
  if (end < text.size() && (text[end] == '-' || text[end] == '+')) ++end;
  bool digits = false;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
    digits = digits || text[end] != '.';
    ++end;
  }
  if (!digits || std::count(text.begin(), text.begin() + static_cast<long>(end), '.') > 1) return std::nullopt;
  const std::string_view unit = text.substr(end);
  static constexpr std::pair<std::string_view, long double> kUnits[] = {
      {"", 1},           {"k", 1e3},        {"M", 1e6},        {"G", 1e9},        {"T", 1e12},
      {"P", 1e15},       {"E", 1e18},       {"Ki", 0x1p10L},   {"Mi", 0x1p20L},   {"Gi", 0x1p30L},
      {"Ti", 0x1p40L},   {"Pi", 0x1p50L},   {"Ei", 0x1p60L}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    const long double bytes = std::ceil(std::stold(std::string(text.substr(0, end))) * factor);
    if (bytes > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(bytes);
  }
  return std::nullopt;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Go's CanonicalMIMEHeaderKey: "content-type" -> "Content-Type"; a name with
// characters outside the HTTP token set is left as it is.
std::string CanonicalHeader(std::string_view name) {
  std::string out(name);
  if (!std::all_of(out.begin(), out.end(), IsTokenChar)) return out;
  bool upper = true;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    upper = c == '-';
  }
  return out;
}

// Headers with Go's Header.Set semantics: one value per canonical name, the last one set wins.
class HeaderSet {
 public:
  void Set(std::string_view name, std::string value) {
    std::string key = CanonicalHeader(name);
    for (auto& [k, v] : headers_) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    headers_.emplace_back(std::move(key), std::move(value));
  }
  std::vector<std::pair<std::string, std::string>> Take() { return std::move(headers_); }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

std::string StatusText(int status) {
  std::string_view phrase = ReasonPhrase(status);
  return std::to_string(status) + (phrase == "Unknown" ? "" : " " + std::string(phrase));
}

const std::vector<std::string>& OperationNames() {
  static const std::vector<std::string> kOperations = {"create", "get",    "head",    "post", "put",
                                                       "patch",  "delete", "options", "trace"};
  return kOperations;
}

}  // namespace

Result<std::unique_ptr<HttpBinding>> HttpBinding::Create(const ComponentSpec& spec) {
  const Metadata& md = spec.metadata;
  Options o;
  o.url = md.GetOr("url", "");
  if (o.url.empty()) return Status::InvalidArgument("metadata url is required");
  if (Lower(o.url).starts_with("https://")) {
    return Status::Unimplemented("metadata url \"" + o.url + "\": https is not supported yet (plain http:// only)");
  }
  if (auto parsed = net::ParseUrl(o.url); !parsed.ok()) {
    return Status::InvalidArgument("metadata url: " + parsed.status().message());
  }

  auto timeout = md.GetDuration("responseTimeout", kNoTimeout);
  if (!timeout.ok()) return timeout.status();
  if (timeout->count() <= 0) return Status::InvalidArgument("metadata responseTimeout: must be positive");
  o.timeout = *timeout;

  net::HttpClient::Options client;
  int64_t max_body = kDefaultMaxResponseBytes;
  if (auto text = md.Get("maxResponseBodySize"); text && !text->empty()) {
    auto parsed = ParseByteSize(*text);
    if (!parsed) {
      return Status::InvalidArgument("metadata maxResponseBodySize: \"" + *text +
                                     "\" is not a size such as 1048576, 100Mi or 1G");
    }
    max_body = *parsed;
  }
  client.max_response_bytes = max_body <= 0 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(max_body);

  if (auto v = md.Get("errorIfNot2XX"); v && !v->empty()) o.error_if_not_2xx = IsTruthy(*v);
  o.token = md.GetOr("securityToken", "");
  o.token_header = md.GetOr("securityTokenHeader", "");
  return std::unique_ptr<HttpBinding>(new HttpBinding(std::move(o), client));
}

std::vector<std::string> HttpBinding::Operations() const { return OperationNames(); }

Result<std::optional<BindingResponse>> HttpBinding::Invoke(const BindingRequest& request) {
  const auto& ops = OperationNames();
  if (std::find(ops.begin(), ops.end(), request.operation) == ops.end()) {
    return Status::InvalidArgument("bindings.http does not support operation \"" + request.operation + "\"");
  }
  std::string method = request.operation == "create" ? "POST" : request.operation;
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  const bool sends_data = method == "POST" || method == "PUT" || method == "PATCH";

  auto meta = [&](const std::string& key) -> std::string {
    auto it = request.metadata.find(key);
    return it == request.metadata.end() ? "" : it->second;
  };
  net::ClientRequest req;
  req.method = method;
  req.url = options_.url;
  if (std::string path = meta("path"); !path.empty()) {
    req.url.erase(req.url.find_last_not_of('/') + 1);
    req.url += "/" + path.substr(std::min(path.find_first_not_of('/'), path.size()));
  }
  bool error_if_not_2xx = options_.error_if_not_2xx;
  if (std::string v = meta("errorIfNot2XX"); !v.empty()) error_if_not_2xx = IsTruthy(v);

  // In Dapr's order, so later ones override earlier ones.
  HeaderSet headers;
  if (sends_data && !request.metadata.contains("Content-Type")) headers.Set("Content-Type", std::string(kJson));
  if (!request.metadata.contains("Accept")) headers.Set("Accept", std::string(kJson));
  if (!options_.token.empty() && !options_.token_header.empty()) headers.Set(options_.token_header, options_.token);
  for (const auto& [key, value] : request.metadata) {
    if (!key.empty() && key[0] >= 'A' && key[0] <= 'Z') headers.Set(key, value);
  }
  for (const char* trace : {"traceparent", "tracestate", "baggage"}) {
    if (std::string v = meta(trace); !v.empty()) headers.Set(trace, v);
  }
  req.headers = headers.Take();
  if (sends_data) req.body = request.data;
  req.timeout = options_.timeout;

  const std::string what = method + " " + req.url;
  auto resp = client_.Do(req);
  if (!resp.ok()) return Status(resp.status().code(), what + ": " + resp.status().message());

  if (error_if_not_2xx && resp->status / 100 != 2) {
    // A 5xx may pass; anything else will fail the same way again.
    return Status(resp->status >= 500 ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
                  what + ": received status code " + std::to_string(resp->status));
  }
  BindingResponse out;
  out.data = std::move(resp->body);
  out.metadata["statusCode"] = std::to_string(resp->status);
  out.metadata["status"] = StatusText(resp->status);
  for (auto& [name, value] : resp->headers) {
    auto [it, fresh] = out.metadata.try_emplace(CanonicalHeader(name), value);
    if (!fresh) it->second += ", " + value;
  }
  return std::optional<BindingResponse>(std::move(out));
}

void RegisterHttp(Registry& registry) {
  registry.Add(std::string(HttpBinding::kType), [](const ComponentSpec& spec) -> Result<Component> {
    auto binding = HttpBinding::Create(spec);
    if (!binding.ok()) return binding.status();
    Component c;
    c.output = std::move(binding).value();
    return c;
  });
}

}  // namespace ofn::components

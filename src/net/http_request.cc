#include "ofn/http_request.h"

#include "common/encoding.h"

namespace ofn {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void HttpRequest::set_target(std::string_view t) {
  target_ = t;
  size_t q = t.find('?');
  if (q == std::string_view::npos) {
    path_ = t;
    query_ = {};
  } else {
    path_ = t.substr(0, q);
    query_ = t.substr(q + 1);
  }
  // Absolute-form targets ("http://host/path") are routed by their path.
  if (path_.size() > 7 && (path_.substr(0, 7) == "http://" || path_.substr(0, 8) == "https://")) {
    size_t slash = path_.find('/', path_.find("//") + 2);
    path_ = slash == std::string_view::npos ? std::string_view("/") : path_.substr(slash);
  }
}

std::optional<std::string> HttpRequest::query(std::string_view name) const {
  std::string_view q = query_;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto key = enc::PercentDecode(k, true);
    if (key && *key == name) {
      auto value = enc::PercentDecode(v, true);
      return value ? *value : std::string(v);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers_) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

}  // namespace ofn

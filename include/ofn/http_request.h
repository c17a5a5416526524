// HttpRequest: what an HTTP function receives.
//
// The request is a read-only view: every string_view points into memory owned
// by the framework and stays valid only until the function returns. Copy what
// you need to keep. Safe to read from one thread at a time (the calling one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ofn {

struct Header {
  std::string_view name;
  std::string_view value;
};

class HttpRequest {
 public:
  std::string_view method() const { return method_; }
  // The request-target exactly as received ("/a/b?x=1").
  std::string_view target() const { return target_; }
  // The path part of the target, still percent-encoded. When the function was
  // registered with a path prefix by the platform, this is the path as sent.
  std::string_view path() const { return path_; }
  // Everything after '?', without it; empty when there is none.
  std::string_view query_string() const { return query_; }
  // The first value of a query parameter, percent- and '+'-decoded.
  std::optional<std::string> query(std::string_view name) const;
  // A path parameter captured by a "{name}" segment in the function's path.
  std::optional<std::string_view> path_param(std::string_view name) const;
  const std::vector<std::pair<std::string_view, std::string_view>>& path_params() const {
    return path_params_;
  }
  // First header of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  const std::vector<Header>& headers() const { return headers_; }
  std::string_view body() const { return body_; }
  // 0 for HTTP/1.0, 1 for HTTP/1.1.
  int http_minor() const { return http_minor_; }

  // Construction is for the framework and for tests of user functions.
  HttpRequest() = default;
  void set_method(std::string_view m) { method_ = m; }
  void set_target(std::string_view t);
  void set_body(std::string_view b) { body_ = b; }
  void set_http_minor(int v) { http_minor_ = v; }
  void add_header(std::string_view name, std::string_view value) { headers_.push_back({name, value}); }
  void clear_headers() { headers_.clear(); }
  void set_path_params(std::vector<std::pair<std::string_view, std::string_view>> p) {
    path_params_ = std::move(p);
  }
  // Replaces the path seen by the function (used when a route strips a prefix).
  void set_path(std::string_view p) { path_ = p; }

 private:
  std::string_view method_;
  std::string_view target_;
  std::string_view path_;
  std::string_view query_;
  std::string_view body_;
  int http_minor_ = 1;
  std::vector<Header> headers_;
  std::vector<std::pair<std::string_view, std::string_view>> path_params_;
};

// ASCII case-insensitive equality, as HTTP header names compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace ofn

// HttpResponse: what an HTTP function returns.
//
// A plain value: status, headers in order, body. Content-Length and
// Connection are set by the framework; setting them here has no effect.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ofn {

class HttpResponse {
 public:
  HttpResponse() = default;
  explicit HttpResponse(int status, std::string body = {}, std::string content_type = "text/plain; charset=utf-8")
      : status_(status), body_(std::move(body)) {
    if (!body_.empty() && !content_type.empty()) headers_.emplace_back("Content-Type", std::move(content_type));
  }

  int status() const { return status_; }
  HttpResponse& set_status(int s) {
    status_ = s;
    return *this;
  }
  const std::string& body() const { return body_; }
  std::string& mutable_body() { return body_; }
  HttpResponse& set_body(std::string b) {
    body_ = std::move(b);
    return *this;
  }
  // Replaces any header of the same name (case-insensitive).
  HttpResponse& set_header(std::string_view name, std::string_view value);
  // Appends, keeping existing headers of that name (e.g. Set-Cookie).
  HttpResponse& add_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  const std::string* header(std::string_view name) const;

 private:
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
};

// "OK" for 200 and so on; "Unknown" for codes without a standard phrase.
std::string_view ReasonPhrase(int status);

}  // namespace ofn

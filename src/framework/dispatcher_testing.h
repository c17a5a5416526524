// Test helper: one request through a Dispatcher, no sockets.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "framework/dispatcher.h"

namespace ofn::testing {

struct Call {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

inline HttpResponse Invoke(const Dispatcher& d, const Call& c) {
  HttpRequest req;
  req.set_method(c.method);
  req.set_target(c.target);
  for (const auto& [k, v] : c.headers) req.add_header(k, v);
  req.set_body(c.body);
  HttpResponse resp;
  d.Handle(req, resp);
  return resp;
}

}  // namespace ofn::testing

// Router: chooses the function for a request path, capturing path parameters.
//
// Patterns are '/'-separated segments: a literal, "{name}" (one segment) or a
// final "{name...}" (the rest of the path, possibly empty). An empty pattern
// matches every path. One trailing slash is ignored on both sides. Captured
// values are percent-decoded. Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"

namespace ofn {

class PathPattern {
 public:
  static Result<PathPattern> Compile(std::string_view pattern);
  // On a match, appends (name, decoded value) pairs to params.
  bool Match(std::string_view path, std::vector<std::pair<std::string, std::string>>* params) const;
  const std::string& text() const { return text_; }
  bool catch_all() const { return segments_.empty() && rest_.empty() && !root_only_; }

 private:
  struct Segment {
    std::string literal;  // empty for a parameter
    std::string param;
  };
  std::string text_;
  std::vector<Segment> segments_;
  std::string rest_;  // name of a trailing {name...}
  bool root_only_ = false;
};

class Router {
 public:
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    int index = -1;                                        // the route's id when found
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;                                     // for 405: the Allow header value
  };

  // Routes are tried in the order added; `methods` empty = any method.
  void Add(PathPattern pattern, std::vector<std::string> methods, int id);
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    PathPattern pattern;
    std::vector<std::string> methods;
    int id;
  };
  std::vector<Route> routes_;
};

}  // namespace ofn

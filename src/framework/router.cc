#include "framework/router.h"

#include <cctype>

#include "common/encoding.h"

namespace ofn {
namespace {

std::string_view StripSlash(std::string_view p) {
  if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p;
}

bool ValidParamName(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string Decode(std::string_view s) {
  auto d = enc::PercentDecode(s);
  return d ? *d : std::string(s);
}

}  // namespace

Result<PathPattern> PathPattern::Compile(std::string_view pattern) {
  PathPattern p;
  p.text_ = std::string(pattern);
  if (pattern.empty()) return p;
  if (pattern.front() != '/') return Status::InvalidArgument("path \"" + p.text_ + "\" must start with '/'");
  std::string_view rest = StripSlash(pattern).substr(1);
  if (rest.empty()) {
    p.root_only_ = true;
    return p;
  }
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    bool last = slash == std::string_view::npos;
    if (seg.empty()) return Status::InvalidArgument("path \"" + p.text_ + "\" has an empty segment");
    if (seg.front() == '{') {
      if (seg.back() != '}') return Status::InvalidArgument("path \"" + p.text_ + "\": unclosed '{' in " + std::string(seg));
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (!last) return Status::InvalidArgument("path \"" + p.text_ + "\": {" + std::string(name) + "} must be the last segment");
        name.remove_suffix(3);
        if (!ValidParamName(name)) return Status::InvalidArgument("path \"" + p.text_ + "\": bad parameter name");
        p.rest_ = std::string(name);
        break;
      }
      if (!ValidParamName(name)) return Status::InvalidArgument("path \"" + p.text_ + "\": bad parameter name \"" + std::string(name) + "\"");
      p.segments_.push_back({"", std::string(name)});
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) {
        return Status::InvalidArgument("path \"" + p.text_ + "\": braces must enclose a whole segment");
      }
      p.segments_.push_back({std::string(seg), ""});
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  return p;
}

bool PathPattern::Match(std::string_view path, std::vector<std::pair<std::string, std::string>>* params) const {
  if (text_.empty()) return true;
  if (path.empty() || path.front() != '/') return false;
  path = StripSlash(path);
  if (root_only_) return path == "/";
  std::string_view rest = path.substr(1);
  size_t first_param = params->size();
  for (const Segment& s : segments_) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    bool ok = !seg.empty() && (s.param.empty() ? seg == s.literal : true);
    if (!ok) {
      params->resize(first_param);
      return false;
    }
    if (!s.param.empty()) params->emplace_back(s.param, Decode(seg));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (!rest_.empty()) {
    params->emplace_back(rest_, Decode(rest));
    return true;
  }
  if (!rest.empty()) {
    params->resize(first_param);
    return false;
  }
  return true;
}

void Router::Add(PathPattern pattern, std::vector<std::string> methods, int id) {
  routes_.push_back({std::move(pattern), std::move(methods), id});
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  for (const Route& r : routes_) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!r.pattern.Match(path, &params)) continue;
    bool allowed = r.methods.empty();
    for (const auto& allowed_method : r.methods) allowed |= allowed_method == method;
    if (allowed) {
      m.outcome = Outcome::kFound;
      m.index = r.id;
      m.params = std::move(params);
      return m;
    }
    m.outcome = Outcome::kMethodNotAllowed;
    for (const auto& a : r.methods) {
      if (m.allow.find(a) == std::string::npos) m.allow += (m.allow.empty() ? "" : ", ") + a;
    }
  }
  return m;
}

}  // namespace ofn

#include "components/metadata.h"

#include <cctype>
#include <charconv>

#include "common/duration.h"
#include "common/go_bool.h"

namespace ofn::components {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int x = std::tolower(static_cast<unsigned char>(a[i]));
    int y = std::tolower(static_cast<unsigned char>(b[i]));
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

std::optional<std::string> Metadata::Get(std::string_view name) const {
  auto it = items_.find(name);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

std::string Metadata::GetOr(std::string_view name, std::string_view fallback) const {
  auto it = items_.find(name);
  return it == items_.end() ? std::string(fallback) : it->second;
}

namespace {

Status Bad(std::string_view name, std::string_view value, std::string_view want) {
  return Status::InvalidArgument("metadata " + std::string(name) + ": \"" + std::string(value) + "\" is not " +
                                 std::string(want));
}

}  // namespace

Result<bool> Metadata::GetBool(std::string_view name, bool fallback) const {
  auto v = Get(name);
  if (!v) return fallback;
  if (auto b = ParseGoBool(*v)) return *b;
  return Bad(name, *v, "a boolean (true or false)");
}

Result<int64_t> Metadata::GetInt(std::string_view name, int64_t fallback) const {
  auto v = Get(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty()) return Bad(name, *v, "an integer");
  return out;
}

Result<std::chrono::milliseconds> Metadata::GetDuration(std::string_view name, std::chrono::milliseconds fallback,
                                                        std::chrono::milliseconds bare_unit) const {
  auto v = Get(name);
  if (!v) return fallback;
  int64_t bare = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), bare);
  if (ec == std::errc() && end == v->data() + v->size() && !v->empty()) return bare * bare_unit;
  auto d = ParseGoDuration(*v);
  if (!d.ok()) return Bad(name, *v, "a duration such as 500ms or 1m30s");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

}  // namespace ofn::components

// Metadata: a Dapr component's `spec.metadata`, read the way Dapr reads it.
//
// Names match case-insensitively (Dapr decodes component metadata that way);
// values are strings (YAML numbers and bools arrive stringified). The typed
// getters return the fallback when the name is absent and an error naming
// the key and the bad value when it is present but malformed, so a typo in a
// manifest is reported instead of silently defaulted.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ofn/http_request.h"
#include "ofn/status.h"

namespace ofn::components {

struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

class Metadata {
 public:
  using Map = std::map<std::string, std::string, CaseInsensitiveLess>;

  Metadata() = default;
  explicit Metadata(Map items) : items_(std::move(items)) {}

  void Set(std::string name, std::string value) { items_[std::move(name)] = std::move(value); }
  bool Has(std::string_view name) const { return items_.find(name) != items_.end(); }
  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  // Go's strconv.ParseBool: 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False.
  Result<bool> GetBool(std::string_view name, bool fallback) const;
  Result<int64_t> GetInt(std::string_view name, int64_t fallback) const;
  // A Go duration ("500ms", "1m30s"); a bare integer counts `bare_unit`s
  // (Dapr reads bare numbers as milliseconds for some keys, seconds for others).
  Result<std::chrono::milliseconds> GetDuration(std::string_view name, std::chrono::milliseconds fallback,
                                                std::chrono::milliseconds bare_unit = std::chrono::seconds(1)) const;

  const Map& items() const { return items_; }

 private:
  Map items_;
};

}  // namespace ofn::components

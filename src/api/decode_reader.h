// DecodeReader: typed reads from a Document's JSON, for the typed views.
//
// The views normally read validated documents, but they must stay safe on
// anything (the fuzzer feeds them garbage), so every read checks its type and
// turns a mismatch into an error naming the field. A null member counts as
// absent, as the API server prunes it. Internal to the api module; one
// reader per decode, not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/diagnostic.h"
#include "api/field_path.h"
#include "api/manifest.h"

namespace ofn::api {

class DecodeReader {
 public:
  DecodeReader(const Document& doc, std::vector<Diagnostic>* errors) : doc_(doc), errors_(errors) {}

  // The member `key` of `v`; nullptr when v is not an object or the member is
  // absent or null.
  static const nlohmann::json* Member(const nlohmann::json* v, std::string_view key);

  void Error(const FieldPath& at, std::string message);

  // Each returns false (after an error) when `v` has another type; a null `v`
  // leaves *out alone and returns true.
  bool Object(const nlohmann::json* v, const FieldPath& at);
  bool Array(const nlohmann::json* v, const FieldPath& at);
  bool String(const nlohmann::json* v, const FieldPath& at, std::string* out);
  bool Int32(const nlohmann::json* v, const FieldPath& at, std::optional<std::int32_t>* out);
  bool StringList(const nlohmann::json* v, const FieldPath& at, std::vector<std::string>* out);
  bool StringMap(const nlohmann::json* v, const FieldPath& at, std::map<std::string, std::string>* out);

  const Document& doc() const { return doc_; }

 private:
  const Document& doc_;
  std::vector<Diagnostic>* errors_;
};

}  // namespace ofn::api

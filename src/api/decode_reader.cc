#include "api/decode_reader.h"

#include <cmath>
#include <limits>

namespace ofn::api {

using nlohmann::json;

const json* DecodeReader::Member(const json* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  auto it = v->find(key);
  if (it == v->end() || it->is_null()) return nullptr;
  return &*it;
}

void DecodeReader::Error(const FieldPath& at, std::string message) {
  errors_->push_back(doc_.At(at, std::move(message)));
}

bool DecodeReader::Object(const json* v, const FieldPath& at) {
  if (v == nullptr || v->is_object()) return true;
  Error(at, "expected object, got " + DescribeValue(*v));
  return false;
}

bool DecodeReader::Array(const json* v, const FieldPath& at) {
  if (v == nullptr || v->is_array()) return true;
  Error(at, "expected array, got " + DescribeValue(*v));
  return false;
}

bool DecodeReader::String(const json* v, const FieldPath& at, std::string* out) {
  if (v == nullptr) return true;
  if (!v->is_string()) {
    Error(at, "expected string, got " + DescribeValue(*v));
    return false;
  }
  *out = v->get<std::string>();
  return true;
}

bool DecodeReader::Int32(const json* v, const FieldPath& at, std::optional<std::int32_t>* out) {
  if (v == nullptr) return true;
  double d = v->is_number() ? v->get<double>() : std::nan("");
  if (!v->is_number() || !std::isfinite(d) || std::floor(d) != d) {
    Error(at, "expected integer, got " + DescribeValue(*v));
    return false;
  }
  if (d < std::numeric_limits<std::int32_t>::min() || d > std::numeric_limits<std::int32_t>::max()) {
    Error(at, DescribeValue(*v) + " is out of range for a 32-bit integer");
    return false;
  }
  *out = static_cast<std::int32_t>(d);
  return true;
}

bool DecodeReader::StringList(const json* v, const FieldPath& at, std::vector<std::string>* out) {
  if (!Array(v, at) || v == nullptr) return v == nullptr;
  bool ok = true;
  for (std::size_t i = 0; i < v->size(); ++i) {
    std::string s;
    if (String(&(*v)[i], at.Index(i), &s)) {
      out->push_back(std::move(s));
    } else {
      ok = false;
    }
  }
  return ok;
}

bool DecodeReader::StringMap(const json* v, const FieldPath& at, std::map<std::string, std::string>* out) {
  if (!Object(v, at) || v == nullptr) return v == nullptr;
  bool ok = true;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (it->is_null()) continue;
    std::string s;
    if (String(&it.value(), at.Key(it.key()), &s)) {
      (*out)[it.key()] = std::move(s);
    } else {
      ok = false;
    }
  }
  return ok;
}

}  // namespace ofn::api

// FieldPath: where a value sits in a resource, in two spellings at once.
//
// The JSON pointer ("/spec/serving/params/DEBUG") is the key into a
// Document's position map; the Kubernetes-style path
// ("spec.serving.params[DEBUG]") is what messages show: struct fields join
// with '.', map keys and list indexes go in brackets, as Kubernetes'
// field.Path prints them. A value type; not thread-safe to mutate.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ofn::api {

class FieldPath {
 public:
  FieldPath() = default;
  // Parses a JSON pointer; every segment is taken as a field name, except
  // that with `root` given, tokens that index a list there print as [i].
  static FieldPath FromPointer(std::string_view pointer, const nlohmann::json* root = nullptr);

  FieldPath Child(std::string_view field) const;  // .field
  FieldPath Key(std::string_view key) const;      // [key]
  FieldPath Index(std::size_t i) const;           // [i]

  const std::string& pointer() const { return pointer_; }
  const std::string& path() const { return path_; }
  bool empty() const { return pointer_.empty(); }

 private:
  std::string pointer_;
  std::string path_;
};

// RFC 6901: '~' -> "~0", '/' -> "~1".
std::string EscapePointerToken(std::string_view token);
// The unescaped tokens of a pointer ("" -> none). Malformed escapes are kept
// as written: pointers here are built by Ofn, not by users.
std::vector<std::string> SplitPointer(std::string_view pointer);
// True if `pointer` is `prefix` or lies below it.
bool PointerHasPrefix(std::string_view pointer, std::string_view prefix);

}  // namespace ofn::api

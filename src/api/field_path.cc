#include "api/field_path.h"

#include <nlohmann/json.hpp>

namespace ofn::api {

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> SplitPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  std::size_t pos = pointer[0] == '/' ? 1 : 0;
  while (true) {
    std::size_t slash = pointer.find('/', pos);
    std::string_view raw = pointer.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return tokens;
}

bool PointerHasPrefix(std::string_view pointer, std::string_view prefix) {
  if (pointer.size() < prefix.size() || pointer.substr(0, prefix.size()) != prefix) return false;
  return pointer.size() == prefix.size() || pointer[prefix.size()] == '/';
}

FieldPath FieldPath::FromPointer(std::string_view pointer, const nlohmann::json* root) {
  FieldPath p;
  const nlohmann::json* v = root;
  for (const std::string& token : SplitPointer(pointer)) {
    if (v != nullptr && v->is_array()) {
      std::size_t i = 0;
      bool numeric = !token.empty() && token.size() < 10 && token.find_first_not_of("0123456789") == std::string::npos;
      if (numeric) i = std::stoul(token);
      if (numeric && i < v->size()) {
        p = p.Index(i);
        v = &(*v)[i];
        continue;
      }
      v = nullptr;
    } else if (v != nullptr && v->is_object()) {
      auto it = v->find(token);
      v = it == v->end() ? nullptr : &*it;
    } else {
      v = nullptr;
    }
    p = p.Child(token);
  }
  return p;
}

FieldPath FieldPath::Child(std::string_view field) const {
  FieldPath p = *this;
  p.pointer_ += '/';
  p.pointer_ += EscapePointerToken(field);
  if (!p.path_.empty()) p.path_ += '.';
  p.path_ += field;
  return p;
}

FieldPath FieldPath::Key(std::string_view key) const {
  FieldPath p = *this;
  p.pointer_ += '/';
  p.pointer_ += EscapePointerToken(key);
  p.path_ += '[';
  p.path_ += key;
  p.path_ += ']';
  return p;
}

FieldPath FieldPath::Index(std::size_t i) const {
  FieldPath p = *this;
  std::string n = std::to_string(i);
  p.pointer_ += '/';
  p.pointer_ += n;
  p.path_ += '[';
  p.path_ += n;
  p.path_ += ']';
  return p;
}

}  // namespace ofn::api

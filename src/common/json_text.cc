#include "common/json_text.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/encoding.h"

namespace ofn::jsontext {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Bytes a string may hold as they are, needing no further look: not '"',
// not '\\', not a control character, ASCII.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// Recursive descent; recursion is bounded by max_depth.
class Validator {
 public:
  Validator(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  bool Run() {
    SkipWs();
    if (!Value(0)) return false;
    SkipWs();
    return i_ == s_.size();
  }

 private:
  void SkipWs() {
    while (i_ < s_.size() && IsWs(s_[i_])) ++i_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool Value(int depth) {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': return String();
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }
  bool Object(int depth) {
    if (depth > max_depth_) return false;
    ++i_;  // {
    SkipWs();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
    while (true) {
      if (i_ >= s_.size() || s_[i_] != '"' || !String()) return false;
      SkipWs();
      if (i_ >= s_.size() || s_[i_] != ':') return false;
      ++i_;
      SkipWs();
      if (!Value(depth)) return false;
      SkipWs();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == '}') return ++i_, true;
      if (s_[i_] != ',') return false;
      ++i_;
      SkipWs();
    }
  }
  bool Array(int depth) {
    if (depth > max_depth_) return false;
    ++i_;  // [
    SkipWs();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
    while (true) {
      if (!Value(depth)) return false;
      SkipWs();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == ']') return ++i_, true;
      if (s_[i_] != ',') return false;
      ++i_;
      SkipWs();
    }
  }
  bool String() {
    size_t start = ++i_;  // after the opening quote
    bool high = false;
    while (i_ < s_.size()) {
      // Plain bytes in bulk: most of a payload.
      while (i_ < s_.size() && kPlain[static_cast<unsigned char>(s_[i_])]) ++i_;
      if (i_ >= s_.size()) break;
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        bool ok = !high || enc::IsValidUtf8(s_.substr(start, i_ - start));
        ++i_;
        return ok;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) high = true;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        char e = s_[i_];
        if (e == 'u') {
          // Surrogates must pair up (as nlohmann requires): the text then
          // always denotes UTF-8.
          uint32_t cp = 0;
          if (!Hex(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i_ + 2 >= s_.size() || s_[i_ + 1] != '\\' || s_[i_ + 2] != 'u') return false;
            i_ += 2;
            if (!Hex(&cp) || cp < 0xDC00 || cp > 0xDFFF) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
      }
      ++i_;
    }
    return false;
  }

  // At the 'u' of \uXXXX: reads the four digits, leaves i_ on the last.
  bool Hex(uint32_t* cp) {
    *cp = 0;
    for (int k = 1; k <= 4; ++k) {
      if (i_ + k >= s_.size() || !IsHex(s_[i_ + k])) return false;
      char c = s_[i_ + k];
      *cp = (*cp << 4) | static_cast<uint32_t>(IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    i_ += 4;
    return true;
  }
  bool Digits() {
    size_t start = i_;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    return i_ > start;
  }
  bool Number() {
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!Digits()) return false;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  int max_depth_;
};

// Scanning valid text: where the value starting at `i` ends.
size_t StringEnd(std::string_view s, size_t i) {  // i at the opening quote
  // In valid text a string ends at the first '"' not escaped, i.e. not after
  // an odd run of backslashes: memchr finds candidates at memory speed.
  for (++i; i < s.size();) {
    const void* q = std::memchr(s.data() + i, '"', s.size() - i);
    if (!q) return s.size();
    size_t at = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t slashes = 0;
    while (at - slashes > i && s[at - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return at + 1;
    i = at + 1;
  }
  return s.size();
}

size_t ValueEnd(std::string_view s, size_t i) {
  char c = s[i];
  if (c == '"') return StringEnd(s, i);
  if (c == '{' || c == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char d = s[i];
      if (d == '"') {
        i = StringEnd(s, i) - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return s.size();
  }
  while (i < s.size() && !IsWs(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

size_t SkipWs(std::string_view s, size_t i) {
  while (i < s.size() && IsWs(s[i])) ++i;
  return i;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t Hex4(std::string_view s) {
  uint32_t v = 0;
  for (char c : s.substr(0, 4)) {
    v <<= 4;
    if (IsDigit(c)) {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    }
  }
  return v;
}

}  // namespace

bool Valid(std::string_view text, int max_depth) { return Validator(text, max_depth).Run(); }

bool NestingWithin(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Kind KindOf(std::string_view value) {
  switch (value.empty() ? 'n' : value.front()) {
    case '{': return Kind::kObject;
    case '[': return Kind::kArray;
    case '"': return Kind::kString;
    case 't': return Kind::kTrue;
    case 'f': return Kind::kFalse;
    case 'n': return Kind::kNull;
    default: return Kind::kNumber;
  }
}

std::vector<Member> Members(std::string_view object) {
  std::vector<Member> out;
  size_t i = SkipWs(object, 0);
  if (i >= object.size() || object[i] != '{') return out;
  i = SkipWs(object, i + 1);
  while (i < object.size() && object[i] == '"') {
    size_t key_end = StringEnd(object, i);
    std::string_view key = object.substr(i, key_end - i);
    i = SkipWs(object, SkipWs(object, key_end) + 1);  // past ':'
    if (i >= object.size()) break;
    size_t value_end = ValueEnd(object, i);
    out.push_back(Member{key, object.substr(i, value_end - i)});
    i = SkipWs(object, value_end);
    if (i < object.size() && object[i] == ',') i = SkipWs(object, i + 1);
  }
  return out;
}

std::vector<std::string_view> Elements(std::string_view array) {
  std::vector<std::string_view> out;
  size_t i = SkipWs(array, 0);
  if (i >= array.size() || array[i] != '[') return out;
  i = SkipWs(array, i + 1);
  while (i < array.size() && array[i] != ']') {
    size_t end = ValueEnd(array, i);
    out.push_back(array.substr(i, end - i));
    i = SkipWs(array, end);
    if (i < array.size() && array[i] == ',') i = SkipWs(array, i + 1);
  }
  return out;
}

std::string Unquote(std::string_view literal) {
  if (literal.size() < 2) return {};
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (body.find('\\') == std::string_view::npos) return std::string(body);
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = Hex4(body.substr(i + 1));
        i += 4;
        // A surrogate pair is one code point (Valid text pairs them; other
        // text gets U+FFFD, so the result is always UTF-8).
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u') {
          uint32_t lo = Hex4(body.substr(i + 3));
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        AppendUtf8(out, cp);
        break;
      }
      default: out += e;  // " \ /
    }
  }
  return out;
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t run = i;
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    if (run >= s.size()) break;
    i = run;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (len > 1 && i + len <= s.size() && enc::IsValidUtf8(s.substr(i, len))) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
      }
      continue;
    }
    out += '\\';
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\n': out += 'n'; break;
      case '\r': out += 'r'; break;
      case '\t': out += 't'; break;
      case '\b': out += 'b'; break;
      case '\f': out += 'f'; break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++i;
  }
  out += '"';
}

bool Equals(std::string_view literal, std::string_view s) {
  if (literal.size() < 2) return false;
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body == s;
  return Unquote(literal) == s;
}

}  // namespace ofn::jsontext

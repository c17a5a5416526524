#include "cli/yaml_output.h"

#include <cstdio>

namespace ofn::cli {

using nlohmann::json;

namespace {

bool IsReservedWord(std::string_view s) {
  // YAML 1.1 booleans and nulls (what go-yaml and many users' tools still read).
  static const char* const kWords[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                                       "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
                                       "off", "Off", "OFF", "null", "Null", "NULL", "~", "=", "<<",
                                       ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf",
                                       "+.INF", ".nan", ".NaN", ".NAN"};
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  return false;
}

bool LooksNumeric(std::string_view s) {
  // Anything some YAML dialect may read as a number is quoted: YAML 1.1 and
  // 1.2 ints and floats (1_000, 0x1F, 0o17, 0b101, 1:30 sexagesimal, 1e3, .5).
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.size() > 2 && s[0] == '0' && std::string_view("xXoObB").find(s[1]) != std::string_view::npos) {
    return s.substr(2).find_first_not_of("0123456789abcdefABCDEF_") == std::string_view::npos;
  }
  bool digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == 'e' || c == 'E') {
      // An exponent: optionally signed digits to the end.
      std::string_view exp = s.substr(i + 1);
      if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
      return digit && !exp.empty() && exp.find_first_not_of("0123456789") == std::string_view::npos;
    } else if (c != '_' && c != ':' && c != '.') {
      return false;
    }
  }
  return digit;
}

bool LooksLikeDate(std::string_view s) {
  auto d = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  return d(0) && d(1) && d(2) && d(3) && s.size() > 4 && s[4] == '-';
}

std::string DoubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Multi-line text reads best as a literal block; only used where the block
// reproduces the string exactly.
bool LiteralBlockOk(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || s.empty() || s[0] == ' ' || s[0] == '\n') return false;
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  if (trailing > 1) return false;
  size_t line_start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      std::string_view line = s.substr(line_start, i - line_start);
      // Whitespace-only or space-ended lines are legal but easily mangled by editors.
      if (!line.empty() && (line.back() == ' ' || line.find_first_not_of(' ') == std::string_view::npos)) {
        return false;
      }
      line_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string Scalar(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      return IsPlainSafe(s) ? s : DoubleQuoted(s);
    }
    case json::value_t::object: return "{}";
    case json::value_t::array: return "[]";
    default: return v.dump();  // numbers: JSON's spelling is valid YAML
  }
}

bool IsBlock(const json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void Emit(const json& v, size_t indent, std::string& out);

// "key: value" / "- value" where value is a scalar or a literal block.
void EmitInline(const json& v, size_t indent, std::string& out) {
  if (v.is_string() && LiteralBlockOk(v.get_ref<const std::string&>())) {
    const auto& s = v.get_ref<const std::string&>();
    out += s.back() == '\n' ? "|\n" : "|-\n";
    size_t start = 0;
    std::string_view body(s);
    if (body.back() == '\n') body.remove_suffix(1);
    while (start <= body.size()) {
      size_t nl = body.find('\n', start);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(start, nl - start);
      if (!line.empty()) out += std::string(indent + 2, ' ') + std::string(line);
      out += "\n";
      start = nl + 1;
    }
    return;
  }
  out += Scalar(v) + "\n";
}

void EmitItem(const json& item, size_t indent, std::string& out) {
  if (!IsBlock(item)) {
    out += std::string(indent, ' ') + "- ";
    EmitInline(item, indent, out);
    return;
  }
  // Render one level deeper, then put the dash where the first line's indentation was.
  std::string nested;
  Emit(item, indent + 2, nested);
  nested.replace(indent, 2, "- ");
  out += nested;
}

void Emit(const json& v, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    for (const auto& [key, val] : v.items()) {
      out += pad + (IsPlainSafe(key) ? key : DoubleQuoted(key)) + ":";
      if (!IsBlock(val)) {
        out += " ";
        EmitInline(val, indent, out);
      } else if (val.is_object()) {
        out += "\n";
        Emit(val, indent + 2, out);
      } else {
        out += "\n";
        Emit(val, indent, out);  // kubectl: a sequence under a key stays at the key's indentation
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v) EmitItem(item, indent, out);
  } else {
    out += pad;
    EmitInline(v, indent, out);
  }
}

}  // namespace

bool IsPlainSafe(std::string_view s) {
  if (s.empty() || IsReservedWord(s) || LooksNumeric(s) || LooksLikeDate(s)) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  // Indicators that mean something at the start of a plain scalar.
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) != std::string_view::npos) {
    // "-x", "?x", ":x" are fine when not followed by a space, but rare enough to quote.
    return false;
  }
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
    // Flow indicators are fine in block context but confuse readers of flow YAML.
    if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',') return false;
  }
  return true;
}

std::string ToYaml(const json& value) {
  std::string out;
  Emit(value, 0, out);
  return out;
}

}  // namespace ofn::cli

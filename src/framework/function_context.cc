// FUNC_CONTEXT decoding. The shape is the one OpenFunction's controller writes
// (pkg/core/serving/common: functionContextV1beta1) and its Go framework reads
// (functions-framework-go context/context.go): Go encoding/json semantics, so
// `null` means "absent", unknown members are ignored and member names match
// case-insensitively when there is no exact match.
#include "ofn/function_context.h"
#include "ofn/http_request.h"  // EqualsIgnoreCase

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace ofn {
namespace {

using Json = nlohmann::json;

Status Error(const std::string& path, const std::string& what) {
  if (path.empty()) return Status::InvalidArgument("FUNC_CONTEXT: " + what);
  return Status::InvalidArgument("FUNC_CONTEXT: " + path + ": " + what);
}

std::string Join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// A map key as it appears in an error path: bounded, without control characters.
std::string ShowKey(const std::string& key) {
  constexpr size_t kMax = 64;
  std::string out = key;
  if (out.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
    out = out.substr(0, n) + "...";
  }
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = '?';
  }
  return out;
}

// A user value quoted for an error message: JSON-escaped and cut short, so a
// hostile FUNC_CONTEXT cannot flood logs or inject control characters.
std::string Quote(const std::string& s) {
  constexpr size_t kMax = 64;
  std::string cut = s;
  if (cut.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(cut[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
    cut = cut.substr(0, n) + "...";
  }
  return Json(cut).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The member `key` of `obj`, or null when absent or JSON null (Go treats both alike).
const Json* Member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    // Go's encoding/json falls back to a case-insensitive match.
    for (auto i = obj.begin(); i != obj.end(); ++i) {
      if (EqualsIgnoreCase(i.key(), key)) {
        it = i;
        break;
      }
    }
  }
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status GetString(const Json& obj, const char* key, const std::string& path, std::string* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return Error(Join(path, key), "expected a string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status GetStringList(const Json& obj, const char* key, std::vector<std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return Error(key, "expected an array of strings");
  out->clear();
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_string()) return Error(std::string(key) + "[" + std::to_string(i) + "]", "expected a string");
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

Status GetStringMap(const Json& obj, const char* key, const std::string& path,
                    std::map<std::string, std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  std::string here = Join(path, key);
  if (!v->is_object()) return Error(here, "expected an object of strings");
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) return Error(Join(here, ShowKey(it.key())), "expected a string");
    (*out)[it.key()] = it->get<std::string>();
  }
  return Status::Ok();
}

Status ParseComponent(const Json& j, const std::string& path, bool is_output, Component* c) {
  if (!j.is_object()) return Error(path, "expected an object");
  if (Status s = GetString(j, "uri", path, &c->uri); !s.ok()) return s;
  if (Status s = GetString(j, "componentName", path, &c->component_name); !s.ok()) return s;
  if (Status s = GetString(j, "componentType", path, &c->component_type); !s.ok()) return s;
  if (Status s = GetStringMap(j, "metadata", path, &c->metadata); !s.ok()) return s;
  if (is_output) {
    if (Status s = GetString(j, "operation", path, &c->operation); !s.ok()) return s;
  }
  // The Go framework refuses to start on any other building block.
  const std::string& type = c->component_type;
  if (type.empty()) return Error(Join(path, "componentType"), "required");
  if (type.rfind("bindings.", 0) != 0 && type.rfind("pubsub.", 0) != 0) {
    return Error(Join(path, "componentType"), "must start with \"bindings.\" or \"pubsub.\", got " + Quote(type));
  }
  return Status::Ok();
}

Status ParseComponents(const Json& obj, const char* key, bool is_output, std::map<std::string, Component>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_object()) return Error(key, "expected an object");
  for (auto it = v->begin(); it != v->end(); ++it) {
    Component c;
    if (Status s = ParseComponent(*it, Join(key, ShowKey(it.key())), is_output, &c); !s.ok()) return s;
    (*out)[it.key()] = std::move(c);
  }
  return Status::Ok();
}

// OpenFunction writes the port as a string; hand-written contexts often use a number.
Status ParsePort(const Json& obj, std::string* out) {
  const Json* v = Member(obj, "port");
  if (v == nullptr) return Status::Ok();
  int64_t port = 0;
  if (v->is_number_integer()) {  // signed or unsigned
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      port = u > 65535 ? 65536 : static_cast<int64_t>(u);
    } else {
      port = v->get<int64_t>();
    }
  } else if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s.empty()) return Status::Ok();  // as in the Go framework: empty means the default
    if (s.size() > 5) return Error("port", "must be a number from 1 to 65535, got " + Quote(s));
    for (char ch : s) {
      if (ch < '0' || ch > '9') return Error("port", "must be a number from 1 to 65535, got " + Quote(s));
      port = port * 10 + (ch - '0');
    }
  } else {
    return Error("port", "expected a string or an integer");
  }
  if (port < 1 || port > 65535) return Error("port", "must be a number from 1 to 65535, got " + v->dump());
  *out = std::to_string(port);
  return Status::Ok();
}

// Strips nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 17: " prefix.
// The rest quotes the offending token, which may be long or not UTF-8: bound
// it and keep it printable ASCII so the message is safe in any log.
std::string ParseErrorDetail(const char* what) {
  std::string w = what;
  if (w.rfind("[json.exception.", 0) == 0) {
    size_t p = w.find("] ");
    if (p != std::string::npos) w.erase(0, p + 2);
  }
  if (w.rfind("parse error at ", 0) == 0) {
    size_t p = w.find(": ");
    if (p != std::string::npos) w.erase(0, p + 2);
  }
  constexpr size_t kMax = 200;
  if (w.size() > kMax) w = w.substr(0, kMax) + "...";
  for (char& ch : w) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7F) ch = '?';
  }
  return w;
}

}  // namespace

std::string_view Component::building_block() const {
  size_t dot = component_type.find('.');
  if (dot == std::string::npos) return {};
  return std::string_view(component_type).substr(0, dot);
}

Result<FunctionContext> FunctionContext::Parse(std::string_view json) {
  FunctionContext fc;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return fc;  // unset = empty context

  Json root;
  try {
    root = Json::parse(json.begin(), json.end());
  } catch (const Json::parse_error& e) {
    return Error("", "not valid JSON at byte " + std::to_string(e.byte) + ": " + ParseErrorDetail(e.what()));
  } catch (const Json::exception& e) {
    // out_of_range 406: a number too large for a double, which Go's decoder rejects too.
    return Error("", "not valid JSON: " + ParseErrorDetail(e.what()));
  }
  if (!root.is_object()) return Error("", "expected a JSON object, got " + std::string(root.type_name()));

  if (Status s = GetString(root, "name", "", &fc.name); !s.ok()) return s;
  if (Status s = GetString(root, "version", "", &fc.version); !s.ok()) return s;
  if (Status s = GetString(root, "runtime", "", &fc.runtime); !s.ok()) return s;
  if (fc.runtime != "Knative" && fc.runtime != "Async") {
    return Error("runtime", "must be \"Knative\" or \"Async\", got " + Quote(fc.runtime));
  }
  if (Status s = ParsePort(root, &fc.port); !s.ok()) return s;
  if (Status s = ParseComponents(root, "inputs", false, &fc.inputs); !s.ok()) return s;
  if (Status s = ParseComponents(root, "outputs", true, &fc.outputs); !s.ok()) return s;
  if (Status s = GetStringList(root, "prePlugins", &fc.pre_plugins); !s.ok()) return s;
  if (Status s = GetStringList(root, "postPlugins", &fc.post_plugins); !s.ok()) return s;
  if (Status s = GetString(root, "httpPattern", "", &fc.http_pattern); !s.ok()) return s;
  if (const Json* states = Member(root, "states")) {
    if (!states->is_object()) return Error("states", "expected an object");
    // Strings came from the parser, so they are valid UTF-8 and dump() cannot throw.
    fc.raw_states = states->dump();
  }
  return fc;
}

}  // namespace ofn

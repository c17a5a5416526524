#include "store/object.h"

#include "store/change.h"

namespace ofn::store {

std::string DisplayName(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string out(kind.empty() ? std::string_view("object") : kind);
  out += " \"";
  if (!ns.empty()) {
    out += ns;
    out += '/';
  }
  out += name;
  out += '"';
  return out;
}

const char* ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded: return "ADDED";
    case ChangeType::kModified: return "MODIFIED";
    case ChangeType::kDeleted: return "DELETED";
  }
  return "UNKNOWN";
}

}  // namespace ofn::store

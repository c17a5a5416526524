#include "cli/printers.h"

#include "cli/command.h"
#include "cli/table.h"

namespace ofn::cli {

std::string PreferredAddress(const json& obj) {
  const json* addresses = Find(obj, {"status", "addresses"});
  if (!addresses || !addresses->is_array() || addresses->empty()) return "";
  for (const json& a : *addresses) {
    if (Str(a, {"type"}) == "Internal") return Str(a, {"value"});
  }
  return Str((*addresses)[0], {"value"});
}

std::string RenderTable(const std::vector<json>& items, const TableOptions& options, SysTime now) {
  if (items.empty()) return "";
  const std::string kind = Str(items[0], {"kind"});
  std::vector<std::string> headers;
  if (options.all_namespaces) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  if (kind == "Function") {
    for (const char* h : {"BUILDSTATE", "SERVINGSTATE", "BUILDER", "SERVING", "URL", "AGE"}) headers.push_back(h);
    if (options.wide) {
      headers.push_back("REPLICAS");
      headers.push_back("READY");
    }
  } else if (kind == "Gateway") {
    for (const char* h : {"DOMAIN", "HOSTTEMPLATE", "PATHTEMPLATE", "AGE"}) headers.push_back(h);
  } else {
    headers.push_back("AGE");
  }
  Table table(headers);
  for (const json& obj : items) {
    std::vector<std::string> row;
    if (options.all_namespaces) row.push_back(Str(obj, {"metadata", "namespace"}));
    row.push_back(options.kind_prefix ? ObjectName(obj) : Str(obj, {"metadata", "name"}));
    const std::string age = AgeSince(Str(obj, {"metadata", "creationTimestamp"}), now);
    if (kind == "Function") {
      row.push_back(Str(obj, {"status", "build", "state"}));
      row.push_back(Str(obj, {"status", "serving", "state"}));
      row.push_back(Str(obj, {"status", "build", "resourceRef"}));
      row.push_back(Str(obj, {"status", "serving", "resourceRef"}));
      row.push_back(PreferredAddress(obj));
      row.push_back(age);
      if (options.wide) {
        row.push_back(Str(obj, {"status", "serving", "replicas"}));
        row.push_back(Str(obj, {"status", "serving", "readyReplicas"}));
      }
    } else if (kind == "Gateway") {
      row.push_back(Str(obj, {"spec", "domain"}));
      row.push_back(Str(obj, {"spec", "hostTemplate"}));
      row.push_back(Str(obj, {"spec", "pathTemplate"}));
      row.push_back(age);
    } else {
      row.push_back(age);
    }
    table.AddRow(std::move(row));
  }
  return table.Render();
}

}  // namespace ofn::cli

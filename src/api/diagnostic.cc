#include "api/diagnostic.h"

namespace ofn::api {

std::string Diagnostic::ToString() const {
  std::string out = source.empty() ? std::string("<input>") : source;
  if (position.line > 0) out += ':' + std::to_string(position.line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    out += d.ToString();
    out += '\n';
  }
  return out;
}

}  // namespace ofn::api

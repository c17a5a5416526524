// Diagnostic: one message about one field of one manifest document.
//
// Every error and every "ignored" note Ofn reports about a resource is a
// Diagnostic, so that all of them print the same way:
//   hello.yaml:14: spec.serving.scaleOptions.minReplicas: expected integer, got "two"
// The JSON pointer is kept beside the printed path so that callers and tests
// can match a message to a field exactly. A plain value type.
#pragma once

#include <string>
#include <vector>

namespace ofn::api {

// 1-based line and column in the source text; 0 when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  std::string source;  // file name, "-" for stdin, or another label
  Position position;
  std::string pointer;  // JSON pointer of the field ("" = the document)
  std::string path;     // Kubernetes-style field path, e.g. spec.template.containers[0].image
  std::string message;

  // "source:line: path: message", leaving out what is unknown.
  std::string ToString() const;
};

// One Diagnostic per line, in order.
std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics);

}  // namespace ofn::api

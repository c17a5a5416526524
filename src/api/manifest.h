// Manifest decoding: YAML (or JSON) text -> Documents, each remembering where
// every field came from.
//
// A file holds several documents separated by "---"; empty ones are skipped.
// Scalars are typed the way Kubernetes types them (kubectl decodes with YAML
// 1.1 rules, then turns the result into JSON): plain 5 is an integer, "5" a
// string, true/yes/on a boolean, ~/null/empty a null, 0x1F and 0755 integers,
// 1.5 and 1e3 floats; map keys become strings. Duplicate keys are errors (as
// with kubectl's strict field validation), merge keys ("<<") are applied.
// Every field's JSON pointer maps to the line and column of its key (or list
// item), so later errors can name the line. Parsing is pure: any number of
// threads may parse at once; a Document is a plain value.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/diagnostic.h"
#include "api/field_path.h"
#include "ofn/status.h"

namespace ofn::api {

struct Document {
  std::string api_version;  // "core.openfunction.io/v1beta2"
  std::string kind;         // "Function"
  std::string name;
  std::string ns;                                  // "default" unless given; "" for cluster-scoped kinds
  std::map<std::string, std::string> labels;       // string values only; the
  std::map<std::string, std::string> annotations;  // validator reports others
  nlohmann::json object;                           // the whole document
  std::string source;                              // file name given to ParseManifests
  int line = 0;                                    // 1-based line where the document's content starts
  // JSON pointer -> where its key (or list item) is written.
  std::unordered_map<std::string, Position> positions;
  // Set when `object` is a conversion of what the user wrote (e.g.
  // "core.openfunction.io/v1beta1"); positions then point into the original.
  std::string converted_from;

  std::string group() const;    // "core.openfunction.io" ("" for "v1")
  std::string version() const;  // "v1beta2"
  // Position of the field, or of its nearest ancestor that has one.
  Position PositionOf(std::string_view pointer) const;
  Diagnostic At(const FieldPath& field, std::string message) const;
  // "Function default/hello (hello.yaml:3)", for logs.
  std::string Describe() const;
};

struct ParseLimits {
  std::size_t max_bytes = 8u << 20;   // whole input
  int max_depth = 100;                // nesting of maps and lists
  std::size_t max_nodes = 1u << 18;   // per document, after expanding aliases
  std::size_t max_documents = 10000;  // per input, empty ones included
};

// Errors (a Status naming source and line): syntax errors, non-UTF-8 text,
// duplicate keys, non-scalar or null map keys, a document that is not a map,
// values JSON cannot hold (.inf, .nan), input over the limits.
Result<std::vector<Document>> ParseManifests(std::string_view yaml_text, std::string_view source_name);
Result<std::vector<Document>> ParseManifests(std::string_view yaml_text, std::string_view source_name,
                                             const ParseLimits& limits);

// Wraps an already decoded object (e.g. from the API's JSON body or the
// store) as a Document without positions.
Document DocumentFromJson(nlohmann::json object, std::string_view source_name);

// Short rendering of a value for messages: strings quoted, containers by type,
// long values cut.
std::string DescribeValue(const nlohmann::json& value);
// "string", "integer", "number", "boolean", "object", "array", "null".
const char* JsonTypeName(const nlohmann::json& value);

}  // namespace ofn::api

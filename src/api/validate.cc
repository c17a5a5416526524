#include "api/validate.h"

#include <algorithm>

#include "api/acted_on.h"
#include "api/ofn_extensions.h"
#include "api/schema.h"
#include "api/schema_registry.h"

namespace ofn::api {
namespace {

using nlohmann::json;

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Kubernetes' qualified name part: at most 63 of [A-Za-z0-9-_.], alphanumeric
// at both ends.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// Label and annotation keys: [prefix/]name, the prefix a DNS subdomain.
std::string CheckQualifiedName(std::string_view key) {
  std::string_view name = key;
  if (auto slash = key.find('/'); slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!IsDnsSubdomain(prefix)) return "the prefix before '/' must be a DNS subdomain (lowercase, e.g. example.com)";
  }
  if (!IsQualifiedNamePart(name)) {
    return "must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter "
           "or digit (with an optional DNS prefix and '/')";
  }
  return "";
}

// CRD schemas say only `metadata: {type: object}`; the API server knows
// ObjectMeta's own fields, so those are not unknown.
bool IsObjectMetaField(const std::string& pointer) {
  static const char* const kFields[] = {"name",
                                        "generateName",
                                        "namespace",
                                        "selfLink",
                                        "uid",
                                        "resourceVersion",
                                        "generation",
                                        "creationTimestamp",
                                        "deletionTimestamp",
                                        "deletionGracePeriodSeconds",
                                        "labels",
                                        "annotations",
                                        "ownerReferences",
                                        "finalizers",
                                        "managedFields"};
  std::vector<std::string> tokens = SplitPointer(pointer);
  if (tokens.size() != 2 || tokens[0] != "metadata") return false;
  return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* f) { return tokens[1] == f; });
}

const char* kIgnoredUnknown = "unknown field, ignored (not in the schema; Kubernetes would prune it)";

void CheckMetadata(const Document& doc, const KindInfo& info, ValidationReport* report) {
  FieldPath meta_at = FieldPath().Child("metadata");
  auto meta = doc.object.find("metadata");
  if (meta == doc.object.end() || meta->is_null()) {
    report->errors.push_back(doc.At(meta_at.Child("name"), "required field missing"));
    return;
  }
  if (!meta->is_object()) return;  // the schema reports the type
  auto field = [&](const char* name) -> const json* {
    auto it = meta->find(name);
    return it == meta->end() || it->is_null() ? nullptr : &*it;
  };
  const json* name = field("name");
  if (name == nullptr) {
    report->errors.push_back(doc.At(meta_at.Child("name"), "required field missing"));
  } else if (!name->is_string()) {
    report->errors.push_back(doc.At(meta_at.Child("name"), "expected string, got " + DescribeValue(*name)));
  } else if (std::string why = CheckObjectName(info.group, info.kind, name->get<std::string>()); !why.empty()) {
    report->errors.push_back(doc.At(meta_at.Child("name"), "invalid name " + DescribeValue(*name) + ": " + why));
  }
  if (const json* ns = field("namespace")) {
    if (!ns->is_string()) {
      report->errors.push_back(doc.At(meta_at.Child("namespace"), "expected string, got " + DescribeValue(*ns)));
    } else if (!info.namespaced) {
      report->ignored.push_back(doc.At(meta_at.Child("namespace"), "ignored: " + info.kind + " is cluster-scoped"));
    } else if (!IsDnsLabel(ns->get<std::string>())) {
      report->errors.push_back(
          doc.At(meta_at.Child("namespace"),
                 "invalid namespace " + DescribeValue(*ns) + ": must be a DNS label (at most 63 of a-z, 0-9 and '-')"));
    }
  }
  for (const char* map_name : {"labels", "annotations"}) {
    const json* m = field(map_name);
    if (m == nullptr) continue;
    FieldPath m_at = meta_at.Child(map_name);
    if (!m->is_object()) {
      report->errors.push_back(doc.At(m_at, "expected object, got " + DescribeValue(*m)));
      continue;
    }
    bool labels = std::string_view(map_name) == "labels";
    std::size_t total = 0;
    for (auto it = m->begin(); it != m->end(); ++it) {
      FieldPath at = m_at.Key(it.key());
      if (std::string why = CheckQualifiedName(it.key()); !why.empty()) {
        report->errors.push_back(doc.At(at, "invalid key: " + why));
      }
      if (!it->is_string()) {
        report->errors.push_back(doc.At(at, "expected string, got " + DescribeValue(*it)));
        continue;
      }
      const std::string& value = it->get_ref<const std::string&>();
      total += it.key().size() + value.size();
      if (labels && !value.empty() && !IsQualifiedNamePart(value)) {
        report->errors.push_back(doc.At(at, "invalid label value " + DescribeValue(*it) +
                                                ": at most 63 of letters, digits, '-', '_' or '.', "
                                                "starting and ending with a letter or digit"));
      }
    }
    if (!labels && total > 256 * 1024) {
      report->errors.push_back(doc.At(m_at, "annotations may not exceed 262144 bytes in total"));
    }
  }
}

}  // namespace

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string CheckObjectName(std::string_view group, std::string_view kind, std::string_view name) {
  if (name.empty()) return "may not be empty";
  if (group == "dapr.io") {
    bool ok = name.size() <= 253 && std::none_of(name.begin(), name.end(), [](char c) {
                return c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
              });
    return ok ? "" : "may not contain '/' or spaces, nor be longer than 253 characters";
  }
  if (group == "core.openfunction.io" && kind == "Function") {
    return IsDnsLabel(name) ? ""
                            : "must be a DNS label: at most 63 of a-z, 0-9 and '-', starting and ending "
                              "with a letter or digit (it becomes part of a host name)";
  }
  return IsDnsSubdomain(name) ? "" : "must be a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253";
}

ValidationReport Validate(const Document& doc) {
  ValidationReport report;
  if (!doc.object.is_object()) {
    report.errors.push_back(doc.At(FieldPath(), "a resource must be a map"));
    return report;
  }
  for (const char* f : {"apiVersion", "kind"}) {
    auto it = doc.object.find(f);
    if (it == doc.object.end() || it->is_null()) {
      report.errors.push_back(doc.At(FieldPath().Child(f), "required field missing"));
    } else if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      report.errors.push_back(doc.At(FieldPath().Child(f), "expected a non-empty string, got " + DescribeValue(*it)));
    }
  }
  if (!report.errors.empty()) return report;

  std::string group = doc.group(), version = doc.version();
  const KindInfo* info = FindKind(group, doc.kind);
  if (info == nullptr) {
    report.ignored.push_back(
        doc.At(FieldPath(), doc.api_version + " " + doc.kind + " is not a kind Ofn handles; the document is ignored"));
    return report;
  }
  const Schema* schema = FindSchema(group, version, doc.kind);
  if (schema == nullptr) {
    std::string served;
    for (const std::string& v : info->versions) served += (served.empty() ? "" : ", ") + group + "/" + v;
    report.errors.push_back(doc.At(FieldPath().Child("apiVersion"), "version " + version + " of " + doc.kind +
                                                                        " is not supported (use " + served + ")"));
    return report;
  }
  report.supported = true;

  Schema::Outcome outcome;
  schema->Validate(doc.object, FieldPath(), &outcome);
  const std::string status_pointer = "/status";
  for (Diagnostic& d : outcome.errors) {
    if (PointerHasPrefix(d.pointer, status_pointer)) continue;
    d.source = doc.source;
    d.position = doc.PositionOf(d.pointer);
    report.errors.push_back(std::move(d));
  }
  CheckMetadata(doc, *info, &report);

  std::vector<std::string> skip = {status_pointer};
  for (Diagnostic& d : outcome.unknown) {
    if (PointerHasPrefix(d.pointer, status_pointer) || IsObjectMetaField(d.pointer)) continue;
    d.source = doc.source;
    d.position = doc.PositionOf(d.pointer);
    d.message = kIgnoredUnknown;
    skip.push_back(d.pointer);
    report.ignored.push_back(std::move(d));
  }
  for (const SchemaExtension& x : OfnSchemaExtensions()) {
    if (x.group != group || x.kind != doc.kind) continue;
    const json* spec = doc.object.contains("spec") ? &doc.object["spec"] : nullptr;
    if (spec == nullptr || !spec->is_object() || !spec->contains(x.field)) continue;
    report.notes.push_back(doc.At(FieldPath().Child("spec").Child(x.field),
                                  "an Ofn extension: OpenFunction's schema has no such field (it would prune it)"));
  }
  if (auto st = doc.object.find("status"); st != doc.object.end() && !st->is_null()) {
    report.ignored.push_back(doc.At(FieldPath().Child("status"), "ignored: status is written by Ofn"));
  }
  // What Ofn acts on is listed for the stored version; other versions are
  // converted first and their conversion is checked against that list.
  if (version == info->storage_version) CollectNotActedOn(doc, skip, &report.ignored);
  auto by_line = [](const Diagnostic& a, const Diagnostic& b) { return a.position.line < b.position.line; };
  std::stable_sort(report.errors.begin(), report.errors.end(), by_line);
  std::stable_sort(report.ignored.begin(), report.ignored.end(), by_line);
  return report;
}

}  // namespace ofn::api

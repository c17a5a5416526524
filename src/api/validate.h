// Validation of one manifest document against its kind's schema.
//
// Checks what the Kubernetes API server would: apiVersion and kind, the
// object metadata (name, namespace, label and annotation syntax), and the
// CRD schema of that version (all errors, with field paths and lines). Also
// lists, once, what Ofn will not act on: fields the schema does not know
// (Kubernetes would prune them), fields outside acted_on.h's list, and
// status (written by Ofn, never read from a manifest). A document of a kind
// Ofn does not handle (apps/v1 Deployment, ...) is not an error: it is
// reported as ignored with supported = false. Pure; thread-safe.
#pragma once

#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"

namespace ofn::api {

struct ValidationReport {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> ignored;
  // Accepted and acted on, but worth saying: Ofn's extensions to
  // OpenFunction's schema (OpenFunction on Kubernetes would prune them).
  std::vector<Diagnostic> notes;
  bool supported = false;  // an Ofn kind and version

  bool ok() const { return errors.empty(); }
};

ValidationReport Validate(const Document& doc);

// Name rules: a Function's name is a DNS label (it becomes a host name:
// {{.Name}}.{{.Namespace}}.{{.Domain}}); other OpenFunction kinds take a DNS
// subdomain, as Kubernetes does; a Dapr Component any name without '/' or
// spaces, as Dapr's standalone mode does. Empty message when valid.
std::string CheckObjectName(std::string_view group, std::string_view kind, std::string_view name);
// RFC 1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends.
bool IsDnsLabel(std::string_view s);
// RFC 1123 subdomain: at most 253, dot-separated labels.
bool IsDnsSubdomain(std::string_view s);

}  // namespace ofn::api

// Gateway: the typed view of a networking.openfunction.io/v1alpha1 Gateway,
// which tells Ofn's gateway how to name functions: a host per function from
// hostTemplate and a path per function from pathTemplate, under `domain`.
// Defaults are the CRD's. The Kubernetes Gateway API parts (gatewayRef,
// gatewayDef, gatewaySpec) are kept as written for export. Values only;
// thread-safe to share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"
#include "ofn/status.h"

namespace ofn::api {

struct Gateway {
  std::string name;
  std::string ns;
  std::string domain;
  std::string cluster_domain = "cluster.local";
  std::string host_template = "{{.Name}}.{{.Namespace}}.{{.Domain}}";
  std::string path_template = "{{.Namespace}}/{{.Name}}";
  std::string http_route_label_key = "app.kubernetes.io/managed-by";
  nlohmann::json gateway_ref;  // null when absent
  nlohmann::json gateway_def;
  nlohmann::json gateway_spec;
};

// Appends an error for each semantic problem (a domain that is not a DNS
// name, a template with fields other than .Name, .Namespace and .Domain).
Gateway DecodeGateway(const Document& doc, std::vector<Diagnostic>* errors);

// Expands a host or path template: {{.Name}}, {{.Namespace}} and {{.Domain}}
// (spaces inside the braces allowed, as in Go templates); anything else in
// braces is an error.
Result<std::string> ExpandGatewayTemplate(std::string_view tmpl, std::string_view name, std::string_view ns,
                                          std::string_view domain);

}  // namespace ofn::api

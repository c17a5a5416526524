// CRD bundle: the compact form of CustomResourceDefinitions that Ofn embeds.
//
// From each CRD it keeps group, kind, plural, scope, the storage version and
// each served version's openAPIV3Schema with descriptions stripped. Two
// fix-ups are applied, both recorded here because they change what the
// upstream files say:
//  - Dapr's DynamicValue (the `value` of component metadata) is declared
//    `type: object` in OpenFunction's CRD, yet Dapr's Go type takes any JSON
//    and every manifest writes a string there; its type is dropped (Dapr's own
//    Component CRD leaves it untyped too).
//  - dapr.io/v1alpha1 Component is added, its spec being the ComponentSpec
//    OpenFunction embeds in Function v1beta2 serving.bindings.
// The bundle is {"source": note, "kinds": [{"group", "kind", "plural",
// "namespaced", "storage", "versions": {version: schema}}]}. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/manifest.h"
#include "ofn/status.h"

namespace ofn::api {

// `crds` are parsed CustomResourceDefinition documents (apiextensions.k8s.io/v1).
Result<nlohmann::json> BuildCrdBundle(const std::vector<Document>& crds, std::string_view source_note);
// The C++ source of embedded_crd_schemas.cc holding `bundle`.
Result<std::string> RenderCrdBundleSource(const nlohmann::json& bundle);

}  // namespace ofn::api

// Conversion of core.openfunction.io/v1beta1 Functions to v1beta2, with
// OpenFunction's own semantics (apis/core/v1beta1/function_conversion.go):
//  - serving.runtime knative: spec.port and spec.route become
//    serving.triggers.http {port, route};
//  - serving.runtime async: each serving.inputs[] {name, component, topic}
//    becomes serving.triggers.dapr[] {name: component, topic, inputName: name,
//    type: the component's type from serving.bindings or serving.pubsub};
//  - serving.outputs[] {name, component, topic, operation, params} become
//    serving.outputs[].dapr {name: component, type, topic, operation,
//    outputName: name, metadata: params}; an output naming no component in
//    bindings/pubsub is dropped;
//  - serving.states[k] becomes serving.states[k].spec;
//  - scaleOptions.keda.scaledObject {min,max}ReplicaCount become
//    scaleOptions.{min,max}Replicas, scaledJob.maxReplicaCount
//    maxReplicas; serving.triggers[] (KEDA scalers) become
//    scaleOptions.keda.triggers[] (without targetKind);
//  - build.params become build.shipwright.params [{name, value}];
//  - the "plugins" annotation ({order|pre|post}) becomes serving.hooks with
//    policy Override (order: pre = order, post = reversed order), and
//    "plugins.tracing" becomes serving.tracing;
//  - metadata, version, image, imageCredentials, workloadRuntime, and serving
//    bindings, pubsub, params, labels, annotations, template and timeout are
//    copied; status is left out (Ofn writes it).
// Where OpenFunction's code slips, Ofn does what was meant, and says so here:
// bundleContainer.image is copied (upstream copies srcRepo.credentials.name),
// build.timeout is copied (upstream drops it although v1beta2 has it), and
// scaledJob.pollingInterval comes from scaledJob (upstream reads
// scaledObject's). Whatever the conversion drops is reported as a note.
// Pure; thread-safe.
#pragma once

#include <vector>

#include "api/diagnostic.h"
#include "api/manifest.h"

namespace ofn::api {

struct Conversion {
  // The v1beta2 object as a Document: converted_from is set and positions
  // point at the v1beta1 source lines the values came from.
  Document document;
  std::vector<Diagnostic> errors;  // e.g. a plugins annotation that is not YAML
  std::vector<Diagnostic> notes;   // what was dropped
};

// `v1beta1` should have passed Validate(); anything else is converted as far
// as it goes (types that do not fit are left out).
Conversion ConvertFunctionToV1beta2(const Document& v1beta1);

}  // namespace ofn::api

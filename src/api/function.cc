#include "api/function.h"

#include <algorithm>

#include "api/decode_reader.h"
#include "api/quantity.h"
#include "common/duration.h"

namespace ofn::api {
namespace {

using nlohmann::json;
using R = DecodeReader;

bool OneOf(std::string_view v, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), v) != options.end();
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

void DecodeValueMatches(R& r, const json* list, const FieldPath& at, std::vector<HttpValueMatch>* out) {
  if (!r.Array(list, at) || list == nullptr) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json* m = &(*list)[i];
    FieldPath mat = at.Index(i);
    if (!r.Object(m, mat)) continue;
    HttpValueMatch hm;
    r.String(R::Member(m, "type"), mat.Child("type"), &hm.type);
    r.String(R::Member(m, "name"), mat.Child("name"), &hm.name);
    r.String(R::Member(m, "value"), mat.Child("value"), &hm.value);
    out->push_back(std::move(hm));
  }
}

HttpRoute DecodeRoute(R& r, const json* route, const FieldPath& at) {
  HttpRoute out;
  if (!r.Object(route, at) || route == nullptr) return out;
  r.StringList(R::Member(route, "hostnames"), at.Child("hostnames"), &out.hostnames);
  if (const json* ref = R::Member(route, "gatewayRef"); ref != nullptr && r.Object(ref, at.Child("gatewayRef"))) {
    r.String(R::Member(ref, "name"), at.Child("gatewayRef").Child("name"), &out.gateway_ref.name);
    r.String(R::Member(ref, "namespace"), at.Child("gatewayRef").Child("namespace"), &out.gateway_ref.ns);
  }
  const json* rules = R::Member(route, "rules");
  FieldPath rules_at = at.Child("rules");
  if (!r.Array(rules, rules_at) || rules == nullptr) return out;
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const json* rule = &(*rules)[i];
    FieldPath rule_at = rules_at.Index(i);
    if (!r.Object(rule, rule_at)) continue;
    HttpRouteRule hr;
    const json* matches = R::Member(rule, "matches");
    FieldPath matches_at = rule_at.Child("matches");
    if (r.Array(matches, matches_at) && matches != nullptr) {
      for (std::size_t k = 0; k < matches->size(); ++k) {
        const json* m = &(*matches)[k];
        FieldPath m_at = matches_at.Index(k);
        if (!r.Object(m, m_at)) continue;
        HttpRouteMatch hm;
        if (const json* path = R::Member(m, "path"); path != nullptr && r.Object(path, m_at.Child("path"))) {
          r.String(R::Member(path, "type"), m_at.Child("path").Child("type"), &hm.path.type);
          r.String(R::Member(path, "value"), m_at.Child("path").Child("value"), &hm.path.value);
          if (hm.path.type != "RegularExpression" && !hm.path.value.starts_with("/")) {
            r.Error(m_at.Child("path").Child("value"), "must be an absolute path (start with '/')");
          }
        }
        DecodeValueMatches(r, R::Member(m, "headers"), m_at.Child("headers"), &hm.headers);
        DecodeValueMatches(r, R::Member(m, "queryParams"), m_at.Child("queryParams"), &hm.query_params);
        r.String(R::Member(m, "method"), m_at.Child("method"), &hm.method);
        hr.matches.push_back(std::move(hm));
      }
    }
    if (hr.matches.empty()) hr.matches.emplace_back();  // the CRD's default: PathPrefix "/"
    out.rules.push_back(std::move(hr));
  }
  return out;
}

// A component's type from serving.bindings or serving.pubsub, as
// OpenFunction looks it up.
std::string ComponentType(const json* serving, const std::string& name) {
  for (const char* map : {"bindings", "pubsub"}) {
    const json* c = R::Member(R::Member(serving, map), name);
    if (const json* t = R::Member(c, "type"); t != nullptr && t->is_string()) return t->get<std::string>();
  }
  return "";
}

void DecodeResourceList(R& r, const json* list, const FieldPath& at, ResourceList* out) {
  if (!r.Object(list, at) || list == nullptr) return;
  for (auto it = list->begin(); it != list->end(); ++it) {
    if (it->is_null()) continue;
    FieldPath q_at = at.Key(it.key());
    std::string text;
    if (it->is_number()) {
      text = it->dump();  // int-or-string: 2 means 2 cores, 1073741824 bytes
    } else if (!r.String(&it.value(), q_at, &text)) {
      continue;
    }
    auto q = Quantity::Parse(text);
    if (!q.ok()) {
      r.Error(q_at, q.status().message());
      continue;
    }
    if (q->negative()) {
      r.Error(q_at, "must be greater than or equal to 0");
      continue;
    }
    if (it.key() == "cpu") {
      auto m = q->MilliValue();
      if (m.ok()) {
        out->cpu_millis = *m;
      } else {
        r.Error(q_at, m.status().message());
      }
    } else if (it.key() == "memory") {
      auto b = q->Value();
      if (b.ok()) {
        out->memory_bytes = *b;
      } else {
        r.Error(q_at, b.status().message());
      }
    } else {
      out->other[it.key()] = text;
    }
  }
}

void CheckEnvName(R& r, const std::string& name, const FieldPath& at) {
  if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
    r.Error(at, "invalid environment variable name " + Quoted(name) + ": must be non-empty and without '='");
  }
}

std::optional<FunctionContainer> DecodeContainer(R& r, const json* template_, const FieldPath& at) {
  const json* containers = R::Member(template_, "containers");
  FieldPath cs_at = at.Child("containers");
  if (!r.Array(containers, cs_at) || containers == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < containers->size(); ++i) {
    const json* c = &(*containers)[i];
    if (!c->is_object() || c->value("name", json()) != "function") continue;
    FieldPath c_at = cs_at.Index(i);
    FunctionContainer out;
    r.StringList(R::Member(c, "command"), c_at.Child("command"), &out.command);
    r.StringList(R::Member(c, "args"), c_at.Child("args"), &out.args);
    r.String(R::Member(c, "workingDir"), c_at.Child("workingDir"), &out.working_dir);
    const json* env = R::Member(c, "env");
    if (r.Array(env, c_at.Child("env")) && env != nullptr) {
      for (std::size_t k = 0; k < env->size(); ++k) {
        const json* e = &(*env)[k];
        FieldPath e_at = c_at.Child("env").Index(k);
        if (!r.Object(e, e_at)) continue;
        EnvVar var;
        r.String(R::Member(e, "name"), e_at.Child("name"), &var.name);
        CheckEnvName(r, var.name, e_at.Child("name"));
        if (R::Member(e, "value") == nullptr && R::Member(e, "valueFrom") != nullptr) continue;  // not acted on
        r.String(R::Member(e, "value"), e_at.Child("value"), &var.value);
        out.env.push_back(std::move(var));
      }
    }
    const json* res = R::Member(c, "resources");
    FieldPath res_at = c_at.Child("resources");
    if (r.Object(res, res_at)) {
      DecodeResourceList(r, R::Member(res, "limits"), res_at.Child("limits"), &out.resources.limits);
      DecodeResourceList(r, R::Member(res, "requests"), res_at.Child("requests"), &out.resources.requests);
      const ResourceList& lim = out.resources.limits;
      const ResourceList& req = out.resources.requests;
      if (lim.cpu_millis && req.cpu_millis && *req.cpu_millis > *lim.cpu_millis) {
        r.Error(res_at.Child("requests").Key("cpu"), "must be less than or equal to the cpu limit");
      }
      if (lim.memory_bytes && req.memory_bytes && *req.memory_bytes > *lim.memory_bytes) {
        r.Error(res_at.Child("requests").Key("memory"), "must be less than or equal to the memory limit");
      }
    }
    return out;
  }
  return std::nullopt;
}

void DecodeScale(R& r, const json* so, const FieldPath& at, ScaleOptions* out) {
  if (!r.Object(so, at) || so == nullptr) return;
  r.Int32(R::Member(so, "minReplicas"), at.Child("minReplicas"), &out->min_replicas);
  r.Int32(R::Member(so, "maxReplicas"), at.Child("maxReplicas"), &out->max_replicas);
  r.StringMap(R::Member(so, "knative"), at.Child("knative"), &out->knative);
  // OpenFunction's webhook: both at least 0, and min not above max (10 when not given).
  std::int32_t min = out->min_replicas.value_or(0), max = out->max_replicas.value_or(10);
  if (min < 0) r.Error(at.Child("minReplicas"), "cannot be less than 0");
  if (max < 0) r.Error(at.Child("maxReplicas"), "cannot be less than 0");
  if (min >= 0 && max >= 0 && min > max) {
    r.Error(at.Child("minReplicas"), "cannot be greater than maxReplicas (" + std::to_string(max) +
                                         (out->max_replicas ? ")" : ", the default)"));
  }
  const json* keda = R::Member(so, "keda");
  FieldPath keda_at = at.Child("keda");
  if (keda != nullptr && r.Object(keda, keda_at)) {
    out->keda = *keda;
    int kinds = 0;
    for (const char* k : {"scaledJob", "scaledObject", "httpScaledObject"}) kinds += R::Member(keda, k) ? 1 : 0;
    if (kinds != 1) r.Error(keda_at, "exactly one of scaledObject, scaledJob and httpScaledObject must be set");
    for (const char* k : {"scaledObject", "scaledJob", "httpScaledObject"}) {
      for (const char* f : {"pollingInterval", "cooldownPeriod", "targetPendingRequests", "successfulJobsHistoryLimit",
                            "failedJobsHistoryLimit"}) {
        std::optional<std::int32_t> v;
        FieldPath f_at = keda_at.Child(k).Child(f);
        if (r.Int32(R::Member(R::Member(keda, k), f), f_at, &v) && v && *v < 0) r.Error(f_at, "cannot be less than 0");
      }
    }
  }
}

void DecodeBuild(R& r, const json* build, const FieldPath& at) {
  if (!r.Object(build, at) || build == nullptr) return;
  // No builder (OpenFunction requires one unless dockerfile is given): Ofn
  // takes shipwright.strategy.name, else detects the strategy from the source.
  const json* src = R::Member(build, "srcRepo");
  std::string url;
  r.String(R::Member(src, "url"), at.Child("srcRepo").Child("url"), &url);
  if (src != nullptr && url.empty() && R::Member(src, "bundleContainer") == nullptr) {
    r.Error(at.Child("srcRepo"), "must specify one of: url or bundleContainer");
  }
  for (const char* f : {"successfulBuildsHistoryLimit", "failedBuildsHistoryLimit"}) {
    std::optional<std::int32_t> v;
    if (r.Int32(R::Member(build, f), at.Child(f), &v) && v && *v < 0) r.Error(at.Child(f), "cannot be less than 0");
  }
  for (const char* f : {"timeout", "builderMaxAge"}) {
    std::string text;
    if (!r.String(R::Member(build, f), at.Child(f), &text) || text.empty()) continue;
    auto d = ParseGoDuration(text);
    if (!d.ok()) {
      r.Error(at.Child(f), d.status().message());
    } else if (d->count() < 0) {
      r.Error(at.Child(f), "cannot be less than 0");
    }
  }
  const json* kind = R::Member(R::Member(R::Member(build, "shipwright"), "strategy"), "kind");
  std::string k;
  FieldPath kind_at = at.Child("shipwright").Child("strategy").Child("kind");
  if (r.String(kind, kind_at, &k) && kind != nullptr && !OneOf(k, {"BuildStrategy", "ClusterBuildStrategy"})) {
    r.Error(kind_at,
            "unsupported value " + Quoted(k) + ": supported values: \"BuildStrategy\", \"ClusterBuildStrategy\"");
  }
}

Serving DecodeServing(R& r, const json* s, const FieldPath& at) {
  Serving out;
  const json* triggers = R::Member(s, "triggers");
  FieldPath t_at = at.Child("triggers");
  r.Object(triggers, t_at);
  const json* dapr = R::Member(triggers, "dapr");
  if (r.Array(dapr, t_at.Child("dapr")) && dapr != nullptr) {
    for (std::size_t i = 0; i < dapr->size(); ++i) {
      const json* d = &(*dapr)[i];
      FieldPath d_at = t_at.Child("dapr").Index(i);
      if (!r.Object(d, d_at)) continue;
      DaprTrigger dt;
      r.String(R::Member(d, "name"), d_at.Child("name"), &dt.name);
      r.String(R::Member(d, "type"), d_at.Child("type"), &dt.type);
      r.String(R::Member(d, "topic"), d_at.Child("topic"), &dt.topic);
      r.String(R::Member(d, "inputName"), d_at.Child("inputName"), &dt.input_name);
      if (dt.type.empty()) dt.type = ComponentType(s, dt.name);
      if (dt.input_name.empty()) dt.input_name = dt.name;
      out.dapr_triggers.push_back(std::move(dt));
    }
  }
  const json* http = R::Member(triggers, "http");
  FieldPath h_at = t_at.Child("http");
  // OpenFunction's webhook: no Dapr trigger means an HTTP function on 8080.
  if ((http != nullptr || out.dapr_triggers.empty()) && r.Object(http, h_at)) {
    HttpTrigger ht;
    std::optional<std::int32_t> port;
    if (r.Int32(R::Member(http, "port"), h_at.Child("port"), &port) && port && *port != 0) {
      if (*port < 1 || *port > 65535) r.Error(h_at.Child("port"), "must be between 1 and 65535");
      ht.port = *port;
    }
    std::string engine;
    if (r.String(R::Member(http, "engine"), h_at.Child("engine"), &engine) && !engine.empty() &&
        !OneOf(engine, {"knative", "keda"})) {
      r.Error(h_at.Child("engine"), "unknown engine " + Quoted(engine) + ": neither knative nor keda");
    }
    ht.route = DecodeRoute(r, R::Member(http, "route"), h_at.Child("route"));
    out.http = std::move(ht);
  }
  const json* outputs = R::Member(s, "outputs");
  if (r.Array(outputs, at.Child("outputs")) && outputs != nullptr) {
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      FieldPath o_at = at.Child("outputs").Index(i).Child("dapr");
      const json* d = R::Member(&(*outputs)[i], "dapr");
      if (!r.Object(&(*outputs)[i], at.Child("outputs").Index(i)) || d == nullptr || !r.Object(d, o_at)) continue;
      DaprOutput o;
      r.String(R::Member(d, "name"), o_at.Child("name"), &o.name);
      r.String(R::Member(d, "type"), o_at.Child("type"), &o.type);
      r.String(R::Member(d, "topic"), o_at.Child("topic"), &o.topic);
      r.String(R::Member(d, "operation"), o_at.Child("operation"), &o.operation);
      r.String(R::Member(d, "outputName"), o_at.Child("outputName"), &o.output_name);
      r.StringMap(R::Member(d, "metadata"), o_at.Child("metadata"), &o.metadata);
      if (o.type.empty()) o.type = ComponentType(s, o.name);
      if (o.output_name.empty()) o.output_name = o.name;
      out.outputs.push_back(std::move(o));
    }
  }
  for (auto [field, target] :
       {std::pair{"bindings", &out.bindings}, std::pair{"pubsub", &out.pubsub}, std::pair{"states", &out.states}}) {
    const json* v = R::Member(s, field);
    if (v != nullptr && r.Object(v, at.Child(field))) *target = *v;
  }
  DecodeScale(r, R::Member(s, "scaleOptions"), at.Child("scaleOptions"), &out.scale);
  if (const json* hooks = R::Member(s, "hooks"); hooks != nullptr && r.Object(hooks, at.Child("hooks"))) {
    Hooks h;
    FieldPath hk = at.Child("hooks");
    r.StringList(R::Member(hooks, "pre"), hk.Child("pre"), &h.pre);
    r.StringList(R::Member(hooks, "post"), hk.Child("post"), &h.post);
    if (r.String(R::Member(hooks, "policy"), hk.Child("policy"), &h.policy) &&
        !OneOf(h.policy, {"Append", "Override"})) {
      r.Error(hk.Child("policy"),
              "unsupported value " + Quoted(h.policy) + ": supported values: \"Append\", \"Override\"");
    }
    out.hooks = std::move(h);
  }
  r.StringMap(R::Member(s, "params"), at.Child("params"), &out.params);
  for (const auto& [name, value] : out.params) CheckEnvName(r, name, at.Child("params").Key(name));
  out.container = DecodeContainer(r, R::Member(s, "template"), at.Child("template"));
  std::string timeout;
  if (r.String(R::Member(s, "timeout"), at.Child("timeout"), &timeout) && !timeout.empty()) {
    auto d = ParseGoDuration(timeout);
    if (!d.ok()) {
      r.Error(at.Child("timeout"), d.status().message());
    } else if (d->count() <= 0) {
      r.Error(at.Child("timeout"), "must be greater than 0");
    } else {
      out.timeout = *d;
    }
  }
  r.StringMap(R::Member(s, "annotations"), at.Child("annotations"), &out.annotations);
  r.StringMap(R::Member(s, "labels"), at.Child("labels"), &out.labels);
  return out;
}

}  // namespace

Function DecodeFunction(const Document& doc, std::vector<Diagnostic>* errors) {
  R r(doc, errors);
  Function fn;
  fn.name = doc.name;
  fn.ns = doc.ns;
  fn.labels = doc.labels;
  fn.annotations = doc.annotations;
  const json* spec = R::Member(&doc.object, "spec");
  FieldPath at = FieldPath().Child("spec");
  if (!r.Object(spec, at)) return fn;
  r.String(R::Member(spec, "version"), at.Child("version"), &fn.version);
  if (fn.version.empty()) fn.version = "latest";
  r.String(R::Member(spec, "image"), at.Child("image"), &fn.image);
  if (fn.image.empty()) r.Error(at.Child("image"), "must be specified");
  r.String(R::Member(spec, "workloadRuntime"), at.Child("workloadRuntime"), &fn.workload_runtime);
  if (const json* creds = R::Member(spec, "imageCredentials"); creds && r.Object(creds, at.Child("imageCredentials"))) {
    r.String(R::Member(creds, "name"), at.Child("imageCredentials").Child("name"), &fn.image_credentials);
  }
  if (const json* build = R::Member(spec, "build")) {
    fn.build = *build;
    DecodeBuild(r, build, at.Child("build"));
  }
  const json* serving = R::Member(spec, "serving");
  if (serving != nullptr && r.Object(serving, at.Child("serving"))) {
    fn.serving = DecodeServing(r, serving, at.Child("serving"));
  }
  if (fn.build.is_null() && serving == nullptr) {
    r.Error(at.Child("serving"), "must be specified when spec.build is not");
  }
  return fn;
}

}  // namespace ofn::api

#include "api/convert.h"

#include <algorithm>
#include <map>
#include <optional>

#include "api/decode_reader.h"

namespace ofn::api {
namespace {

using nlohmann::json;

const json* Get(const json* v, std::string_view key) { return DecodeReader::Member(v, key); }

class V1beta1Converter {
 public:
  V1beta1Converter(const Document& in, Conversion* c) : in_(in), c_(c) {}

  json Run() {
    out_ = {{"apiVersion", "core.openfunction.io/v1beta2"}, {"kind", "Function"}};
    Origin("", "");
    const json* o = &in_.object;
    if (const json* meta = Get(o, "metadata")) Put(out_["metadata"], *meta, "/metadata", "/metadata");
    const json* spec = Get(o, "spec");
    json& dspec = out_["spec"];
    dspec = json::object();
    Origin("/spec", "/spec");
    for (const char* f : {"version", "image", "imageCredentials", "workloadRuntime"}) {
      CopyField(spec, f, dspec, "/spec", "/spec");
    }
    if (const json* build = Get(spec, "build"); build != nullptr && build->is_object()) Build(*build, dspec);
    if (const json* serving = Get(spec, "serving"); serving != nullptr && serving->is_object()) {
      Serving(*spec, *serving, dspec);
    }
    if (Get(o, "status") != nullptr) Origin("/status", "/status");
    return std::move(out_);
  }

  // dst pointer -> the src pointer it came from
  const std::map<std::string, std::string>& origins() const { return origins_; }

 private:
  void Origin(std::string dst, std::string src) { origins_[std::move(dst)] = std::move(src); }

  void Put(json& slot, const json& value, const std::string& dst, const std::string& src) {
    slot = value;
    Origin(dst, src);
  }

  // Copies member `f` of `from` (at src pointer `src`) into `to` (at `dst`), if present.
  void CopyField(const json* from, const char* f, json& to, const std::string& dst, const std::string& src,
                 const char* to_name = nullptr) {
    const json* v = Get(from, f);
    if (v == nullptr) return;
    std::string name = to_name ? to_name : f;
    Put(to[name], *v, dst + "/" + EscapePointerToken(name), src + "/" + EscapePointerToken(f));
  }

  void Note(const std::string& src, std::string message) {
    c_->notes.push_back(in_.At(FieldPath::FromPointer(src, &in_.object), std::move(message)));
  }

  void Build(const json& build, json& dspec) {
    json& b = dspec["build"];
    b = json::object();
    Origin("/spec/build", "/spec/build");
    const std::string bp = "/spec/build";
    for (const char* f : {"builder", "builderCredentials", "env", "dockerfile", "builderMaxAge",
                          "failedBuildsHistoryLimit", "successfulBuildsHistoryLimit", "timeout"}) {
      CopyField(&build, f, b, bp, bp);
    }
    if (const json* src = Get(&build, "srcRepo"); src != nullptr && src->is_object()) {
      json& r = b["srcRepo"];
      r = json::object();
      Origin(bp + "/srcRepo", bp + "/srcRepo");
      for (const char* f : {"url", "sourceSubPath", "revision", "credentials"}) {
        CopyField(src, f, r, bp + "/srcRepo", bp + "/srcRepo");
      }
      if (const json* bundle = Get(src, "bundleContainer"); bundle != nullptr && bundle->is_object()) {
        json& bc = r["bundleContainer"];
        bc = json::object();
        Origin(bp + "/srcRepo/bundleContainer", bp + "/srcRepo/bundleContainer");
        CopyField(bundle, "image", bc, bp + "/srcRepo/bundleContainer", bp + "/srcRepo/bundleContainer");
      }
    }
    const json* sw = Get(&build, "shipwright");
    const json* params = Get(&build, "params");
    bool has_params = params != nullptr && params->is_object() && !params->empty();
    if ((sw != nullptr && sw->is_object()) || has_params) {
      json& s = b["shipwright"];
      s = json::object();
      Origin(bp + "/shipwright", bp + "/shipwright");
      if (const json* strategy = Get(sw, "strategy"); strategy != nullptr && strategy->is_object()) {
        json& st = s["strategy"];
        st = json::object();
        Origin(bp + "/shipwright/strategy", bp + "/shipwright/strategy");
        CopyField(strategy, "name", st, bp + "/shipwright/strategy", bp + "/shipwright/strategy");
        CopyField(strategy, "kind", st, bp + "/shipwright/strategy", bp + "/shipwright/strategy");
      }
      CopyField(sw, "timeout", s, bp + "/shipwright", bp + "/shipwright");
      if (has_params) {
        json& list = s["params"];
        list = json::array();
        Origin(bp + "/shipwright/params", bp + "/params");
        for (auto it = params->begin(); it != params->end(); ++it) {
          if (!it->is_string()) continue;
          std::string dst = bp + "/shipwright/params/" + std::to_string(list.size());
          list.push_back({{"name", it.key()}, {"value", *it}});
          Origin(dst, bp + "/params/" + EscapePointerToken(it.key()));
        }
      }
    }
  }

  // The ComponentSpec named `name` in serving.bindings, else serving.pubsub.
  static const json* Component(const json& serving, const std::string& name) {
    if (const json* c = Get(Get(&serving, "bindings"), name)) return c;
    return Get(Get(&serving, "pubsub"), name);
  }

  void Serving(const json& spec, const json& serving, json& dspec) {
    const std::string sp = "/spec/serving";
    json& s = dspec["serving"];
    s = json::object();
    Origin(sp, sp);
    for (const char* f : {"pubsub", "bindings", "params", "labels", "annotations", "template", "timeout"}) {
      CopyField(&serving, f, s, sp, sp);
    }
    json& triggers = s["triggers"];
    triggers = json::object();
    Origin(sp + "/triggers", sp + "/runtime");
    std::string runtime = serving.value("runtime", json()).is_string() ? serving["runtime"].get<std::string>() : "";
    const json* inputs = Get(&serving, "inputs");
    if (runtime == "knative") {
      json& http = triggers["http"];
      http = json::object();
      Origin(sp + "/triggers/http", sp + "/runtime");
      CopyField(&spec, "port", http, sp + "/triggers/http", "/spec");
      if (const json* route = Get(&spec, "route"); route != nullptr && route->is_object()) {
        json& r = http["route"];
        r = json::object();
        Origin(sp + "/triggers/http/route", "/spec/route");
        CopyField(route, "hostnames", r, sp + "/triggers/http/route", "/spec/route");
        CopyField(route, "rules", r, sp + "/triggers/http/route", "/spec/route");
        if (const json* ref = Get(route, "gatewayRef"); ref != nullptr && ref->is_object()) {
          json& g = r["gatewayRef"];
          g = json::object();
          Origin(sp + "/triggers/http/route/gatewayRef", "/spec/route/gatewayRef");
          CopyField(ref, "name", g, sp + "/triggers/http/route/gatewayRef", "/spec/route/gatewayRef");
          CopyField(ref, "namespace", g, sp + "/triggers/http/route/gatewayRef", "/spec/route/gatewayRef");
        }
      }
      if (inputs != nullptr)
        Note(sp + "/inputs", "dropped by the conversion to v1beta2: inputs apply to async functions only");
    } else if (runtime == "async") {
      if (inputs != nullptr && inputs->is_array()) {
        json& dapr = triggers["dapr"];
        dapr = json::array();
        for (std::size_t i = 0; i < inputs->size(); ++i) {
          const json& in = (*inputs)[i];
          if (!in.is_object()) continue;
          std::string src = sp + "/inputs/" + std::to_string(i);
          std::string dst = sp + "/triggers/dapr/" + std::to_string(dapr.size());
          json t = json::object();
          Origin(dst, src);
          CopyField(&in, "component", t, dst, src, "name");
          CopyField(&in, "topic", t, dst, src);
          CopyField(&in, "name", t, dst, src, "inputName");
          if (const json* comp = in.value("component", json()).is_string()
                                     ? Component(serving, in["component"].get<std::string>())
                                     : nullptr) {
            if (const json* type = Get(comp, "type")) Put(t["type"], *type, dst + "/type", src + "/component");
          }
          for (const char* dropped : {"operation", "params"}) {
            if (Get(&in, dropped) != nullptr) {
              Note(src + "/" + dropped,
                   "dropped by the conversion to v1beta2: Dapr triggers have no " + std::string(dropped));
            }
          }
          dapr.push_back(std::move(t));
        }
      }
      for (const char* f : {"port", "route"}) {
        if (Get(&spec, f) != nullptr) {
          Note(std::string("/spec/") + f, "dropped by the conversion to v1beta2: async functions serve no HTTP");
        }
      }
    }
    ScaleOptions(serving, s);
    Outputs(serving, s);
    if (const json* states = Get(&serving, "states"); states != nullptr && states->is_object()) {
      json& d = s["states"];
      d = json::object();
      Origin(sp + "/states", sp + "/states");
      for (auto it = states->begin(); it != states->end(); ++it) {
        std::string key = EscapePointerToken(it.key());
        d[it.key()] = json::object();
        Put(d[it.key()]["spec"], *it, sp + "/states/" + key + "/spec", sp + "/states/" + key);
      }
    }
    Plugins(s);
  }

  void ScaleOptions(const json& serving, json& s) {
    const std::string sp = "/spec/serving";
    const json* so = Get(&serving, "scaleOptions");
    const json* keda = Get(so, "keda");
    const json* scalers = Get(&serving, "triggers");
    if (so != nullptr && so->is_object()) {
      json& d = s["scaleOptions"];
      d = json::object();
      std::string sop = sp + "/scaleOptions";
      Origin(sop, sop);
      for (const char* f : {"maxReplicas", "minReplicas", "knative"}) CopyField(so, f, d, sop, sop);
      if (keda != nullptr && keda->is_object()) {
        json& k = d["keda"];
        k = json::object();
        std::string kp = sop + "/keda";
        Origin(kp, kp);
        if (const json* obj = Get(keda, "scaledObject"); obj != nullptr && obj->is_object()) {
          json& o = k["scaledObject"];
          o = json::object();
          Origin(kp + "/scaledObject", kp + "/scaledObject");
          for (const char* f : {"pollingInterval", "cooldownPeriod", "advanced"}) {
            CopyField(obj, f, o, kp + "/scaledObject", kp + "/scaledObject");
          }
          CopyField(obj, "maxReplicaCount", d, sop, kp + "/scaledObject", "maxReplicas");
          CopyField(obj, "minReplicaCount", d, sop, kp + "/scaledObject", "minReplicas");
          if (Get(obj, "workloadType") != nullptr) {
            Note(kp + "/scaledObject/workloadType", "dropped by the conversion to v1beta2: not in its schema");
          }
        }
        if (const json* job = Get(keda, "scaledJob"); job != nullptr && job->is_object()) {
          json& j = k["scaledJob"];
          j = json::object();
          Origin(kp + "/scaledJob", kp + "/scaledJob");
          for (const char* f : {"restartPolicy", "pollingInterval", "successfulJobsHistoryLimit",
                                "failedJobsHistoryLimit", "scalingStrategy"}) {
            CopyField(job, f, j, kp + "/scaledJob", kp + "/scaledJob");
          }
          CopyField(job, "maxReplicaCount", d, sop, kp + "/scaledJob", "maxReplicas");
        }
        if (scalers != nullptr && scalers->is_array()) {
          json& list = k["triggers"];
          list = json::array();
          for (std::size_t i = 0; i < scalers->size(); ++i) {
            json t = (*scalers)[i];
            std::string src = sp + "/triggers/" + std::to_string(i);
            if (t.is_object() && t.erase("targetKind") > 0) {
              Note(src + "/targetKind", "dropped by the conversion to v1beta2: not in its schema");
            }
            Origin(kp + "/triggers/" + std::to_string(list.size()), src);
            list.push_back(std::move(t));
          }
        }
        return;
      }
    }
    if (scalers != nullptr) {
      Note(sp + "/triggers", "dropped by the conversion to v1beta2: KEDA triggers need scaleOptions.keda");
    }
  }

  void Outputs(const json& serving, json& s) {
    const std::string sp = "/spec/serving";
    const json* outputs = Get(&serving, "outputs");
    if (outputs == nullptr || !outputs->is_array()) return;
    json& list = s["outputs"];
    list = json::array();
    Origin(sp + "/outputs", sp + "/outputs");
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const json& o = (*outputs)[i];
      std::string src = sp + "/outputs/" + std::to_string(i);
      const json* comp = o.is_object() && o.value("component", json()).is_string()
                             ? Component(serving, o["component"].get<std::string>())
                             : nullptr;
      if (comp == nullptr) {
        Note(src,
             "dropped by the conversion to v1beta2 (as OpenFunction does): its component is in neither "
             "serving.bindings nor serving.pubsub");
        continue;
      }
      std::string dst = sp + "/outputs/" + std::to_string(list.size());
      json d = json::object();
      Origin(dst, src);
      Origin(dst + "/dapr", src);
      if (const json* type = Get(comp, "type")) Put(d["type"], *type, dst + "/dapr/type", src + "/component");
      CopyField(&o, "component", d, dst + "/dapr", src, "name");
      CopyField(&o, "topic", d, dst + "/dapr", src);
      CopyField(&o, "params", d, dst + "/dapr", src, "metadata");
      CopyField(&o, "operation", d, dst + "/dapr", src);
      CopyField(&o, "name", d, dst + "/dapr", src, "outputName");
      list.push_back({{"dapr", std::move(d)}});
    }
  }

  // The metadata annotations "plugins" and "plugins.tracing" (YAML text).
  void Plugins(json& s) {
    const json* annotations = Get(Get(&in_.object, "metadata"), "annotations");
    const std::string sp = "/spec/serving";
    if (const json* tracing = Get(annotations, "plugins.tracing");
        tracing != nullptr && tracing->is_string() && !tracing->get_ref<const std::string&>().empty()) {
      std::string src = "/metadata/annotations/" + EscapePointerToken("plugins.tracing");
      if (auto v = ParseAnnotation(*tracing, src)) Put(s["tracing"], *v, sp + "/tracing", src);
    }
    if (const json* plugins = Get(annotations, "plugins");
        plugins != nullptr && plugins->is_string() && !plugins->get_ref<const std::string&>().empty()) {
      std::string src = "/metadata/annotations/plugins";
      auto v = ParseAnnotation(*plugins, src);
      if (!v) return;
      json hooks = {{"policy", "Override"}};
      std::vector<std::string> lists[3];
      const char* names[3] = {"order", "pre", "post"};
      for (int i = 0; i < 3; ++i) {
        const json* l = Get(&*v, names[i]);
        if (l == nullptr) continue;
        bool ok = l->is_array() && std::all_of(l->begin(), l->end(), [](const json& e) { return e.is_string(); });
        if (!ok) {
          c_->errors.push_back(in_.At(FieldPath::FromPointer(src),
                                      std::string("plugins annotation: ") + names[i] + " must be a list of names"));
          return;
        }
        lists[i] = l->get<std::vector<std::string>>();
        if (i == 0) {
          hooks["pre"] = lists[0];
          std::reverse(lists[0].begin(), lists[0].end());
          hooks["post"] = lists[0];
        } else {
          hooks[names[i]] = lists[i];
        }
      }
      Put(s["hooks"], hooks, sp + "/hooks", src);
    }
  }

  std::optional<json> ParseAnnotation(const json& text, const std::string& src) {
    auto docs = ParseManifests(text.get<std::string>(), in_.source);
    if (!docs.ok() || docs->size() != 1) {
      std::string why = docs.ok() ? "expected one YAML map" : docs.status().message();
      c_->errors.push_back(in_.At(FieldPath::FromPointer(src), "cannot read this annotation as YAML: " + why));
      return std::nullopt;
    }
    return std::move((*docs)[0].object);
  }

  const Document& in_;
  Conversion* c_;
  json out_;
  std::map<std::string, std::string> origins_;
};

// Positions for every value of `v`, from the source field it came from: the
// origin of its nearest ancestor (or itself), plus the rest of its path.
void MapPositions(const json& v, const std::string& pointer, const Document& src,
                  const std::map<std::string, std::string>& origins, Document* dst) {
  std::string prefix = pointer;
  while (true) {
    if (auto it = origins.find(prefix); it != origins.end()) {
      dst->positions[pointer] = src.PositionOf(it->second + pointer.substr(prefix.size()));
      break;
    }
    if (prefix.empty()) break;
    prefix.erase(prefix.rfind('/'));
  }
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      MapPositions(it.value(), pointer + "/" + EscapePointerToken(it.key()), src, origins, dst);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      MapPositions(v[i], pointer + "/" + std::to_string(i), src, origins, dst);
    }
  }
}

}  // namespace

Conversion ConvertFunctionToV1beta2(const Document& v1beta1) {
  Conversion c;
  V1beta1Converter converter(v1beta1, &c);
  json object = converter.Run();
  Document& d = c.document;
  d.source = v1beta1.source;
  d.line = v1beta1.line;
  d.converted_from = v1beta1.api_version;
  d.object = std::move(object);
  d.api_version = "core.openfunction.io/v1beta2";
  d.kind = "Function";
  d.name = v1beta1.name;
  d.ns = v1beta1.ns;
  d.labels = v1beta1.labels;
  d.annotations = v1beta1.annotations;
  MapPositions(d.object, "", v1beta1, converter.origins(), &d);
  return c;
}

}  // namespace ofn::api

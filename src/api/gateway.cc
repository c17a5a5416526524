#include "api/gateway.h"

#include "api/decode_reader.h"
#include "api/validate.h"

namespace ofn::api {

using nlohmann::json;

Result<std::string> ExpandGatewayTemplate(std::string_view tmpl, std::string_view name, std::string_view ns,
                                          std::string_view domain) {
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    std::size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) return Status::InvalidArgument("unclosed {{ in template");
    std::string_view field = tmpl.substr(open + 2, close - open - 2);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    if (field == ".Name") {
      out += name;
    } else if (field == ".Namespace") {
      out += ns;
    } else if (field == ".Domain") {
      out += domain;
    } else {
      return Status::InvalidArgument("unsupported template field {{" + std::string(field) +
                                     "}}: use {{.Name}}, {{.Namespace}} or {{.Domain}}");
    }
    i = close + 2;
  }
  return out;
}

Gateway DecodeGateway(const Document& doc, std::vector<Diagnostic>* errors) {
  DecodeReader r(doc, errors);
  Gateway gw;
  gw.name = doc.name;
  gw.ns = doc.ns;
  const json* spec = DecodeReader::Member(&doc.object, "spec");
  FieldPath at = FieldPath().Child("spec");
  if (!r.Object(spec, at) || spec == nullptr) return gw;
  r.String(DecodeReader::Member(spec, "domain"), at.Child("domain"), &gw.domain);
  if (DecodeReader::Member(spec, "domain") != nullptr && !IsDnsSubdomain(gw.domain)) {
    r.Error(at.Child("domain"), "invalid domain \"" + gw.domain + "\": must be a DNS name like example.com");
  }
  r.String(DecodeReader::Member(spec, "clusterDomain"), at.Child("clusterDomain"), &gw.cluster_domain);
  r.String(DecodeReader::Member(spec, "hostTemplate"), at.Child("hostTemplate"), &gw.host_template);
  r.String(DecodeReader::Member(spec, "pathTemplate"), at.Child("pathTemplate"), &gw.path_template);
  r.String(DecodeReader::Member(spec, "httpRouteLabelKey"), at.Child("httpRouteLabelKey"), &gw.http_route_label_key);
  for (auto [field, value] :
       {std::pair{"hostTemplate", &gw.host_template}, std::pair{"pathTemplate", &gw.path_template}}) {
    auto expanded = ExpandGatewayTemplate(*value, "name", "namespace", gw.domain);
    if (!expanded.ok()) r.Error(at.Child(field), expanded.status().message());
  }
  for (auto [field, target] : {std::pair{"gatewayRef", &gw.gateway_ref}, std::pair{"gatewayDef", &gw.gateway_def},
                               std::pair{"gatewaySpec", &gw.gateway_spec}}) {
    if (const json* v = DecodeReader::Member(spec, field)) *target = *v;
  }
  return gw;
}

}  // namespace ofn::api

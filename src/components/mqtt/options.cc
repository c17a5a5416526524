#include "components/mqtt/options.h"

#include <charconv>

#include "common/encoding.h"

namespace ofn::components::mqtt {
namespace {

Status BadUrl(std::string_view url, std::string_view why) {
  return Status::InvalidArgument("metadata url: \"" + std::string(url) + "\" " + std::string(why) +
                                 " (want tcp://[user:password@]host:port)");
}

Result<std::string> Decoded(std::string_view url, std::string_view part) {
  auto d = enc::PercentDecode(part);
  if (!d) return BadUrl(url, "has a bad %-escape in its user information");
  return *d;
}

Result<std::string> Required(const Metadata& metadata, std::string_view key) {
  std::string value = metadata.GetOr(key, "");
  if (value.empty()) return Status::InvalidArgument("metadata " + std::string(key) + " is required");
  return value;
}

}  // namespace

Result<BrokerUrl> ParseBrokerUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return BadUrl(url, "has no scheme");
  std::string scheme = enc::ToLower(url.substr(0, sep));
  if (scheme == "ssl" || scheme == "mqtts" || scheme == "tls" || scheme == "tcps") {
    return Status::Unimplemented("metadata url: scheme " + scheme +
                                 ":// needs TLS, which Ofn's MQTT components do not support yet (use tcp://)");
  }
  if (scheme != "tcp" && scheme != "mqtt") return BadUrl(url, "has an unsupported scheme");

  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));  // Dapr ignores any path
  BrokerUrl out;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    size_t colon = user.find(':');
    auto name = Decoded(url, user.substr(0, colon));
    if (!name.ok()) return name.status();
    out.username = *name;
    if (colon != std::string_view::npos) {
      auto password = Decoded(url, user.substr(colon + 1));
      if (!password.ok()) return password.status();
      out.password = *password;
    }
    rest = rest.substr(at + 1);
  }

  // host, host:port, [v6] or [v6]:port
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "has an unclosed [ in its host");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, "has text after its host");
      port = after.substr(1);
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return BadUrl(url, "has no host");
  out.host = std::string(host);
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p <= 0 || p > 65535) {
      return BadUrl(url, "has no valid port");
    }
    out.port = p;
  }
  return out;
}

Result<PubSubOptions> ParsePubSubOptions(const ComponentSpec& spec) {
  const Metadata& m = spec.metadata;
  auto url = Required(m, "url");
  if (!url.ok()) return url.status();
  PubSubOptions o;
  auto broker = ParseBrokerUrl(*url);
  if (!broker.ok()) return broker.status();
  o.broker = *broker;
  o.consumer_id = m.GetOr("consumerID", spec.app_id);
  if (o.consumer_id.empty()) {
    return Status::InvalidArgument("metadata consumerID is required when the component has no app id");
  }
  auto qos = m.GetInt("qos", 1);
  if (!qos.ok()) return qos.status();
  if (*qos < 0 || *qos > 2) {
    return Status::InvalidArgument("metadata qos: " + std::to_string(*qos) + " is not 0, 1 or 2");
  }
  o.qos = static_cast<int>(*qos);
  auto retain = m.GetBool("retain", false);
  if (!retain.ok()) return retain.status();
  o.retain = *retain;
  auto clean = m.GetBool("cleanSession", false);
  if (!clean.ok()) return clean.status();
  o.clean_session = *clean;
  return o;
}

Result<BindingOptions> ParseBindingOptions(const ComponentSpec& spec) {
  const Metadata& m = spec.metadata;
  BindingOptions o;
  auto url = Required(m, "url");
  if (!url.ok()) return url.status();
  auto topic = Required(m, "topic");
  if (!topic.ok()) return topic.status();
  o.topic = *topic;
  // Dapr does not default consumerID for bindings (use {uuid} or {appID}).
  auto consumer_id = Required(m, "consumerID");
  if (!consumer_id.ok()) return consumer_id.status();
  o.consumer_id = *consumer_id;
  auto broker = ParseBrokerUrl(*url);
  if (!broker.ok()) return broker.status();
  o.broker = *broker;
  auto retain = m.GetBool("retain", false);
  if (!retain.ok()) return retain.status();
  o.retain = *retain;
  auto clean = m.GetBool("cleanSession", false);
  if (!clean.ok()) return clean.status();
  o.clean_session = *clean;
  return o;
}

}  // namespace ofn::components::mqtt

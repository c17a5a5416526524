#include "components/kafka/options.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"

namespace ofn::components::kafka {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Dapr reads the list with spaces around the commas allowed.
std::string JoinTrimmed(const std::string& list) {
  std::string out, item;
  auto flush = [&] {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out += (out.empty() ? "" : ",") + item.substr(b, e - b + 1);
    item.clear();
  };
  for (char c : list) {
    if (c == ',')
      flush();
    else
      item += c;
  }
  flush();
  return out;
}

// authType, or what the deprecated authRequired means when authType is absent.
Result<std::string> AuthType(const Metadata& md) {
  if (auto t = md.Get("authType"); t && !t->empty()) return Lower(*t);
  if (!md.Has("authRequired")) return Status::InvalidArgument("metadata authType is required (none or password)");
  auto required = md.GetBool("authRequired", false);
  if (!required.ok()) return required.status();
  if (!*required) return std::string("none");
  return std::string(md.GetOr("saslPassword", "").empty() ? "mtls" : "password");
}

Result<std::string> SaslMechanism(const Metadata& md) {
  std::string m = Lower(md.GetOr("saslMechanism", ""));
  if (m.empty() || m == "plaintext" || m == "plain") return std::string("PLAIN");
  if (m == "sha-256" || m == "scram-sha-256") return std::string("SCRAM-SHA-256");
  if (m == "sha-512" || m == "scram-sha-512") return std::string("SCRAM-SHA-512");
  return Status::InvalidArgument("metadata saslMechanism: \"" + *md.Get("saslMechanism") +
                                 "\" is not PLAINTEXT, SHA-256 or SHA-512");
}

Status ReadAuth(const Metadata& md, KafkaOptions& o) {
  auto type = AuthType(md);
  if (!type.ok()) return type.status();
  if (*type == "none") return Status::Ok();
  if (*type == "password") {
    o.sasl = true;
    auto mechanism = SaslMechanism(md);
    if (!mechanism.ok()) return mechanism.status();
    o.sasl_mechanism = *mechanism;
    for (auto [key, field] :
         {std::pair{"saslUsername", &o.sasl_username}, std::pair{"saslPassword", &o.sasl_password}}) {
      *field = md.GetOr(key, "");
      if (field->empty())
        return Status::InvalidArgument(std::string("metadata ") + key + " is required with authType password");
    }
    auto disable_tls = md.GetBool("disableTls", false);
    if (!disable_tls.ok()) return disable_tls.status();
    o.tls = !*disable_tls;
    auto skip = md.GetBool("skipVerify", false);
    if (!skip.ok()) return skip.status();
    o.skip_verify = *skip;
    o.ca_cert = md.GetOr("caCert", "");
    return Status::Ok();
  }
  for (const char* known : {"mtls", "oidc", "oidc_private_key_jwt", "awsiam", "certificate"}) {
    if (*type == known) {
      return Status::Unimplemented("metadata authType " + *type + " is not supported by Ofn (use none or password)");
    }
  }
  return Status::InvalidArgument("metadata authType: \"" + *type +
                                 "\" is not none, password, mtls, oidc, "
                                 "oidc_private_key_jwt, awsiam or certificate");
}

void LogFromKafka(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug.
  log::Fields fields = {{"client", rd_kafka_name(rk)}, {"facility", facility}};
  if (level <= 3)
    log::Error(message, fields);
  else if (level == 4)
    log::Warn(message, fields);
  else if (level <= 6)
    log::Info(message, fields);
  else
    log::Debug(message, fields);
}

// Error events repeat what the log already said (a failed connect, ...),
// except these two.
void ErrorFromKafka(rd_kafka_t* rk, int err, const char* reason, void*) {
  log::Fields fields = {{"client", rd_kafka_name(rk)}};
  if (err == RD_KAFKA_RESP_ERR__FATAL)
    log::Error(reason, fields);
  else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    log::Warn(reason, fields);
  else
    log::Debug(reason, fields);
}

Status Set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, std::string_view key) {
  char err[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument("metadata " + std::string(key) + ": " + err);
  }
  return Status::Ok();
}

Result<ConfPtr> CommonConf(const KafkaOptions& o) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogFromKafka);
  rd_kafka_conf_set_error_cb(conf.get(), ErrorFromKafka);
  std::string protocol = std::string(o.sasl ? "SASL_" : "") + (o.tls ? "SSL" : "PLAINTEXT");
  std::vector<std::tuple<std::string, std::string, std::string_view>> settings = {
      {"bootstrap.servers", o.brokers, "brokers"}, {"security.protocol", protocol, "authType"}};
  if (!o.client_id.empty()) settings.emplace_back("client.id", o.client_id, "clientId");
  if (o.sasl) {
    settings.emplace_back("sasl.mechanisms", o.sasl_mechanism, "saslMechanism");
    settings.emplace_back("sasl.username", o.sasl_username, "saslUsername");
    settings.emplace_back("sasl.password", o.sasl_password, "saslPassword");
  }
  if (!o.ca_cert.empty()) settings.emplace_back("ssl.ca.pem", o.ca_cert, "caCert");
  if (o.skip_verify) settings.emplace_back("enable.ssl.certificate.verification", "false", "skipVerify");
  for (const auto& [name, value, key] : settings) {
    if (Status s = Set(conf.get(), name, value, key); !s.ok()) return s;
  }
  return conf;
}

}  // namespace

Result<KafkaOptions> ParseKafkaOptions(const Metadata& md) {
  KafkaOptions o;
  o.brokers = JoinTrimmed(md.GetOr("brokers", ""));
  if (o.brokers.empty()) return Status::InvalidArgument("metadata brokers is required (a comma list of host:port)");
  if (Status s = ReadAuth(md, o); !s.ok()) return s;
  o.client_id = md.GetOr("clientId", "");  // Metadata is case-insensitive: clientID too
  std::string offset = Lower(md.GetOr("initialOffset", "newest"));
  if (offset != "newest" && offset != "oldest") {
    return Status::InvalidArgument("metadata initialOffset: \"" + offset + "\" is not newest or oldest");
  }
  o.oldest = offset == "oldest";
  auto max_bytes = md.GetInt("maxMessageBytes", 0);
  if (!max_bytes.ok()) return max_bytes.status();
  if (*max_bytes < 0) return Status::InvalidArgument("metadata maxMessageBytes must not be negative");
  o.max_message_bytes = *max_bytes;
  auto session = md.GetDuration("sessionTimeout", o.session_timeout, std::chrono::milliseconds(1));
  if (!session.ok()) return session.status();
  auto heartbeat = md.GetDuration("heartbeatInterval", o.heartbeat_interval, std::chrono::milliseconds(1));
  if (!heartbeat.ok()) return heartbeat.status();
  o.session_timeout = *session;
  o.heartbeat_interval = *heartbeat;
  return o;
}

Result<ConfPtr> ProducerConf(const KafkaOptions& o) {
  auto conf = CommonConf(o);
  if (!conf.ok()) return conf;
  if (Status s = Set(conf->get(), "acks", "all", "producerRequiredAcks"); !s.ok()) return s;
  // Publish waits for the delivery report; without a bound a broker outage
  // would hold the caller for librdkafka's default of five minutes. The
  // caller is often a function instance, which cannot finish its drain (and
  // let ofn server stop) before its publish fails: a few seconds, as Dapr's
  // Kafka producer gives up after a few quick retries.
  if (Status s = Set(conf->get(), "message.timeout.ms", "5000", "brokers"); !s.ok()) return s;
  if (o.max_message_bytes > 0) {
    if (Status s = Set(conf->get(), "message.max.bytes", std::to_string(o.max_message_bytes), "maxMessageBytes");
        !s.ok()) {
      return s;
    }
  }
  return conf;
}

Result<ConfPtr> ConsumerConf(const KafkaOptions& o, const std::string& group) {
  auto conf = CommonConf(o);
  if (!conf.ok()) return conf;
  const std::vector<std::tuple<std::string, std::string, std::string_view>> settings = {
      {"group.id", group, "consumerGroup"},
      // Offsets are committed by the subscription once messages are acked.
      {"enable.auto.commit", "false", "consumerGroup"},
      {"enable.auto.offset.store", "false", "consumerGroup"},
      {"auto.offset.reset", o.oldest ? "earliest" : "latest", "initialOffset"},
      {"session.timeout.ms", std::to_string(o.session_timeout.count()), "sessionTimeout"},
      {"heartbeat.interval.ms", std::to_string(o.heartbeat_interval.count()), "heartbeatInterval"},
      // Dapr's client (sarama) long-polls 250 ms; librdkafka's 500 ms default
      // would also delay Backlog()'s watermark queries, which queue behind a
      // pending fetch on the broker connection.
      {"fetch.wait.max.ms", "250", "consumerGroup"},
  };
  for (const auto& [name, value, key] : settings) {
    if (Status s = Set(conf->get(), name, value, key); !s.ok()) return s;
  }
  return conf;
}

}  // namespace ofn::components::kafka

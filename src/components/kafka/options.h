// KafkaOptions: the metadata keys pubsub.kafka and bindings.kafka share
// (dapr-fact-sheet §4.6), and the librdkafka configuration they become.
//
// Read: brokers (required), authType (none | password; the deprecated
// authRequired is mapped the way Dapr maps it), saslUsername, saslPassword,
// saslMechanism, disableTls, caCert, skipVerify, clientId/clientID,
// initialOffset (newest | oldest), maxMessageBytes, sessionTimeout and
// heartbeatInterval. Auth types Ofn cannot serve (mtls, oidc, awsiam, ...)
// are refused by name; `version` and the retry keys are accepted and ignored
// (librdkafka negotiates the protocol version; the host does the retries).
//
// A plain value type; thread-safe to share once built.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "components/metadata.h"
#include "ofn/status.h"

namespace ofn::components::kafka {

struct KafkaOptions {
  std::string brokers;    // bootstrap.servers
  std::string client_id;  // empty: librdkafka's default
  bool sasl = false;      // authType password
  std::string sasl_mechanism = "PLAIN";
  std::string sasl_username;
  std::string sasl_password;
  bool tls = false;  // password auth uses TLS unless disableTls
  std::string ca_cert;
  bool skip_verify = false;
  bool oldest = false;            // initialOffset oldest: where a group without a committed offset starts
  int64_t max_message_bytes = 0;  // 0: librdkafka's default
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds heartbeat_interval{3000};
};

Result<KafkaOptions> ParseKafkaOptions(const Metadata& metadata);

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// The configuration of a producer (acks=all) or of a member of consumer group
// `group` (offsets committed by hand), with librdkafka's log routed to ofn's.
Result<ConfPtr> ProducerConf(const KafkaOptions& options);
Result<ConfPtr> ConsumerConf(const KafkaOptions& options, const std::string& group);

}  // namespace ofn::components::kafka

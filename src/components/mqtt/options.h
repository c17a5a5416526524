// The metadata of Dapr's MQTT components (dapr-fact-sheet §4.5), checked and
// turned into typed options.
//
// pubsub.mqtt3: url (required), consumerID (default: the app id), qos (1;
// 0-2), retain (false), cleanSession (false).
// bindings.mqtt3: url, topic and consumerID (all required), retain (false),
// cleanSession (false); QoS is always 1 (Dapr ignores the deprecated `qos`).
// Only plain TCP is supported: an ssl://, mqtts://, tls:// or tcps:// url is
// an Unimplemented error rather than a silently unencrypted connection.
//
// Plain values; the parsers are pure functions.
#pragma once

#include <string>
#include <string_view>

#include "components/component.h"
#include "ofn/status.h"

namespace ofn::components::mqtt {

struct BrokerUrl {
  std::string host;
  int port = 1883;
  std::string username;  // empty: none
  std::string password;
  std::string ToString() const { return host + ":" + std::to_string(port); }  // for messages, no credentials
};

// tcp://[user[:password]@]host[:port] (mqtt:// is the same); user and
// password are percent-decoded as Go's url.Parse does.
Result<BrokerUrl> ParseBrokerUrl(std::string_view url);

struct PubSubOptions {
  BrokerUrl broker;
  std::string consumer_id;  // the subscribers' MQTT client id
  int qos = 1;
  bool retain = false;
  bool clean_session = false;
};

Result<PubSubOptions> ParsePubSubOptions(const ComponentSpec& spec);

struct BindingOptions {
  BrokerUrl broker;
  std::string topic;
  std::string consumer_id;  // client ids "<consumerID>-producer" and "<consumerID>-consumer"
  bool retain = false;
  bool clean_session = false;
};

Result<BindingOptions> ParseBindingOptions(const ComponentSpec& spec);

}  // namespace ofn::components::mqtt

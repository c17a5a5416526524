// JetStream component options: the `pubsub.jetstream` metadata of a Dapr
// component (dapr-fact-sheet §4.4), parsed and checked once.
//
// ComponentOptions hold what the connection and stream look-up need;
// ConsumerOptions what one subscription's durable consumer needs. Parsing
// names the key at fault in its InvalidArgument. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "components/metadata.h"
#include "ofn/status.h"

namespace ofn::components::nats {

struct ComponentOptions {
  std::string url;          // natsURL (required)
  std::string name;         // connection name
  std::string jwt;          // jwt + seedKey: decentralised auth
  std::string seed_key;
  std::string token;
  std::string tls_client_cert;  // file paths, as Dapr reads them
  std::string tls_client_key;
  std::string domain;       // JetStream domain or API prefix (at most one)
  std::string api_prefix;
  std::string stream_name;  // empty: look the stream up by subject (or create it)
};

enum class DeliverPolicy { kAll, kLast, kNew, kSequence, kTime };

struct ConsumerOptions {
  std::string durable;  // already a valid consumer name
  DeliverPolicy deliver_policy = DeliverPolicy::kAll;
  uint64_t start_sequence = 0;
  int64_t start_time_unix_seconds = 0;
  std::chrono::nanoseconds ack_wait{0};  // 0: the server's default (30s)
  int64_t max_deliver = 0;               // 0: unlimited
  std::vector<std::chrono::nanoseconds> back_off;
  int64_t max_ack_pending = 0;  // 0: the server's default
  int64_t replicas = 0;
  bool memory_storage = false;
};

Result<ComponentOptions> ParseComponentOptions(const Metadata& metadata);

// `app_id` is the last fallback of the durable name (durableName, then
// queueGroupName, then consumerID, then the app id).
Result<ConsumerOptions> ParseConsumerOptions(const Metadata& metadata, std::string_view app_id);

// A stream or consumer name made of [A-Za-z0-9_-]: every other byte becomes
// '_' (NATS forbids '.', '*', '>', whitespace and path separators in them).
std::string SanitizeName(std::string_view name);

}  // namespace ofn::components::nats

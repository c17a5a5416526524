// StreamSettings: a pubsub.redis component's metadata (dapr-fact-sheet §4.3)
// as its publisher and subscriptions use it. Keys: the common Redis
// connection keys (options.h), consumerID (default: the app id; it names both
// the consumer group and the consumer in it), processingTimeout (60s) and
// redeliverInterval (15s) (bare integers are milliseconds; 0 disables
// redelivery), maxLenApprox (default unlimited). Other keys are ignored.
//
// A plain value type.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "components/component.h"
#include "components/redis/options.h"
#include "ofn/status.h"

namespace ofn::components::redis {

struct StreamSettings {
  RedisOptions redis;
  std::string component;  // "pubsub.redis component NAME", for errors and logs
  std::string consumer;   // consumer group and consumer name
  std::chrono::milliseconds processing_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds redeliver_interval{std::chrono::seconds(15)};
  int64_t max_len_approx = 0;  // 0: no trimming

  static Result<StreamSettings> FromSpec(const ComponentSpec& spec);
  bool redelivers() const { return processing_timeout.count() > 0 && redeliver_interval.count() > 0; }
};

}  // namespace ofn::components::redis

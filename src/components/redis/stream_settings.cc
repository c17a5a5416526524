#include "components/redis/stream_settings.h"

namespace ofn::components::redis {

Result<StreamSettings> StreamSettings::FromSpec(const ComponentSpec& spec) {
  StreamSettings s;
  auto redis = RedisOptions::FromMetadata(spec.metadata);
  if (!redis.ok()) return redis.status();
  s.redis = std::move(*redis);
  s.component = spec.Describe();
  s.consumer = spec.metadata.GetOr("consumerID", spec.app_id);
  if (s.consumer.empty()) return Status::InvalidArgument("metadata consumerID is required (no app id to default to)");
  const auto ms = std::chrono::milliseconds(1);
  auto processing = spec.metadata.GetDuration("processingTimeout", s.processing_timeout, ms);
  if (!processing.ok()) return processing.status();
  auto redeliver = spec.metadata.GetDuration("redeliverInterval", s.redeliver_interval, ms);
  if (!redeliver.ok()) return redeliver.status();
  s.processing_timeout = *processing;
  s.redeliver_interval = *redeliver;
  auto max_len = spec.metadata.GetInt("maxLenApprox", 0);
  if (!max_len.ok()) return max_len.status();
  if (*max_len < 0) return Status::InvalidArgument("metadata maxLenApprox: must not be negative");
  s.max_len_approx = *max_len;
  return s;
}

}  // namespace ofn::components::redis

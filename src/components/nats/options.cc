#include "components/nats/options.h"

#include <charconv>

#include "common/duration.h"

namespace ofn::components::nats {

namespace {

Status Bad(std::string_view key, std::string_view value, std::string_view want) {
  return Status::InvalidArgument("metadata " + std::string(key) + ": \"" + std::string(value) + "\" is not " +
                                 std::string(want));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One duration of a list: Go syntax, or a bare integer counting seconds (as
// Dapr's metadata decoder reads durations).
Result<std::chrono::nanoseconds> ParseDurationItem(std::string_view text) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
    return std::chrono::nanoseconds(std::chrono::seconds(seconds));
  }
  return ParseGoDuration(text);
}

Result<std::vector<std::chrono::nanoseconds>> ParseBackOff(const Metadata& metadata) {
  std::vector<std::chrono::nanoseconds> out;
  auto value = metadata.Get("backOff");
  if (!value) return out;
  std::string_view rest = *value;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    auto d = ParseDurationItem(item);
    if (!d.ok() || d->count() <= 0) return Bad("backOff", *value, "a list of positive durations such as \"50ms, 1s\"");
    out.push_back(*d);
  }
  return out;
}

Result<DeliverPolicy> ParseDeliverPolicy(const Metadata& metadata, int64_t start_sequence, int64_t start_time) {
  auto value = metadata.Get("deliverPolicy");
  if (!value || value->empty()) {
    // Before deliverPolicy existed, a start sequence or time chose the start.
    if (start_sequence > 0) return DeliverPolicy::kSequence;
    if (start_time > 0) return DeliverPolicy::kTime;
    return DeliverPolicy::kAll;
  }
  if (*value == "all") return DeliverPolicy::kAll;
  if (*value == "last") return DeliverPolicy::kLast;
  if (*value == "new") return DeliverPolicy::kNew;
  if (*value == "sequence") {
    if (start_sequence <= 0) {
      return Status::InvalidArgument("metadata startSequence: required (> 0) with deliverPolicy \"sequence\"");
    }
    return DeliverPolicy::kSequence;
  }
  if (*value == "time") {
    if (start_time <= 0) {
      return Status::InvalidArgument("metadata startTime: required (unix seconds > 0) with deliverPolicy \"time\"");
    }
    return DeliverPolicy::kTime;
  }
  return Bad("deliverPolicy", *value, "one of all, last, new, sequence, time");
}

Result<int64_t> NonNegativeInt(const Metadata& metadata, std::string_view key) {
  auto v = metadata.GetInt(key, 0);
  if (!v.ok()) return v.status();
  if (*v < 0) return Bad(key, *metadata.Get(key), "a non-negative integer");
  return *v;
}

}  // namespace

std::string SanitizeName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

Result<ComponentOptions> ParseComponentOptions(const Metadata& metadata) {
  ComponentOptions o;
  o.url = metadata.GetOr("natsURL", "");
  if (o.url.empty()) return Status::InvalidArgument("metadata natsURL: required (e.g. nats://localhost:4222)");
  o.name = metadata.GetOr("name", "dapr.io - pubsub.jetstream");
  o.jwt = metadata.GetOr("jwt", "");
  o.seed_key = metadata.GetOr("seedKey", "");
  if (o.jwt.empty() != o.seed_key.empty()) {
    return Status::InvalidArgument(std::string("metadata ") + (o.jwt.empty() ? "jwt" : "seedKey") +
                                   ": required together with " + (o.jwt.empty() ? "seedKey" : "jwt"));
  }
  o.token = metadata.GetOr("token", "");
  o.tls_client_cert = metadata.GetOr("tls_client_cert", "");
  o.tls_client_key = metadata.GetOr("tls_client_key", "");
  if (o.tls_client_cert.empty() != o.tls_client_key.empty()) {
    return Status::InvalidArgument(std::string("metadata ") +
                                   (o.tls_client_cert.empty() ? "tls_client_cert" : "tls_client_key") +
                                   ": required together with " +
                                   (o.tls_client_cert.empty() ? "tls_client_key" : "tls_client_cert"));
  }
  o.domain = metadata.GetOr("domain", "");
  o.api_prefix = metadata.GetOr("apiPrefix", "");
  if (!o.domain.empty() && !o.api_prefix.empty()) {
    return Status::InvalidArgument("metadata apiPrefix: cannot be combined with domain");
  }
  o.stream_name = metadata.GetOr("streamName", "");
  if (!o.stream_name.empty() && SanitizeName(o.stream_name) != o.stream_name) {
    return Bad("streamName", o.stream_name, "a stream name (letters, digits, '_' and '-')");
  }
  return o;
}

Result<ConsumerOptions> ParseConsumerOptions(const Metadata& metadata, std::string_view app_id) {
  ConsumerOptions o;
  std::string durable = metadata.GetOr("durableName", "");
  if (durable.empty()) durable = metadata.GetOr("queueGroupName", "");
  if (durable.empty()) durable = metadata.GetOr("consumerID", "");
  if (durable.empty()) durable = std::string(app_id);
  if (durable.empty()) {
    return Status::InvalidArgument("metadata durableName: required when there is no consumerID and no app id");
  }
  o.durable = SanitizeName(durable);

  auto start_sequence = NonNegativeInt(metadata, "startSequence");
  if (!start_sequence.ok()) return start_sequence.status();
  auto start_time = NonNegativeInt(metadata, "startTime");
  if (!start_time.ok()) return start_time.status();
  auto deliver_all = metadata.GetBool("deliverAll", false);  // the pre-1.10 key; `all` is the default anyway
  if (!deliver_all.ok()) return deliver_all.status();
  auto policy = ParseDeliverPolicy(metadata, *start_sequence, *start_time);
  if (!policy.ok()) return policy.status();
  o.deliver_policy = *policy;
  o.start_sequence = static_cast<uint64_t>(*start_sequence);
  o.start_time_unix_seconds = *start_time;

  // Ofn acknowledges each message on its own; `all` or `none` would break
  // the at-least-once contract of the component host.
  std::string ack_policy = metadata.GetOr("ackPolicy", "explicit");
  if (ack_policy != "explicit") return Bad("ackPolicy", ack_policy, "\"explicit\" (the only policy Ofn supports)");

  auto ack_wait = metadata.GetDuration("ackWait", std::chrono::milliseconds(0));
  if (!ack_wait.ok()) return ack_wait.status();
  if (ack_wait->count() < 0) return Bad("ackWait", *metadata.Get("ackWait"), "a positive duration");
  o.ack_wait = *ack_wait;

  auto max_deliver = metadata.GetInt("maxDeliver", 0);
  if (!max_deliver.ok()) return max_deliver.status();
  o.max_deliver = *max_deliver < 0 ? 0 : *max_deliver;  // Go's -1 means unlimited too
  auto back_off = ParseBackOff(metadata);
  if (!back_off.ok()) return back_off.status();
  o.back_off = std::move(*back_off);

  auto max_ack_pending = NonNegativeInt(metadata, "maxAckPending");
  if (!max_ack_pending.ok()) return max_ack_pending.status();
  o.max_ack_pending = *max_ack_pending;
  auto replicas = NonNegativeInt(metadata, "replicas");
  if (!replicas.ok()) return replicas.status();
  o.replicas = *replicas;
  auto memory_storage = metadata.GetBool("memoryStorage", false);
  if (!memory_storage.ok()) return memory_storage.status();
  o.memory_storage = *memory_storage;
  return o;
}

}  // namespace ofn::components::nats

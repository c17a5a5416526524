#include "autoscaler/keda_config.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/go_bool.h"

namespace ofn::autoscaler {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kImplementedTypes = "kafka, redis-streams, nats-jetstream, cron";

// Go's strconv.ParseInt(s, 10, 64), which KEDA's scalers use for thresholds.
std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.starts_with('+')) s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Collects every error, each prefixed with the full path of its field.
class Parser {
 public:
  void Invalid(const std::string& path, const std::string& what) { invalid_.push_back(path + ": " + what); }
  void Unimplemented(const std::string& path, const std::string& what) { unimplemented_.push_back(path + ": " + what); }
  Status ToStatus() const {
    const auto& list = invalid_.empty() ? unimplemented_ : invalid_;
    if (list.empty()) return Status::Ok();
    std::string msg;
    for (const auto& e : list) msg += (msg.empty() ? "" : "; ") + e;
    return invalid_.empty() ? Status::Unimplemented(std::move(msg)) : Status::InvalidArgument(std::move(msg));
  }

  // The member `key` of `parent` as an object; nullptr when absent or null.
  const json* Object(const json& parent, const char* key, const std::string& path) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return nullptr;
    if (!it->is_object()) {
      Invalid(path, "must be an object, not " + std::string(it->type_name()));
      return nullptr;
    }
    return &*it;
  }

  // An integer in [lo, hi]; nullopt (after an error if present but bad) otherwise.
  std::optional<int> Int(const json& parent, const char* key, const std::string& path, int64_t lo,
                         int64_t hi = std::numeric_limits<int32_t>::max()) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) {
      Invalid(path, it->dump() + " is not an integer");
      return std::nullopt;
    }
    // Above int64, nlohmann keeps the value unsigned; clamping keeps it out of range.
    const int64_t v = it->is_number_unsigned()
                          ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), uint64_t{1} << 62))
                          : it->get<int64_t>();
    if (v < lo || v > hi) {
      Invalid(path, it->dump() + (v < lo ? " must be >= " + std::to_string(lo) : " must be <= " + std::to_string(hi)));
      return std::nullopt;
    }
    return static_cast<int>(v);
  }

  std::optional<std::string> String(const json& parent, const char* key, const std::string& path) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      Invalid(path, "must be a string, not " + std::string(it->type_name()));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

 private:
  std::vector<std::string> invalid_, unimplemented_;
};

// A trigger's metadata (map[string]string), read key by key with KEDA's rules.
class Metadata {
 public:
  Metadata(Parser& p, std::string path, std::map<std::string, std::string> values)
      : p_(p), path_(std::move(path)), values_(std::move(values)) {}

  std::string PathOf(const std::string& key) const { return path_ + ".metadata." + key; }
  bool Has(const std::string& key) const { return values_.contains(key); }
  std::string Get(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? "" : it->second;
  }
  std::string Required(const std::string& key, const std::string& type) {
    std::string v = Get(key);
    if (v.empty()) p_.Invalid(PathOf(key), "is required for a " + type + " trigger");
    return v;
  }
  // An integer threshold; `fallback` when unset.
  int64_t Int(const std::string& key, int64_t fallback, int64_t min, const char* rule) {
    if (!Has(key)) return fallback;
    auto v = ParseInt64(Get(key));
    if (!v) {
      p_.Invalid(PathOf(key), "\"" + Get(key) + "\" is not an integer");
      return fallback;
    }
    if (*v < min) p_.Invalid(PathOf(key), Get(key) + " " + rule);
    return *v;
  }
  bool Bool(const std::string& key) {
    if (!Has(key)) return false;
    auto v = ParseGoBool(Get(key));
    if (!v) p_.Invalid(PathOf(key), "\"" + Get(key) + "\" is not a boolean");
    return v.value_or(false);
  }
  void Invalid(const std::string& key, const std::string& what) { p_.Invalid(PathOf(key), what); }

 private:
  Parser& p_;
  std::string path_;
  std::map<std::string, std::string> values_;
};

void ParseKafka(Metadata& m, KedaTrigger& t) {
  KafkaTrigger k;
  k.bootstrap_servers = m.Required("bootstrapServers", "kafka");
  k.consumer_group = m.Required("consumerGroup", "kafka");
  k.topic = m.Get("topic");
  t.target = static_cast<double>(m.Int("lagThreshold", 10, 1, "must be > 0"));
  t.activation = static_cast<double>(m.Int("activationLagThreshold", 0, 0, "must be >= 0"));
  if (m.Has("offsetResetPolicy")) {
    const std::string policy = m.Get("offsetResetPolicy");
    if (policy != "latest" && policy != "earliest")
      m.Invalid("offsetResetPolicy", "\"" + policy + "\" is not one of latest, earliest");
    k.offset_reset_earliest = policy == "earliest";
  }
  k.allow_idle_consumers = m.Bool("allowIdleConsumers");
  k.exclude_persistent_lag = m.Bool("excludePersistentLag");
  k.scale_to_zero_on_invalid_offset = m.Bool("scaleToZeroOnInvalidOffset");
  t.source = k;
}

void ParseRedisStreams(Metadata& m, KedaTrigger& t) {
  RedisStreamsTrigger r;
  if (!m.Get("address").empty()) {
    r.address = m.Get("address");
  } else if (!m.Get("host").empty()) {
    if (m.Get("port").empty()) m.Invalid("port", "is required with host");
    r.address = m.Get("host") + ":" + m.Get("port");
  } else {
    m.Invalid("address", "is required for a redis-streams trigger (or host and port)");
  }
  r.stream = m.Required("stream", "redis-streams");
  r.consumer_group = m.Get("consumerGroup");
  const int64_t lag = m.Int("lagCount", 0, 0, "must be >= 0");
  if (!r.consumer_group.empty() && lag > 0) {
    r.mode = RedisStreamsTrigger::Mode::kLag;
    t.target = static_cast<double>(lag);
  } else if (!r.consumer_group.empty()) {
    r.mode = RedisStreamsTrigger::Mode::kPendingEntries;
    t.target = static_cast<double>(m.Int("pendingEntriesCount", 5, 1, "must be > 0"));
  } else {
    r.mode = RedisStreamsTrigger::Mode::kStreamLength;
    t.target = static_cast<double>(m.Int("streamLength", 5, 1, "must be > 0"));
  }
  t.activation = static_cast<double>(m.Int("activationLagCount", 0, 0, "must be >= 0"));
  t.source = r;
}

void ParseNatsJetStream(Metadata& m, KedaTrigger& t) {
  NatsJetStreamTrigger n;
  n.monitoring_endpoint = m.Required("natsServerMonitoringEndpoint", "nats-jetstream");
  n.account = m.Get("account").empty() ? m.Get("accountID") : m.Get("account");
  if (n.account.empty()) m.Invalid("account", "is required for a nats-jetstream trigger (or accountID)");
  n.stream = m.Required("stream", "nats-jetstream");
  n.consumer = m.Required("consumer", "nats-jetstream");
  n.use_https = m.Bool("useHttps");
  t.target = static_cast<double>(m.Int("lagThreshold", 10, 1, "must be > 0"));
  t.activation = static_cast<double>(m.Int("activationLagThreshold", 0, 0, "must be >= 0"));
  t.source = n;
}

void ParseCron(Metadata& m, KedaTrigger& t) {
  const std::string tz = m.Required("timezone", "cron");
  const std::string start = m.Required("start", "cron");
  const std::string end = m.Required("end", "cron");
  int64_t desired_replicas = 0;
  if (!m.Has("desiredReplicas"))
    m.Invalid("desiredReplicas", "is required for a cron trigger");
  else if (auto v = ParseInt64(m.Get("desiredReplicas")); !v)
    m.Invalid("desiredReplicas", "\"" + m.Get("desiredReplicas") + "\" is not an integer");
  else if (*v == 0)
    m.Invalid("desiredReplicas", "must not be 0");
  else
    desired_replicas = *v;
  if (!start.empty() && start == end) m.Invalid("end", "must differ from start");
  // KEDA's cron metric is desiredReplicas against a target of 1.
  t.target = 1;
  auto zone = TimeZone::Load(tz);
  if (!tz.empty() && !zone.ok()) m.Invalid("timezone", zone.status().message());
  const TimeZone in = zone.ok() ? *zone : TimeZone();
  auto start_schedule = CronSchedule::Parse(start, CronDialect::kKeda, in);
  if (!start.empty() && !start_schedule.ok()) m.Invalid("start", start_schedule.status().message());
  auto end_schedule = CronSchedule::Parse(end, CronDialect::kKeda, in);
  if (!end.empty() && !end_schedule.ok()) m.Invalid("end", end_schedule.status().message());
  // Anything not ok was reported above and fails the whole config.
  if (zone.ok() && start_schedule.ok() && end_schedule.ok())
    t.source = CronTrigger{CronWindow{*start_schedule, *end_schedule}, desired_replicas};
}

Result<HpaPolicy::Type> PolicyType(const std::string& s) {
  if (s == "Pods") return HpaPolicy::Type::kPods;
  if (s == "Percent") return HpaPolicy::Type::kPercent;
  return Status::InvalidArgument("\"" + s + "\" is not one of Pods, Percent");
}

// One direction of behavior, over Kubernetes' defaults for it.
HpaScalingRules ParseRules(Parser& p, const json* rules, const std::string& path, HpaScalingRules r) {
  if (rules == nullptr) return r;
  if (auto w = p.Int(*rules, "stabilizationWindowSeconds", path + ".stabilizationWindowSeconds", 0, 3600))
    r.stabilization_window = seconds(*w);
  if (auto s = p.String(*rules, "selectPolicy", path + ".selectPolicy")) {
    if (*s == "Max")
      r.select = SelectPolicy::kMax;
    else if (*s == "Min")
      r.select = SelectPolicy::kMin;
    else if (*s == "Disabled")
      r.select = SelectPolicy::kDisabled;
    else
      p.Invalid(path + ".selectPolicy", "\"" + *s + "\" is not one of Max, Min, Disabled");
  }
  auto it = rules->find("policies");
  if (it == rules->end() || it->is_null()) return r;
  const std::string list = path + ".policies";
  if (!it->is_array() || it->empty()) {
    p.Invalid(list, it->is_array() ? "must list at least one policy" : "must be a list");
    return r;
  }
  r.policies.clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string at = list + "[" + std::to_string(i) + "]";
    const json& item = (*it)[i];
    if (!item.is_object()) {
      p.Invalid(at, "must be an object");
      continue;
    }
    HpaPolicy policy;
    auto type = p.String(item, "type", at + ".type");
    auto value = p.Int(item, "value", at + ".value", 1);
    auto period = p.Int(item, "periodSeconds", at + ".periodSeconds", 1, 1800);
    for (const char* key : {"type", "value", "periodSeconds"})
      if (!item.contains(key) || item[key].is_null()) p.Invalid(at + "." + key, "is required");
    if (type) {
      auto t = PolicyType(*type);
      if (t.ok())
        policy.type = *t;
      else
        p.Invalid(at + ".type", t.status().message());
    }
    if (value) policy.value = *value;
    if (period) policy.period = seconds(*period);
    r.policies.push_back(policy);
  }
  return r;
}

HpaBehavior ParseBehavior(Parser& p, const json& behavior, const std::string& path, const KedaDefaults& d) {
  HpaScalingRules up, down;
  up.policies = {{HpaPolicy::Type::kPods, 4, seconds(15)}, {HpaPolicy::Type::kPercent, 100, seconds(15)}};
  // The scale-down window left unset is the controller's flag, not a constant.
  down.stabilization_window = std::chrono::floor<seconds>(d.downscale_stabilization);
  down.policies = {{HpaPolicy::Type::kPercent, 100, seconds(15)}};
  return HpaBehavior{ParseRules(p, p.Object(behavior, "scaleUp", path + ".scaleUp"), path + ".scaleUp", up),
                     ParseRules(p, p.Object(behavior, "scaleDown", path + ".scaleDown"), path + ".scaleDown", down)};
}

std::optional<KedaTrigger> ParseTrigger(Parser& p, const json& item, const std::string& path,
                                        std::vector<std::string>& ignored) {
  if (!item.is_object()) {
    p.Invalid(path, "must be an object");
    return std::nullopt;
  }
  KedaTrigger t;
  t.field = path;
  t.type = p.String(item, "type", path + ".type").value_or("");
  t.name = p.String(item, "name", path + ".name").value_or("");
  if (auto mt = p.String(item, "metricType", path + ".metricType")) {
    if (*mt == "Value")
      t.metric_type = KedaTrigger::MetricType::kValue;
    else if (*mt == "Utilization")
      p.Invalid(path + ".metricType", "Utilization is for cpu and memory triggers only");
    else if (*mt != "AverageValue" && !mt->empty())
      p.Invalid(path + ".metricType", "\"" + *mt + "\" is not one of AverageValue, Value");
  }
  for (const char* key : {"authenticationRef", "useCachedMetrics"})
    if (item.contains(key)) ignored.push_back(path + "." + key);

  std::map<std::string, std::string> values;
  const json* md = p.Object(item, "metadata", path + ".metadata");
  if (md != nullptr) {
    for (const auto& [key, value] : md->items()) {
      if (value.is_string())
        values[key] = value.get<std::string>();
      else
        p.Invalid(path + ".metadata." + key, "must be a string, not " + std::string(value.type_name()));
    }
  } else if (!item.contains("metadata")) {
    p.Invalid(path + ".metadata", "is required");
  }
  Metadata m(p, path, values);
  t.metadata = std::move(values);

  static const std::map<std::string, void (*)(Metadata&, KedaTrigger&)> kParsers = {
      {"kafka", ParseKafka},
      {"redis-streams", ParseRedisStreams},
      {"nats-jetstream", ParseNatsJetStream},
      {"cron", ParseCron}};
  if (auto it = kParsers.find(t.type); it != kParsers.end()) {
    if (md != nullptr) it->second(m, t);  // without metadata there is nothing to read (reported above)
  } else if (t.type.empty()) {
    p.Invalid(path + ".type", "is required");
  } else {
    p.Unimplemented(path + ".type", "\"" + t.type + "\" is a KEDA scaler Ofn does not implement (it implements " +
                                        kImplementedTypes + ")");
  }
  return t;
}

}  // namespace

bool CronWindow::Contains(std::chrono::system_clock::time_point t) const {
  const auto next_start = start.Next(t);
  const auto next_end = end.Next(t);
  if (!next_end) return false;
  return !next_start || *next_end <= *next_start;
}

Result<KedaConfig> KedaConfig::FromFunction(const json& serving, const KedaDefaults& d) {
  KedaConfig c;
  c.max_replicas = d.max_replicas;
  c.polling_interval = d.polling_interval;
  c.cooldown_period = d.cooldown_period;
  c.initial_cooldown_period = d.initial_cooldown_period;
  c.hpa_sync_period = d.hpa_sync_period;
  c.hpa_tolerance = d.hpa_tolerance;
  c.downscale_stabilization = d.downscale_stabilization;

  Parser p;
  const std::string root = "spec.serving";
  if (!serving.is_object()) return Status::InvalidArgument(root + ": must be an object");
  const std::string base = root + ".scaleOptions";
  const json* options = p.Object(serving, "scaleOptions", base);
  if (options == nullptr) {
    if (Status s = p.ToStatus(); !s.ok()) return s;
    return c;
  }

  std::string min_path = base + ".minReplicas", max_path = base + ".maxReplicas", idle_path;
  std::optional<int> min = p.Int(*options, "minReplicas", min_path, 0);
  std::optional<int> max = p.Int(*options, "maxReplicas", max_path, 0);
  std::optional<int> idle;

  const std::string kb = base + ".keda";
  if (const json* keda = p.Object(*options, "keda", kb)) {
    if (keda->contains("scaledJob") && !(*keda)["scaledJob"].is_null())
      p.Unimplemented(kb + ".scaledJob", "KEDA ScaledJobs (workloadType Job) are not implemented");
    if (keda->contains("httpScaledObject") && !(*keda)["httpScaledObject"].is_null())
      p.Unimplemented(kb + ".httpScaledObject", "the KEDA HTTP add-on is not implemented; use the knative engine");

    const std::string sb = kb + ".scaledObject";
    if (const json* so = p.Object(*keda, "scaledObject", sb)) {
      if (auto v = p.Int(*so, "minReplicaCount", sb + ".minReplicaCount", 0)) {
        min = v;
        min_path = sb + ".minReplicaCount";
      }
      if (auto v = p.Int(*so, "maxReplicaCount", sb + ".maxReplicaCount", 0)) {
        max = v;
        max_path = sb + ".maxReplicaCount";
      }
      idle_path = sb + ".idleReplicaCount";
      idle = p.Int(*so, "idleReplicaCount", idle_path, 0);
      if (auto v = p.Int(*so, "pollingInterval", sb + ".pollingInterval", 1)) c.polling_interval = seconds(*v);
      if (auto v = p.Int(*so, "cooldownPeriod", sb + ".cooldownPeriod", 0)) c.cooldown_period = seconds(*v);
      if (auto v = p.Int(*so, "initialCooldownPeriod", sb + ".initialCooldownPeriod", 0))
        c.initial_cooldown_period = seconds(*v);
      if (so->contains("fallback")) c.ignored_fields.push_back(sb + ".fallback");

      const std::string ab = sb + ".advanced";
      if (const json* advanced = p.Object(*so, "advanced", ab)) {
        if (advanced->contains("restoreToOriginalReplicaCount"))
          c.ignored_fields.push_back(ab + ".restoreToOriginalReplicaCount");
        if (advanced->contains("scalingModifiers"))
          p.Unimplemented(ab + ".scalingModifiers", "scaling modifiers (KEDA 2.12) are not implemented");
        const std::string hb = ab + ".horizontalPodAutoscalerConfig";
        if (const json* hpa = p.Object(*advanced, "horizontalPodAutoscalerConfig", hb)) {
          if (hpa->contains("name")) c.ignored_fields.push_back(hb + ".name");
          if (const json* behavior = p.Object(*hpa, "behavior", hb + ".behavior"))
            c.behavior = ParseBehavior(p, *behavior, hb + ".behavior", d);
        }
      }
    }

    const std::string tb = kb + ".triggers";
    if (auto it = keda->find("triggers"); it != keda->end() && !it->is_null()) {
      if (!it->is_array()) p.Invalid(tb, "must be a list");
      for (size_t i = 0; it->is_array() && i < it->size(); ++i) {
        if (auto t = ParseTrigger(p, (*it)[i], tb + "[" + std::to_string(i) + "]", c.ignored_fields))
          c.triggers.push_back(std::move(*t));
      }
    }
  }

  c.min_replicas = min.value_or(0);
  c.max_replicas = max.value_or(d.max_replicas);
  if (max && *max < 1)
    p.Invalid(max_path, "0 must be >= 1 (the HPA's maxReplicas)");
  else if (min && c.min_replicas > c.max_replicas)
    p.Invalid(min_path, std::to_string(c.min_replicas) + " is greater than " +
                            (max ? max_path + " " : std::string("the default maxReplicas ")) +
                            std::to_string(c.max_replicas));
  if (idle) {
    if (*idle >= c.hpa_min_replicas())
      p.Invalid(idle_path, std::to_string(*idle) +
                               " must be less than max(minReplicas, 1) = " + std::to_string(c.hpa_min_replicas()));
    else
      c.idle_replicas = idle;
  }
  if (Status s = p.ToStatus(); !s.ok()) return s;
  return c;
}

}  // namespace ofn::autoscaler

#include "components/redis/hash_state_store.h"

#include <charconv>
#include <map>

namespace ofn::components::redis {
namespace {

// KEYS[1] key; ARGV[1] mode: "any" (last-write), "create" (first-write
// without etag) or "match" (etag); ARGV[2] the etag; ARGV[3] the value.
// Returns the new version, -1 on an etag mismatch, -2 if "create" finds the key.
// A non-hash key (pcall gives an error table) counts as absent and is replaced.
constexpr const char* kSetScript = R"lua(
local v = redis.pcall("HGET", KEYS[1], "version")
local plain = type(v) == "table"
if plain then v = false end
if ARGV[1] == "match" and v ~= ARGV[2] then return -1 end
if ARGV[1] == "create" and v then return -2 end
if plain then redis.call("DEL", KEYS[1]) end
redis.call("HSET", KEYS[1], "data", ARGV[3])
return redis.call("HINCRBY", KEYS[1], "version", 1)
)lua";

// KEYS[1] key; ARGV[1] mode "any" or "match"; ARGV[2] the etag.
// Returns the number of keys deleted, -1 on an etag mismatch.
constexpr const char* kDeleteScript = R"lua(
if ARGV[1] == "match" and redis.pcall("HGET", KEYS[1], "version") ~= ARGV[2] then return -1 end
return redis.call("DEL", KEYS[1])
)lua";

constexpr int kMaxTransactionAttempts = 16;

struct Plan {
  std::string mode;
  std::string etag;
};

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// The script mode for one write, by the rules of state_store.h.
Result<Plan> PlanWrite(const std::string& key, const std::optional<std::string>& etag,
                       std::optional<Concurrency> concurrency, bool for_delete) {
  if (key.empty()) return Status::InvalidArgument("state key is empty");
  const bool has_etag = etag.has_value() && !etag->empty();
  const Concurrency mode = concurrency.value_or(has_etag ? Concurrency::kFirstWrite : Concurrency::kLastWrite);
  if (mode == Concurrency::kLastWrite) return Plan{"any", ""};
  if (has_etag) {
    auto v = ParseInt(*etag);
    if (!v || *v <= 0) return EtagInvalid(*etag);
    return Plan{"match", std::to_string(*v)};
  }
  return Plan{for_delete ? "any" : "create", ""};
}

Args SetCommand(const std::string& key, const Plan& plan, const std::string& value) {
  return {"EVAL", kSetScript, "1", key, plan.mode, plan.etag, value};
}

Args DeleteCommand(const std::string& key, const Plan& plan) {
  return {"EVAL", kDeleteScript, "1", key, plan.mode, plan.etag};
}

// HGETALL's reply, or GET's for a plain string key.
Result<std::optional<StateItem>> ToItem(const redisReply* r) {
  if (r->type == REDIS_REPLY_NIL) return std::optional<StateItem>();
  if (r->type == REDIS_REPLY_STRING) return std::optional<StateItem>(StateItem{ReplyText(r), ""});
  if (r->type != REDIS_REPLY_ARRAY) return UnexpectedReply(r, "HGETALL");
  if (r->elements == 0) return std::optional<StateItem>();
  StateItem item;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    const std::string field = ReplyText(r->element[i]);
    if (field == "data") item.value = ReplyText(r->element[i + 1]);
    if (field == "version") item.etag = ReplyText(r->element[i + 1]);
  }
  return std::optional<StateItem>(std::move(item));
}

}  // namespace

HashStateStore::HashStateStore(RedisOptions options, std::string component)
    : component_(std::move(component)), conn_(std::move(options)) {}

Status HashStateStore::Failed(const Status& s) const { return Status(s.code(), component_ + ": " + s.message()); }

Result<std::optional<StateItem>> HashStateStore::Get(std::string_view key) {
  auto items = BulkGet({std::string(key)});
  if (!items.ok()) return items.status();
  return std::move(items->front());
}

Result<std::vector<std::optional<StateItem>>> HashStateStore::BulkGet(const std::vector<std::string>& keys) {
  std::vector<Args> commands;
  for (const std::string& key : keys) commands.push_back({"HGETALL", key});
  std::lock_guard lock(mu_);
  auto replies = conn_.Run(commands);
  if (!replies.ok()) return Failed(replies.status());
  // Plain string keys answer WRONGTYPE; read those with GET, as Dapr does.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!IsErrorReply((*replies)[i].get(), "WRONGTYPE")) continue;
    auto plain = conn_.Command({"GET", keys[i]});
    if (!plain.ok()) return Failed(plain.status());
    (*replies)[i] = std::move(*plain);
  }
  std::vector<std::optional<StateItem>> out;
  for (const Reply& r : *replies) {
    auto item = ToItem(r.get());
    if (!item.ok()) return Failed(item.status());
    out.push_back(std::move(*item));
  }
  return out;
}

Status HashStateStore::Set(const SetRequest& request) {
  auto plan = PlanWrite(request.key, request.etag, request.concurrency, /*for_delete=*/false);
  if (!plan.ok()) return plan.status();
  std::lock_guard lock(mu_);
  auto reply = conn_.Command(SetCommand(request.key, *plan, request.value));
  if (!reply.ok()) return Failed(reply.status());
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_INTEGER) return Failed(UnexpectedReply(r, "EVAL set"));
  if (r->integer == -1) return EtagMismatch(request.key);
  if (r->integer == -2) return FirstWriteConflict(request.key);
  return Status::Ok();
}

Status HashStateStore::Delete(const DeleteRequest& request) {
  auto plan = PlanWrite(request.key, request.etag, request.concurrency, /*for_delete=*/true);
  if (!plan.ok()) return plan.status();
  std::lock_guard lock(mu_);
  auto reply = conn_.Command(DeleteCommand(request.key, *plan));
  if (!reply.ok()) return Failed(reply.status());
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_INTEGER) return Failed(UnexpectedReply(r, "EVAL delete"));
  if (r->integer == -1) return EtagMismatch(request.key);
  return Status::Ok();
}

Status HashStateStore::Transaction(const std::vector<StateOperation>& operations) {
  if (operations.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
    bool conflict = false;
    Status s = TryTransaction(operations, &conflict);
    if (!conflict) return s;
  }
  return Status::Unavailable(component_ + ": transaction kept conflicting with concurrent writers; not applied");
}

// Requires mu_. Sets *conflict when a watched key changed before EXEC (nothing
// was applied; the caller tries again).
Status HashStateStore::TryTransaction(const std::vector<StateOperation>& operations, bool* conflict) {
  std::vector<std::string> keys;
  std::vector<Plan> plans;
  for (const StateOperation& op : operations) {
    const bool is_set = std::holds_alternative<SetRequest>(op);
    const std::string& key = is_set ? std::get<SetRequest>(op).key : std::get<DeleteRequest>(op).key;
    auto plan = is_set
                    ? PlanWrite(key, std::get<SetRequest>(op).etag, std::get<SetRequest>(op).concurrency, false)
                    : PlanWrite(key, std::get<DeleteRequest>(op).etag, std::get<DeleteRequest>(op).concurrency, true);
    if (!plan.ok()) return plan.status();
    plans.push_back(std::move(*plan));
    keys.push_back(key);
  }

  // WATCH, then read every key's version.
  std::map<std::string, std::optional<int64_t>> versions;
  for (const std::string& key : keys) versions[key];
  std::vector<Args> reads{{"WATCH"}};
  for (const auto& [key, v] : versions) {
    reads.front().push_back(key);
    reads.push_back({"HGET", key, "version"});
  }
  auto replies = conn_.Run(reads);
  if (!replies.ok()) return Failed(replies.status());
  size_t i = 1;
  for (auto& [key, v] : versions) {
    const redisReply* r = (*replies)[i++].get();
    if (r->type != REDIS_REPLY_STRING) continue;  // missing, or a plain key that a write replaces
    v = ParseInt(ReplyText(r));
    if (!v) return Failed(Status::Internal("key " + key + " has a non-integer version"));
  }

  // Check the rules in order against the versions as the operations change them.
  Status verdict;
  for (size_t op = 0; op < operations.size() && verdict.ok(); ++op) {
    std::optional<int64_t>& v = versions[keys[op]];
    if (plans[op].mode == "match" && (!v || std::to_string(*v) != plans[op].etag)) verdict = EtagMismatch(keys[op]);
    if (plans[op].mode == "create" && v) verdict = FirstWriteConflict(keys[op]);
    v = std::holds_alternative<SetRequest>(operations[op]) ? std::optional<int64_t>(v.value_or(0) + 1) : std::nullopt;
  }
  if (!verdict.ok()) {
    (void)conn_.Command({"UNWATCH"}, /*may_retry=*/false);  // the verdict is what matters
    return verdict;
  }

  // Checked: apply all unconditionally, unless a watched key changed meanwhile.
  std::vector<Args> writes{{"MULTI"}};
  const Plan any{"any", ""};
  for (size_t op = 0; op < operations.size(); ++op) {
    if (const auto* set = std::get_if<SetRequest>(&operations[op])) {
      writes.push_back(SetCommand(set->key, any, set->value));
    } else {
      writes.push_back(DeleteCommand(keys[op], any));
    }
  }
  writes.push_back({"EXEC"});
  auto done = conn_.Run(writes, /*may_retry=*/false);  // a retry would have lost the WATCH
  if (!done.ok()) return Failed(done.status());
  const redisReply* exec = done->back().get();
  if (exec->type == REDIS_REPLY_NIL) {
    *conflict = true;
    return Status::Ok();
  }
  if (exec->type != REDIS_REPLY_ARRAY) return Failed(UnexpectedReply(exec, "EXEC"));
  for (size_t k = 0; k < exec->elements; ++k) {
    if (IsErrorReply(exec->element[k])) return Failed(UnexpectedReply(exec->element[k], "EXEC"));
  }
  return Status::Ok();
}

}  // namespace ofn::components::redis

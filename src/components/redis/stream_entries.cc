#include "components/redis/stream_entries.h"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "components/redis/connection.h"

namespace ofn::components::redis {

Result<std::vector<StreamEntry>> ParseEntries(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return UnexpectedReply(reply, "stream entries");
  std::vector<StreamEntry> out;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    if (e->type == REDIS_REPLY_NIL) continue;
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) {
      return UnexpectedReply(e, "stream entry");
    }
    StreamEntry entry{ReplyText(e->element[0]), std::nullopt};
    const redisReply* fields = e->element[1];
    if (fields->type == REDIS_REPLY_ARRAY) {
      entry.fields.emplace();
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        (*entry.fields)[ReplyText(fields->element[f])] = ReplyText(fields->element[f + 1]);
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::vector<StreamEntry>> ParseReadReply(const redisReply* reply) {
  if (reply != nullptr && reply->type == REDIS_REPLY_NIL) return std::vector<StreamEntry>{};
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return UnexpectedReply(reply, "XREADGROUP");
  if (reply->elements == 0) return std::vector<StreamEntry>{};
  const redisReply* stream = reply->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) return UnexpectedReply(stream, "XREADGROUP");
  return ParseEntries(stream->element[1]);
}

Message ToMessage(const std::string& topic, const StreamEntry& entry) {
  Message m;
  m.topic = topic;
  if (!entry.fields) return m;
  if (auto it = entry.fields->find("data"); it != entry.fields->end()) m.data = it->second;
  if (auto it = entry.fields->find("metadata"); it != entry.fields->end()) {
    auto json = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
      for (const auto& [k, v] : json.items()) m.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  return m;
}

std::string NextStreamId(const std::string& id) {
  size_t dash = id.find('-');
  uint64_t seq = 0;
  if (dash == std::string::npos) return id + "-1";
  uint64_t ms = 0;
  std::from_chars(id.data(), id.data() + dash, ms);
  std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  if (seq == UINT64_MAX) return std::to_string(ms + 1) + "-0";
  return std::to_string(ms) + "-" + std::to_string(seq + 1);
}

}  // namespace ofn::components::redis

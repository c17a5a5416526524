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
    auto id = StreamId::Parse(std::string_view(e->element[0]->str, e->element[0]->len));
    if (!id) return UnexpectedReply(e, "stream entry ID");
    StreamEntry entry{.id = *id};
    const redisReply* fields = e->element[1];
    entry.deleted = fields->type != REDIS_REPLY_ARRAY;
    if (!entry.deleted) {
      // A field given twice: the last one counts, as in a map.
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        const redisReply* name = fields->element[f];
        if (name->type != REDIS_REPLY_STRING) continue;
        std::string_view n(name->str, name->len);
        if (n == "data") entry.data = ReplyText(fields->element[f + 1]);
        if (n == "metadata") entry.metadata = ReplyText(fields->element[f + 1]);
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

Message ToMessage(const std::string& topic, StreamEntry&& entry) {
  Message m;
  m.topic = topic;
  m.data = std::move(entry.data);
  if (!entry.metadata.empty()) {
    auto json = nlohmann::json::parse(entry.metadata, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
      for (const auto& [k, v] : json.items()) m.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  return m;
}

std::optional<StreamId> StreamId::Parse(std::string_view text) {
  auto number = [](std::string_view digits, uint64_t* out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
    return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  };
  StreamId id;
  size_t dash = text.find('-');
  if (!number(text.substr(0, dash), &id.ms)) return std::nullopt;
  if (dash != std::string_view::npos && !number(text.substr(dash + 1), &id.seq)) return std::nullopt;
  return id;
}

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

StreamId StreamId::Next() const { return seq == UINT64_MAX ? StreamId{ms + 1, 0} : StreamId{ms, seq + 1}; }

}  // namespace ofn::components::redis

#include "components/redis/backlog.h"

#include <optional>

#include "components/redis/stream_entries.h"

namespace ofn::components::redis {
namespace {

constexpr int64_t kPage = 1000;

Result<int64_t> CountAfter(Connection& conn, const std::string& stream, const std::string& last_id) {
  int64_t count = 0;
  auto last = StreamId::Parse(last_id);
  if (!last) return Status::Internal("redis XINFO GROUPS: last-delivered-id " + last_id + " is not a stream ID");
  std::string start = last->Next().ToString();
  while (count < kMaxCountedLag) {
    auto reply = conn.Command({"XRANGE", stream, start, "+", "COUNT", std::to_string(kPage)});
    if (!reply.ok()) return reply.status();
    auto entries = ParseEntries(reply->get());
    if (!entries.ok()) return entries.status();
    count += static_cast<int64_t>(entries->size());
    if (static_cast<int64_t>(entries->size()) < kPage) break;
    start = entries->back().id.Next().ToString();
  }
  return std::min(count, kMaxCountedLag);
}

}  // namespace

Result<int64_t> GroupBacklog(Connection& conn, const std::string& stream, const std::string& group) {
  auto reply = conn.Command({"XINFO", "GROUPS", stream});
  if (!reply.ok()) return reply.status();
  const redisReply* r = reply->get();
  if (IsErrorReply(r, "ERR no such key")) return int64_t{0};
  if (r->type != REDIS_REPLY_ARRAY) return UnexpectedReply(r, "XINFO GROUPS");
  for (size_t g = 0; g < r->elements; ++g) {
    const redisReply* info = r->element[g];
    if (info->type != REDIS_REPLY_ARRAY) return UnexpectedReply(info, "XINFO GROUPS");
    std::string name, last_id;
    int64_t pending = 0;
    std::optional<int64_t> lag;
    for (size_t i = 0; i + 1 < info->elements; i += 2) {
      const std::string key = ReplyText(info->element[i]);
      const redisReply* v = info->element[i + 1];
      if (key == "name") name = ReplyText(v);
      if (key == "pending" && v->type == REDIS_REPLY_INTEGER) pending = v->integer;
      if (key == "last-delivered-id") last_id = ReplyText(v);
      if (key == "lag" && v->type == REDIS_REPLY_INTEGER) lag = v->integer;
    }
    if (name != group) continue;
    if (!lag) {
      auto counted = CountAfter(conn, stream, last_id);
      if (!counted.ok()) return counted.status();
      lag = *counted;
    }
    return pending + *lag;
  }
  auto len = conn.Command({"XLEN", stream});
  if (!len.ok()) return len.status();
  if ((*len)->type != REDIS_REPLY_INTEGER) return UnexpectedReply(len->get(), "XLEN");
  return static_cast<int64_t>((*len)->integer);
}

}  // namespace ofn::components::redis

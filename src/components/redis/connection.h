// Connection: one hiredis connection to a Redis server that (re)connects on
// demand, authenticates and selects the database, and runs commands given as
// argument vectors (binary-safe), one at a time or as a pipeline.
//
// A command that fails on a connection that had been idle since an earlier
// command (typically: the server restarted meanwhile) is run again once on a
// fresh connection, unless the caller says the retry is unsafe.
//
// Thread-safety: none (hiredis contexts are not thread-safe); each user owns
// its Connection or guards it with a mutex.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "components/redis/options.h"
#include "ofn/status.h"

namespace ofn::components::redis {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
using Args = std::vector<std::string>;

// An error reply whose text starts with `prefix` ("NOGROUP", "BUSYGROUP", ...).
bool IsErrorReply(const redisReply* r, std::string_view prefix = "");
// The bytes of a string, status or error reply; "" for other types.
std::string ReplyText(const redisReply* r);
// Internal status for a reply of an unexpected kind, naming the command.
Status UnexpectedReply(const redisReply* r, std::string_view command);

class Connection {
 public:
  // `read_timeout` bounds each reply wait (a blocking reader passes more
  // than its BLOCK time); the options' dial timeout bounds connecting.
  Connection(RedisOptions options, std::chrono::milliseconds read_timeout);
  explicit Connection(RedisOptions options) : Connection(options, options.read_timeout) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends all commands, then reads one reply per command (error replies are
  // replies, not failures). Unavailable when the server cannot be reached.
  Result<std::vector<Reply>> Run(const std::vector<Args>& commands, bool may_retry = true);
  Result<Reply> Command(const Args& args, bool may_retry = true);

  bool connected() const { return ctx_ != nullptr; }
  // Counts successful connects, so a caller can tell its connection state
  // (a WATCH, a consumer position) did not survive a reconnect.
  uint64_t generation() const { return generation_; }
  void Close();

 private:
  Status Connect();
  Result<std::vector<Reply>> RunOnce(const std::vector<Args>& commands);

  RedisOptions options_;
  std::chrono::milliseconds read_timeout_;
  redisContext* ctx_ = nullptr;
  uint64_t generation_ = 0;
};

}  // namespace ofn::components::redis

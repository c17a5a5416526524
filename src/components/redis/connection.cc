#include "components/redis/connection.h"

#include <sys/time.h>

#include <algorithm>
#include <thread>

namespace ofn::components::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

}  // namespace

bool IsErrorReply(const redisReply* r, std::string_view prefix) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with(prefix);
}

std::string ReplyText(const redisReply* r) {
  if (r == nullptr) return "";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    default:
      return "";
  }
}

Status UnexpectedReply(const redisReply* r, std::string_view command) {
  if (IsErrorReply(r)) return Status::Internal("redis " + std::string(command) + ": " + ReplyText(r));
  return Status::Internal("redis " + std::string(command) + ": unexpected reply type " +
                          std::to_string(r == nullptr ? -1 : r->type));
}

Connection::Connection(RedisOptions options, std::chrono::milliseconds read_timeout)
    : options_(std::move(options)), read_timeout_(read_timeout) {}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

Status Connection::Connect() {
  Close();
  const auto deadline = std::chrono::steady_clock::now() + options_.dial_timeout;
  const std::string where = "redis " + options_.Address();
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.dial_timeout));
  if (c == nullptr) return Status::Unavailable(where + ": cannot allocate a connection");
  if (c->err != 0) {
    Status s = Status::Unavailable(where + ": " + c->errstr);
    redisFree(c);
    return s;
  }
  redisSetTimeout(c, ToTimeval(read_timeout_));
  redisEnableKeepAlive(c);
  ctx_ = c;
  std::vector<Args> setup;
  if (!options_.password.empty()) {
    setup.push_back(options_.username.empty() ? Args{"AUTH", options_.password}
                                              : Args{"AUTH", options_.username, options_.password});
  }
  if (options_.db != 0) setup.push_back({"SELECT", std::to_string(options_.db)});
  if (!setup.empty()) {
    auto replies = RunOnce(setup);
    if (!replies.ok()) return replies.status();
    for (size_t i = 0; i < replies->size(); ++i) {
      if (IsErrorReply((*replies)[i].get())) {
        Close();
        const std::string text = ReplyText((*replies)[i].get());
        return setup[i][0] == "AUTH" ? Status::Unauthenticated(where + ": AUTH: " + text)
                                     : Status::InvalidArgument(where + ": SELECT " + setup[i][1] + ": " + text);
      }
    }
  }
  // A restarted server answers LOADING to everything until its data is
  // back; wait for that here (within the dial timeout), so no command,
  // and no part of a pipeline, ever meets a server that is not ready.
  for (auto pause = std::chrono::milliseconds(5);; pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
    auto pong = RunOnce({{"PING"}});
    if (!pong.ok()) return pong.status();
    if (IsErrorReply(pong->front().get(), "NOAUTH")) {
      Close();
      return Status::Unauthenticated(where + ": the server wants a password (metadata redisPassword)");
    }
    if (!IsErrorReply(pong->front().get(), "LOADING")) break;
    if (std::chrono::steady_clock::now() + pause > deadline) {
      Close();
      return Status::Unavailable(where + ": the server is still loading its data");
    }
    std::this_thread::sleep_for(pause);
  }
  ++generation_;
  return Status::Ok();
}

Result<std::vector<Reply>> Connection::RunOnce(const std::vector<Args>& commands) {
  for (const Args& args : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) break;
  }
  std::vector<Reply> replies;
  for (size_t i = 0; i < commands.size() && ctx_->err == 0; ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) break;
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  if (ctx_->err != 0 || replies.size() != commands.size()) {
    Status s = Status::Unavailable("redis " + options_.Address() + ": " +
                                   (ctx_->err != 0 ? std::string(ctx_->errstr) : "connection lost"));
    Close();  // a half-read pipeline leaves the stream out of step
    return s;
  }
  return replies;
}

Result<std::vector<Reply>> Connection::Run(const std::vector<Args>& commands, bool may_retry) {
  bool reused = ctx_ != nullptr;
  if (!reused) {
    if (Status s = Connect(); !s.ok()) return s;
  }
  auto replies = RunOnce(commands);
  if (replies.ok() || !reused || !may_retry) return replies;
  if (Status s = Connect(); !s.ok()) return s;
  return RunOnce(commands);
}

Result<Reply> Connection::Command(const Args& args, bool may_retry) {
  auto replies = Run({args}, may_retry);
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

}  // namespace ofn::components::redis

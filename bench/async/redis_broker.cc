// Redis Streams through hiredis, as Dapr's pubsub.redis uses them: XADD
// <topic> * data <event>; the bare subscriber is XREADGROUP + XACK.
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "broker.h"

namespace bench {
namespace {

using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

class Redis final : public Broker {
 public:
  Redis(redisContext* c, std::string address) : c_(c), address_(std::move(address)) {}
  ~Redis() override { redisFree(c_); }

  std::string ComponentType() const override { return "pubsub.redis"; }
  std::string ComponentMetadata() const override { return "    - name: redisHost\n      value: " + address_ + "\n"; }

  bool PublishOne(const std::string& topic, const std::string& event) override {
    Reply r = Command({"XADD", topic, "*", "data", event});
    return Ok(r.get(), "XADD");
  }

  bool PublishMany(const std::string& topic, int n, const std::function<std::string(int)>& make) override {
    constexpr int kPipeline = 256;
    for (int sent = 0; sent < n;) {
      int batch = std::min(kPipeline, n - sent);
      for (int i = 0; i < batch; ++i) {
        std::string event = make(sent + i);
        const char* argv[] = {"XADD", topic.c_str(), "*", "data", event.data()};
        size_t len[] = {4, topic.size(), 1, 4, event.size()};
        redisAppendCommandArgv(c_, 5, argv, len);
      }
      for (int i = 0; i < batch; ++i) {
        void* raw = nullptr;
        if (redisGetReply(c_, &raw) != REDIS_OK) return Ok(nullptr, "XADD");
        Reply r(static_cast<redisReply*>(raw), freeReplyObject);
        if (!Ok(r.get(), "XADD")) return false;
      }
      sent += batch;
    }
    return true;
  }

  bool ConsumerExists(const std::string& topic, const std::string& group) override {
    Reply r = Command({"XINFO", "GROUPS", topic});
    if (!r || r->type != REDIS_REPLY_ARRAY) return false;
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* g = r->element[i];
      for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2) {
        if (std::strcmp(g->element[k]->str, "name") == 0 && group == g->element[k + 1]->str) return true;
      }
    }
    return false;
  }

  void Subscribe(const std::string& topic, const std::string& group, Recorder& recorder) override {
    Reply created = Command({"XGROUP", "CREATE", topic, group, "0", "MKSTREAM"});
    for (;;) {
      Reply r = Command({"XREADGROUP", "GROUP", group, group, "COUNT", std::to_string(BareBatch()), "BLOCK", "1000",
                         "STREAMS", topic, ">"});
      if (!r) return (void)Ok(nullptr, "XREADGROUP");
      if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) continue;  // nil: the block timed out
      const redisReply* entries = r->element[0]->element[1];
      std::vector<std::string> ack{"XACK", topic, group};
      for (size_t i = 0; i < entries->elements; ++i) {
        const redisReply* e = entries->element[i];
        const redisReply* fields = e->element[1];
        for (size_t k = 0; k + 1 < fields->elements; k += 2) {
          if (std::strcmp(fields->element[k]->str, "data") == 0) {
            recorder.Record(std::string_view(fields->element[k + 1]->str, fields->element[k + 1]->len));
          }
        }
        ack.emplace_back(e->element[0]->str);
      }
      Reply acked = Command(ack);
      if (!Ok(acked.get(), "XACK")) return;
    }
  }

 private:
  Reply Command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> len;
    for (const auto& a : args) {
      argv.push_back(a.data());
      len.push_back(a.size());
    }
    void* r = redisCommandArgv(c_, static_cast<int>(args.size()), argv.data(), len.data());
    return Reply(static_cast<redisReply*>(r), freeReplyObject);
  }

  bool Ok(const redisReply* r, const char* what) {
    if (r && r->type != REDIS_REPLY_ERROR) return true;
    std::fprintf(stderr, "eventbench: redis %s at %s failed: %s\n", what, address_.c_str(),
                 r ? r->str : (c_->err ? c_->errstr : "no reply"));
    return false;
  }

  redisContext* c_;
  std::string address_;
};

}  // namespace

std::unique_ptr<Broker> ConnectRedis(const std::string& address) {
  size_t colon = address.rfind(':');
  redisContext* c = redisConnect(address.substr(0, colon).c_str(), std::atoi(address.c_str() + colon + 1));
  if (c == nullptr || c->err) {
    std::fprintf(stderr, "eventbench: cannot connect to redis at %s: %s\n", address.c_str(), c ? c->errstr : "");
    if (c) redisFree(c);
    return nullptr;
  }
  return std::make_unique<Redis>(c, address);
}

}  // namespace bench

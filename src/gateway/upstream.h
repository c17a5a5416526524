// UpstreamPool: keep-alive HTTP/1.1 connections from one gateway loop to
// function instances, driven by that loop's Reactor (never blocks).
//
// Send() writes a complete request and calls back once with the response or
// a failure. A failure says whether the request may have reached the
// instance: only a request that never did (connect refused, or a pooled
// connection found closed before any byte of answer) is safe to retry
// elsewhere. A pooled connection that turns out stale is retried once on a
// fresh connection, transparently. Loop-confined: use from the loop's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/http_server.h"
#include "ofn/status.h"

namespace ofn::gateway {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string Key() const { return host + ":" + std::to_string(port); }
  bool operator==(const Endpoint&) const = default;
};

struct EndpointHash {
  size_t operator()(const Endpoint& e) const { return std::hash<std::string>()(e.host) * 31 + std::hash<int>()(e.port); }
};

struct UpstreamResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct UpstreamResult {
  Result<UpstreamResponse> response = Status::Internal("no answer yet");
  bool never_reached = false;  // on failure: the instance cannot have seen the request
  std::string request;         // on failure: the request, handed back for a retry elsewhere
};

class UpstreamPool {
 public:
  using Callback = std::function<void(UpstreamResult)>;
  struct Options {
    size_t max_idle_per_endpoint = 256;
    size_t max_response_bytes = 64 << 20;
  };

  explicit UpstreamPool(net::Reactor& reactor) : UpstreamPool(reactor, Options()) {}
  UpstreamPool(net::Reactor& reactor, Options options);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // `request`: the serialized request; `head`: it is a HEAD request.
  void Send(const Endpoint& ep, std::string request, bool head, std::chrono::steady_clock::time_point deadline,
            Callback cb);
  // Closes idle connections to an endpoint that is going away.
  void Forget(const Endpoint& ep);
  size_t idle_connections() const;
  // Closes every connection without touching the reactor, whose loop has
  // stopped; callbacks are dropped unanswered.
  void Abandon();

  struct Conn;

 private:
  void Dispatch(Conn* c, std::string request, bool head, std::chrono::steady_clock::time_point deadline, Callback cb);
  void OnEvents(Conn* c, uint32_t events);
  void WatchWritable(Conn* c, bool on);
  void Finish(Conn* c, UpstreamResult result, bool reusable);
  void Destroy(Conn* c);
  Conn* Connect(const Endpoint& ep, Status* error);
  void ExpireTimeouts();

  net::Reactor& reactor_;
  Options options_;
  std::unordered_map<Endpoint, std::vector<Conn*>, EndpointHash> idle_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> all_;
  // Deadlines are checked by one periodic timer, armed while requests are
  // out, instead of a timer per request.
  size_t busy_ = 0;
  uint64_t sweep_timer_ = 0;
};

}  // namespace ofn::gateway

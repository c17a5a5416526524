// Gateway: the HTTP entry point of every sync function, with the activator.
//
// Requests are routed by Host (exact) or by path prefix (the prefix is
// removed before the instance sees the path), then proxied over keep-alive
// connections to the ready instance with the fewest requests outstanding,
// never past the function's containerConcurrency (excess waits). While a
// function has no ready instance, requests wait in a bounded queue (full, or
// waiting past its deadline: 503 with the reason) and the listener is told at
// once, so it can start one. A request is retried on another instance only
// when it never reached one.
//
// The data path is one event-loop thread: proxying needs no more than one
// core to outrun the instances behind it, and all routing state stays on that
// thread without locks. Upsert/Remove/SetEndpoints/Stats are thread-safe;
// Upsert and Remove return once requests are routed accordingly (so never
// call them from a listener callback), SetEndpoints returns at once.
#pragma once

#include <atomic>
#include <functional>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/upstream.h"
#include "net/http_server.h"
#include "ofn/status.h"

namespace ofn::gateway {

struct RouteSpec {
  std::string key;                          // "namespace/name"
  std::vector<std::string> hosts;           // exact Host values (any port)
  std::vector<std::string> path_prefixes;   // "/default/hello": removed before forwarding
  int container_concurrency = 0;            // per instance; 0 = unlimited
  std::chrono::milliseconds timeout{60000};       // one request, once forwarded
  size_t queue_limit = 1000;                      // requests waiting for an instance or a slot
  std::chrono::milliseconds queue_timeout{30000}; // how long one may wait
};

// Request latency buckets (seconds, upper bounds) of FunctionStats::latency.
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Counters per function; read from any thread.
struct FunctionStats {
  int64_t in_flight = 0;  // forwarded, not yet answered
  int64_t queued = 0;     // waiting in the activator
  int64_t requests = 0;   // answered, any status
  int64_t errors = 0;     // answered 5xx by the gateway or the instance
  int64_t cold_waits = 0; // requests that found no instance and waited for one
  // Answered requests by duration: latency[i] counts those <= kLatencyBuckets[i] (not cumulative).
  std::vector<int64_t> latency = std::vector<int64_t>(std::size(kLatencyBuckets) + 1, 0);
  double latency_sum_seconds = 0;
};

// Told about demand, on the gateway's thread: must not block.
class GatewayListener {
 public:
  virtual ~GatewayListener() = default;
  // A request is waiting and the function has no ready instance.
  virtual void OnDemand(const std::string& key) = 0;
  // Requests in flight plus queued changed (the autoscaler's input).
  virtual void OnConcurrency(const std::string& key, int concurrency) {}
};

// A request the gateway answers itself rather than forwarding (webhook
// event sources): a copy, so it can travel to another thread.
struct LocalRequest {
  std::string method;
  std::string path;  // after the handler's prefix
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
};
// Answers one LocalRequest: call exactly once, from any thread.
using LocalReply = std::function<void(int status, std::string body)>;
// Runs on the gateway's loop thread: must hand slow work to another thread.
using LocalHandler = std::function<void(LocalRequest request, LocalReply reply)>;

class Gateway {
 public:
  struct Options {
    std::string host = "0.0.0.0";
    int port = 8080;
    net::ParseLimits limits;
  };

  static Result<std::unique_ptr<Gateway>> Start(Options options, GatewayListener* listener);
  ~Gateway();

  int port() const;
  void Upsert(RouteSpec route);
  void Remove(const std::string& key);
  // The function's ready instances; requests waiting for one are sent now.
  void SetEndpoints(const std::string& key, std::vector<Endpoint> ready);
  FunctionStats Stats(const std::string& key) const;
  // Requests whose path starts with `prefix` + "/" go to `handler` instead
  // of a function. Set before serving; the prefix must not be a function's.
  void SetLocalHandler(std::string prefix, LocalHandler handler);
  bool Shutdown(std::chrono::milliseconds drain);

  struct State;

 private:
  Gateway() = default;
  std::unique_ptr<net::HttpServer> server_;
  std::shared_ptr<State> state_;
  std::atomic<bool> stopped_{false};
};

}  // namespace ofn::gateway

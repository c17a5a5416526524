// EventsController: reconciles the stored events kinds (EventSource,
// EventBus, ClusterEventBus, Trigger) into the events engine and writes
// their status.
//
// It resolves which bus a name means (the namespace's EventBus, else the
// ClusterEventBus, else, for "default", Ofn's embedded bus), restarts the
// sources and triggers on a bus when that bus changes, retries those that
// failed when Functions or buses appear, and resolves sink references to
// Functions through the manager (a Knative Service named after a function,
// as in OpenFunction's samples, means that function).
//
// Status follows OpenFunction's: conditions [{type: Ready | Error, status,
// reason, message, timestamp}], plus Ofn's `bus` (which bus carries it) and
// `topics` (the bus topics it writes or reads).
//
// Threads: one worker applies changes in order; the store's subscriber only
// queues them. Public methods are thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "events/engine.h"
#include "gateway/gateway.h"
#include "server/manager.h"
#include "store/store.h"

namespace ofn::server {

// Where webhook event sources are served on the gateway:
// /_eventsources/<namespace>/<eventsource>/<event>. Namespaces are DNS
// labels, so no function's path can start with "_".
inline constexpr char kWebhookPrefix[] = "/_eventsources";

// A sink reference as a URL on the gateway: a Function, or the Knative
// Service of one ("<fn>", "<fn>-serving-<id>-ksvc-<id>", "<fn>-serving-ksvc").
Result<std::string> ResolveFunctionSink(FunctionManager& manager, const api::SinkRef& ref);

class EventsController {
 public:
  EventsController(store::Store* store, events::Engine* engine);
  ~EventsController();

  // Applies everything stored, then follows the store.
  Status Start();
  void Stop();

  // The live counts of a source or trigger (for describe and the API).
  nlohmann::json Stats(const std::string& kind, const std::string& ns, const std::string& name);
  // Resolves `bus` as seen from namespace ns ("" + ClusterEventBus fallback).
  Result<api::EventBus> ResolveBus(const std::string& ns, const std::string& name);

  // `ofn events tail`: a watch reads a bus topic as its own consumer group
  // (the embedded bus starts such a group at the oldest retained event) and
  // buffers what arrives (the newest 1000) until read. Watches not read for
  // a minute are closed.
  Result<std::string> OpenWatch(const std::string& ns, const std::string& bus, const std::string& topic);
  // Waits up to `wait` for events; NotFound for an unknown or expired watch.
  Result<std::vector<std::string>> ReadWatch(const std::string& id, std::chrono::milliseconds wait);
  void CloseWatch(const std::string& id);

  // Answers a webhook request (the gateway's local handler, on its thread).
  void Webhook(gateway::LocalRequest request, gateway::LocalReply reply);

 private:
  void Enqueue(std::function<void()> job);
  void Worker();
  void OnChange(const store::Change& change);
  void ApplySource(const store::Object& obj);
  void ApplyTrigger(const store::Object& obj);
  // Re-applies what uses bus `name` (any namespace when cluster).
  void BusChanged(const std::string& ns, const std::string& name, bool cluster);
  // Re-applies what is not ready (a Function or bus may have appeared).
  void RetryFailed();
  void WriteStatus(const store::Object& obj, bool ready, const std::string& reason, const std::string& message,
                   const std::string& bus, const std::vector<std::string>& topics);

  struct Watch;
  void ExpireWatches();

  store::Store* store_;
  events::Engine* engine_;
  std::mutex watches_mu_;
  std::map<std::string, std::shared_ptr<Watch>> watches_;
  uint64_t subscription_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;
  std::thread webhook_thread_;
  std::deque<std::function<void()>> webhooks_;  // published off the gateway's thread
  std::condition_variable webhook_cv_;
  // "Kind/ns/name" -> (generation, metadata) last queued: status writes are not changes to apply.
  std::map<std::string, std::pair<int64_t, std::string>> queued_specs_;
  // "Kind/ns/name" -> bus name it uses, and whether it failed.
  struct Applied {
    std::string bus;
    bool failed = false;
  };
  std::map<std::string, Applied> applied_;  // worker only
};

}  // namespace ofn::server

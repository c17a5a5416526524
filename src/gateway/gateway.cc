#include "gateway/gateway.h"

#include <algorithm>
#include <deque>
#include <future>
#include <limits>

#include "common/encoding.h"
#include "common/log.h"

namespace ofn::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// Hop-by-hop headers (RFC 9110 §7.6.1) and framing we set ourselves.
bool HopByHop(std::string_view name) {
  for (const char* h : {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                        "upgrade", "content-length", "proxy-authenticate", "proxy-authorization"}) {
    if (EqualsIgnoreCase(name, h)) return true;
  }
  return false;
}

std::string_view HostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

struct Counters {
  std::atomic<int64_t> in_flight{0}, queued{0}, requests{0}, errors{0}, cold_waits{0};
  std::atomic<int64_t> latency[std::size(kLatencyBuckets) + 1] = {};
  std::atomic<int64_t> latency_sum_us{0};
};

struct EndpointState {
  Endpoint ep;
  int outstanding = 0;
  int failures = 0;  // connects refused since it was listed; sorts it last
};

struct Pending {
  std::string request;  // serialized for the instance; lent to the pool while forwarded
  bool head = false;
  net::Responder responder;
  Clock::time_point arrived;
  uint64_t queue_timer = 0;
  int attempts = 0;
};

struct Fn {
  RouteSpec route;
  std::vector<std::shared_ptr<EndpointState>> endpoints;
  std::deque<std::shared_ptr<Pending>> queue;
  std::shared_ptr<Counters> counters;
  int active = 0;
};

}  // namespace

struct Gateway::State {
  GatewayListener* listener = nullptr;
  net::Reactor* reactor = nullptr;  // the one loop's
  std::unique_ptr<UpstreamPool> pool;
  // Loop-confined routing state.
  std::unordered_map<std::string, std::shared_ptr<Fn>> fns;
  std::unordered_map<std::string, std::string> hosts;            // host -> key
  std::vector<std::pair<std::string, std::string>> prefixes;     // (prefix, key), longest first
  std::string local_prefix;  // with its trailing '/'
  LocalHandler local;
  // Shared with Stats().
  mutable std::mutex counters_mu;
  std::unordered_map<std::string, std::shared_ptr<Counters>> counters;

  void Handle(HttpRequest& req, net::Responder responder);
  void Dispatch(const std::shared_ptr<Fn>& fn, std::shared_ptr<Pending> p);
  void Forward(const std::shared_ptr<Fn>& fn, const std::shared_ptr<EndpointState>& ep, std::shared_ptr<Pending> p);
  void Enqueue(const std::shared_ptr<Fn>& fn, std::shared_ptr<Pending> p);
  void DrainQueue(const std::shared_ptr<Fn>& fn);
  void Answer(const std::shared_ptr<Fn>& fn, Pending& p, HttpResponse resp);
  void Concurrency(const std::shared_ptr<Fn>& fn);
  void RebuildRoutes();
  std::shared_ptr<Fn> Route(const HttpRequest& req, std::string_view* path) const;
};

std::shared_ptr<Fn> Gateway::State::Route(const HttpRequest& req, std::string_view* path) const {
  *path = req.path();
  if (auto host = req.header("host")) {
    auto it = hosts.find(std::string(HostWithoutPort(*host)));
    if (it != hosts.end()) return fns.at(it->second);
  }
  for (const auto& [prefix, key] : prefixes) {
    std::string_view p = req.path();
    if (p.substr(0, prefix.size()) != prefix) continue;
    if (p.size() > prefix.size() && p[prefix.size()] != '/') continue;  // "/a/bc" is not under "/a/b"
    *path = p.substr(prefix.size());
    return fns.at(key);
  }
  return nullptr;
}

void Gateway::State::Handle(HttpRequest& req, net::Responder responder) {
  if (local && req.path().starts_with(local_prefix)) {
    LocalRequest lr;
    lr.method = std::string(req.method());
    lr.path = std::string(req.path().substr(local_prefix.size() - 1));
    for (const auto& h : req.headers()) lr.headers.emplace_back(enc::ToLower(h.name), std::string(h.value));
    lr.body = std::string(req.body());
    auto shared = std::make_shared<net::Responder>(std::move(responder));
    net::Reactor* loop = reactor;
    local(std::move(lr), [shared, loop](int status, std::string body) {
      loop->Post([shared, status, body = std::move(body)]() mutable {
        HttpResponse resp(status, std::move(body));
        shared->Send(std::move(resp));
      });
    });
    return;
  }
  std::string_view path;
  std::shared_ptr<Fn> fn = Route(req, &path);
  if (!fn) {
    responder.Send(HttpResponse(404, "no function is routed here\n"));
    return;
  }
  // The request's views die with this call: serialize it for the instance now.
  auto p = std::make_shared<Pending>();
  p->head = req.method() == "HEAD";
  p->arrived = Clock::now();
  p->responder = std::move(responder);
  std::string& out = p->request;
  out.reserve(256 + req.body().size());
  out.append(req.method()).append(" ");
  out.append(path.empty() ? "/" : path);
  if (!req.query_string().empty() || req.target().find('?') != std::string_view::npos) {
    out.append("?").append(req.query_string());
  }
  out.append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const auto& h : req.headers()) {
    if (HopByHop(h.name)) continue;
    has_host |= EqualsIgnoreCase(h.name, "host");
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!has_host) out.append("Host: function\r\n");
  if (auto host = req.header("host")) out.append("X-Forwarded-Host: ").append(*host).append("\r\n");
  out.append("X-Forwarded-Proto: http\r\n");
  if (!req.body().empty() || (req.method() != "GET" && req.method() != "HEAD")) {
    out.append("Content-Length: ").append(std::to_string(req.body().size())).append("\r\n");
  }
  out.append("\r\n").append(req.body());
  Dispatch(fn, std::move(p));
}

void Gateway::State::Dispatch(const std::shared_ptr<Fn>& fn, std::shared_ptr<Pending> p) {
  // Least outstanding, skipping instances at their concurrency limit and
  // preferring ones that have not refused connections.
  std::shared_ptr<EndpointState> best;
  int cc = fn->route.container_concurrency;
  for (const auto& ep : fn->endpoints) {
    if (cc > 0 && ep->outstanding >= cc) continue;
    if (!best || std::make_pair(ep->failures, ep->outstanding) < std::make_pair(best->failures, best->outstanding)) {
      best = ep;
    }
  }
  if (!best) {
    Enqueue(fn, std::move(p));
    return;
  }
  Forward(fn, best, std::move(p));
}

void Gateway::State::Forward(const std::shared_ptr<Fn>& fn, const std::shared_ptr<EndpointState>& ep,
                             std::shared_ptr<Pending> p) {
  ++ep->outstanding;
  ++fn->active;
  ++p->attempts;
  fn->counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  Concurrency(fn);
  pool->Send(ep->ep, std::move(p->request), p->head, Clock::now() + fn->route.timeout,
             [this, fn, ep, p](UpstreamResult r) mutable {
               --ep->outstanding;
               --fn->active;
               fn->counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
               if (r.response.ok()) {
                 ep->failures = 0;
                 UpstreamResponse& u = *r.response;
                 HttpResponse resp(u.status);
                 for (auto& [k, v] : u.headers) {
                   if (!HopByHop(k) && !EqualsIgnoreCase(k, "date")) resp.add_header(std::move(k), std::move(v));
                 }
                 resp.set_body(std::move(u.body));
                 Answer(fn, *p, std::move(resp));
               } else if (r.never_reached && p->attempts < 3) {
                 p->request = std::move(r.request);
                 // Safe to try again: the instance never saw it. The failed
                 // one sorts last until the controller updates the endpoints.
                 ++ep->failures;
                 Dispatch(fn, std::move(p));
               } else {
                 bool timeout = r.response.status().code() == StatusCode::kDeadlineExceeded;
                 Answer(fn, *p, HttpResponse(timeout ? 504 : 502, r.response.status().message() + "\n"));
               }
               DrainQueue(fn);
               Concurrency(fn);
             });
}

void Gateway::State::Enqueue(const std::shared_ptr<Fn>& fn, std::shared_ptr<Pending> p) {
  if (fn->queue.size() >= fn->route.queue_limit) {
    Answer(fn, *p, HttpResponse(503, "too many requests waiting for function " + fn->route.key + "\n"));
    return;
  }
  if (fn->endpoints.empty()) {
    fn->counters->cold_waits.fetch_add(1, std::memory_order_relaxed);
    if (listener) listener->OnDemand(fn->route.key);
  }
  std::weak_ptr<Pending> weak = p;
  auto deadline = p->arrived + fn->route.queue_timeout;
  p->queue_timer = reactor->AddTimer(deadline, [this, fn, weak] {
    auto p = weak.lock();
    if (!p) return;
    auto it = std::find(fn->queue.begin(), fn->queue.end(), p);
    if (it == fn->queue.end()) return;
    fn->queue.erase(it);
    fn->counters->queued.fetch_sub(1, std::memory_order_relaxed);
    p->queue_timer = 0;
    std::string why = fn->endpoints.empty() ? "no instance of " + fn->route.key + " became ready"
                                            : "every instance of " + fn->route.key + " stayed busy";
    Answer(fn, *p, HttpResponse(503, why + " within " + std::to_string(fn->route.queue_timeout.count()) + " ms\n"));
    Concurrency(fn);
  });
  fn->queue.push_back(std::move(p));
  fn->counters->queued.fetch_add(1, std::memory_order_relaxed);
  Concurrency(fn);
}

void Gateway::State::DrainQueue(const std::shared_ptr<Fn>& fn) {
  int cc = fn->route.container_concurrency;
  while (!fn->queue.empty()) {
    bool slot = false;
    for (const auto& ep : fn->endpoints) slot |= cc == 0 || ep->outstanding < cc;
    if (!slot) return;
    auto p = std::move(fn->queue.front());
    fn->queue.pop_front();
    fn->counters->queued.fetch_sub(1, std::memory_order_relaxed);
    if (p->queue_timer) reactor->CancelTimer(p->queue_timer);
    p->queue_timer = 0;
    Dispatch(fn, std::move(p));
  }
}

void Gateway::State::Answer(const std::shared_ptr<Fn>& fn, Pending& p, HttpResponse resp) {
  Counters& c = *fn->counters;
  c.requests.fetch_add(1, std::memory_order_relaxed);
  double secs = std::chrono::duration<double>(Clock::now() - p.arrived).count();
  size_t b = 0;
  while (b < std::size(kLatencyBuckets) && secs > kLatencyBuckets[b]) ++b;
  c.latency[b].fetch_add(1, std::memory_order_relaxed);
  c.latency_sum_us.fetch_add(static_cast<int64_t>(secs * 1e6), std::memory_order_relaxed);
  if (resp.status() >= 500) fn->counters->errors.fetch_add(1, std::memory_order_relaxed);
  p.responder.Send(std::move(resp));
}

void Gateway::State::Concurrency(const std::shared_ptr<Fn>& fn) {
  if (listener) listener->OnConcurrency(fn->route.key, fn->active + static_cast<int>(fn->queue.size()));
}

void Gateway::State::RebuildRoutes() {
  hosts.clear();
  prefixes.clear();
  for (const auto& [key, fn] : fns) {
    for (const auto& h : fn->route.hosts) hosts[h] = key;
    for (std::string p : fn->route.path_prefixes) {
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      prefixes.emplace_back(p, key);
    }
  }
  std::sort(prefixes.begin(), prefixes.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

Result<std::unique_ptr<Gateway>> Gateway::Start(Options options, GatewayListener* listener) {
  std::unique_ptr<Gateway> g(new Gateway());
  g->state_ = std::make_shared<State>();
  g->state_->listener = listener;
  net::HttpServerOptions so;
  so.host = options.host;
  so.port = options.port;
  so.loops = 1;
  so.limits = options.limits;
  State* st = g->state_.get();
  auto server = net::HttpServer::StartAsync(so, [st](HttpRequest& req, net::Reactor&, net::Responder r) {
    st->Handle(req, std::move(r));
  });
  if (!server.ok()) return server.status();
  g->server_ = std::move(*server);
  st->reactor = &g->server_->reactor(0);
  // The pool lives on the loop; create it there before any request can need it.
  std::promise<void> ready;
  st->reactor->Post([st, &ready] {
    st->pool = std::make_unique<UpstreamPool>(*st->reactor);
    ready.set_value();
  });
  ready.get_future().wait();
  return g;
}

Gateway::~Gateway() {
  if (!server_) return;
  State* st = state_.get();
  if (!stopped_) {
    // Close pooled connections on the loop while it still runs.
    std::promise<void> done;
    st->reactor->Post([st, &done] {
      st->fns.clear();
      st->pool.reset();
      done.set_value();
    });
    done.get_future().wait_for(std::chrono::seconds(5));
  }
  server_->Shutdown(std::chrono::milliseconds(0));
  // After a drained Shutdown() the loop no longer runs: nothing races us.
  if (st->pool) st->pool->Abandon();
  st->fns.clear();
  server_.reset();
}

int Gateway::port() const { return server_->port(); }

void Gateway::Upsert(RouteSpec route) {
  if (stopped_) return;  // the loop no longer runs tasks
  std::shared_ptr<Counters> counters;
  {
    std::lock_guard lk(state_->counters_mu);
    auto& c = state_->counters[route.key];
    if (!c) c = std::make_shared<Counters>();
    counters = c;
  }
  State* st = state_.get();
  std::promise<void> applied;
  st->reactor->Post([st, route = std::move(route), counters, &applied]() mutable {
    auto& fn = st->fns[route.key];
    if (!fn) {
      fn = std::make_shared<Fn>();
      fn->counters = counters;
    }
    fn->route = std::move(route);
    st->RebuildRoutes();
    st->DrainQueue(fn);  // a raised concurrency limit may free slots
    applied.set_value();
  });
  applied.get_future().wait();
}

void Gateway::SetLocalHandler(std::string prefix, LocalHandler handler) {
  std::promise<void> done;
  State* st = state_.get();
  st->reactor->Post([st, &done, prefix = std::move(prefix), handler = std::move(handler)]() mutable {
    st->local_prefix = prefix + "/";
    st->local = std::move(handler);
    done.set_value();
  });
  done.get_future().wait();
}

void Gateway::Remove(const std::string& key) {
  if (stopped_) return;
  State* st = state_.get();
  std::promise<void> removed;
  st->reactor->Post([st, key] {
    auto it = st->fns.find(key);
    if (it == st->fns.end()) return;
    auto fn = it->second;
    st->fns.erase(it);
    st->RebuildRoutes();
    while (!fn->queue.empty()) {
      auto p = std::move(fn->queue.front());
      fn->queue.pop_front();
      if (p->queue_timer) st->reactor->CancelTimer(p->queue_timer);
      st->Answer(fn, *p, HttpResponse(503, "function " + key + " was deleted\n"));
    }
    fn->counters->queued = 0;
  });
  st->reactor->Post([&removed] { removed.set_value(); });
  removed.get_future().wait();
  std::lock_guard lk(state_->counters_mu);
  state_->counters.erase(key);
}

void Gateway::SetEndpoints(const std::string& key, std::vector<Endpoint> ready) {
  State* st = state_.get();
  st->reactor->Post([st, key, ready = std::move(ready)] {
    auto it = st->fns.find(key);
    if (it == st->fns.end()) return;
    auto& fn = it->second;
    std::vector<std::shared_ptr<EndpointState>> next;
    for (const auto& ep : ready) {
      auto old = std::find_if(fn->endpoints.begin(), fn->endpoints.end(),
                              [&](const auto& e) { return e->ep == ep; });
      if (old != fn->endpoints.end()) {
        (*old)->failures = 0;
        next.push_back(*old);
      } else {
        auto e = std::make_shared<EndpointState>();
        e->ep = ep;
        next.push_back(std::move(e));
      }
    }
    for (const auto& e : fn->endpoints) {
      if (std::find(next.begin(), next.end(), e) == next.end()) st->pool->Forget(e->ep);
    }
    fn->endpoints = std::move(next);
    st->DrainQueue(fn);
  });
}

FunctionStats Gateway::Stats(const std::string& key) const {
  std::lock_guard lk(state_->counters_mu);
  FunctionStats s;
  auto it = state_->counters.find(key);
  if (it == state_->counters.end()) return s;
  const Counters& c = *it->second;
  s.in_flight = c.in_flight;
  s.queued = c.queued;
  s.requests = c.requests;
  s.errors = c.errors;
  s.cold_waits = c.cold_waits;
  for (size_t i = 0; i < s.latency.size(); ++i) s.latency[i] = c.latency[i];
  s.latency_sum_seconds = static_cast<double>(c.latency_sum_us) / 1e6;
  return s;
}

bool Gateway::Shutdown(std::chrono::milliseconds drain) {
  if (!stopped_.exchange(true)) {
    // Requests waiting for an instance would hold the drain (and then the
    // destructor) until their queue timeout: no instance comes now.
    State* st = state_.get();
    std::promise<void> answered;
    st->reactor->Post([st, &answered] {
      for (auto& [key, fn] : st->fns) {
        while (!fn->queue.empty()) {
          auto p = std::move(fn->queue.front());
          fn->queue.pop_front();
          if (p->queue_timer) st->reactor->CancelTimer(p->queue_timer);
          st->Answer(fn, *p, HttpResponse(503, "the server is shutting down\n"));
        }
        fn->counters->queued = 0;
      }
      answered.set_value();
    });
    answered.get_future().wait();
  }
  return server_->Shutdown(drain);
}

}  // namespace ofn::gateway

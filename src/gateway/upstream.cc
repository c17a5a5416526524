#include "gateway/upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "net/http_parser.h"

namespace ofn::gateway {

constexpr auto kSweepEvery = std::chrono::milliseconds(20);

struct UpstreamPool::Conn {
  Endpoint ep;
  int fd = -1;
  bool connecting = false;
  bool busy = false;      // a request is on it
  bool reused = false;    // it came from the idle pool
  bool got_bytes = false; // some of the answer arrived
  bool head = false;
  bool watch_out = true;  // EPOLLOUT is in its watch: while connecting or writing
  std::string out;  // the request; kept until answered for a retry
  size_t out_off = 0;
  std::string in;
  net::ResponseParser parser;
  Callback cb;
  std::chrono::steady_clock::time_point deadline;
};

UpstreamPool::UpstreamPool(net::Reactor& reactor, Options options) : reactor_(reactor), options_(options) {}

UpstreamPool::~UpstreamPool() {
  if (sweep_timer_) reactor_.CancelTimer(sweep_timer_);
  for (auto& [c, owned] : all_) {
    reactor_.Unwatch(c->fd);
    close(c->fd);
  }
}

void UpstreamPool::Abandon() {
  for (auto& [c, owned] : all_) close(c->fd);
  all_.clear();
  idle_.clear();
  busy_ = 0;
  sweep_timer_ = 0;
}

size_t UpstreamPool::idle_connections() const {
  size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

UpstreamPool::Conn* UpstreamPool::Connect(const Endpoint& ep, Status* error) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(ep.port));
  if (inet_pton(AF_INET, ep.host.c_str(), &addr.sin_addr) != 1) {
    *error = Status::InvalidArgument("endpoint host is not an IPv4 address: " + ep.host);
    return nullptr;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = Status::Unavailable(std::string("socket: ") + strerror(errno));
    return nullptr;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    *error = Status::Unavailable("connect " + ep.Key() + ": " + strerror(errno));
    close(fd);
    return nullptr;
  }
  auto owned = std::make_unique<Conn>();
  Conn* c = owned.get();
  c->ep = ep;
  c->fd = fd;
  c->connecting = rc != 0;
  c->parser = net::ResponseParser(options_.max_response_bytes);
  all_.emplace(c, std::move(owned));
  reactor_.Watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, [this, c](uint32_t ev) { OnEvents(c, ev); });
  return c;
}

void UpstreamPool::Send(const Endpoint& ep, std::string request, bool head,
                        std::chrono::steady_clock::time_point deadline, Callback cb) {
  Conn* c = nullptr;
  auto it = idle_.find(ep);
  if (it != idle_.end() && !it->second.empty()) {
    c = it->second.back();
    it->second.pop_back();
    c->reused = true;
  } else {
    Status error;
    c = Connect(ep, &error);
    if (!c) {
      UpstreamResult r;
      r.response = error;
      r.never_reached = true;
      r.request = std::move(request);
      cb(std::move(r));
      return;
    }
  }
  Dispatch(c, std::move(request), head, deadline, std::move(cb));
}

void UpstreamPool::Dispatch(Conn* c, std::string request, bool head, std::chrono::steady_clock::time_point deadline,
                            Callback cb) {
  c->busy = true;
  ++busy_;
  c->got_bytes = false;
  c->head = head;
  c->out = std::move(request);
  c->out_off = 0;
  c->in.clear();
  c->parser.Reset(head);
  c->cb = std::move(cb);
  c->deadline = deadline;
  if (!sweep_timer_) {
    sweep_timer_ = reactor_.AddTimer(std::chrono::steady_clock::now() + kSweepEvery, [this] { ExpireTimeouts(); });
  }
  // Write now; the answer comes with EPOLLIN (reading at once would only
  // find nothing yet).
  if (!c->connecting) OnEvents(c, 0);
}

void UpstreamPool::WatchWritable(Conn* c, bool on) {
  if (c->watch_out == on) return;
  c->watch_out = on;
  reactor_.Watch(c->fd, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u), [this, c](uint32_t ev) { OnEvents(c, ev); });
}

void UpstreamPool::ExpireTimeouts() {
  sweep_timer_ = 0;
  auto now = std::chrono::steady_clock::now();
  std::vector<Conn*> late;
  for (auto& [c, owned] : all_) {
    if (c->busy && c->deadline <= now) late.push_back(c);
  }
  for (Conn* c : late) {
    UpstreamResult r;
    r.response = Status::DeadlineExceeded("instance " + c->ep.Key() + " did not answer in time");
    r.never_reached = c->out_off == 0;
    Finish(c, std::move(r), false);
  }
  if (busy_ > 0) sweep_timer_ = reactor_.AddTimer(now + kSweepEvery, [this] { ExpireTimeouts(); });
}

void UpstreamPool::OnEvents(Conn* c, uint32_t events) {
  if (!c->busy) {
    // Writable edges are noise on an idle connection; anything readable means
    // the instance closed it (or sent junk): either way it is done.
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
    auto& v = idle_[c->ep];
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    Destroy(c);
    return;
  }
  if (c->connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      UpstreamResult r;
      r.response = Status::Unavailable("connect " + c->ep.Key() + ": " + strerror(err));
      r.never_reached = true;
      Finish(c, std::move(r), false);
      return;
    }
    c->connecting = false;
  }
  while (c->out_off < c->out.size()) {
    ssize_t n = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // A pooled connection the instance already closed: nothing was processed.
    UpstreamResult r;
    r.response = Status::Unavailable("write to " + c->ep.Key() + ": " + strerror(errno));
    r.never_reached = true;
    Finish(c, std::move(r), false);
    return;
  }
  // Writable edges are wanted only while something is left to write: each one
  // would otherwise cost a wake-up per request.
  WatchWritable(c, c->out_off < c->out.size());
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  bool eof = false;
  for (;;) {
    char buf[16384];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      c->in.append(buf, static_cast<size_t>(n));
      c->got_bytes = true;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
    break;
  }
  if (!c->got_bytes && !eof) return;
  if (eof && !c->got_bytes) {
    UpstreamResult r;
    r.response = Status::Unavailable("instance " + c->ep.Key() + " closed the connection without answering");
    // A stale pooled connection: the instance closed it while idle.
    r.never_reached = c->reused;
    Finish(c, std::move(r), false);
    return;
  }
  auto st = c->parser.Parse(c->in, eof);
  if (st == net::ResponseParser::State::kNeedMore) return;
  UpstreamResult r;
  if (st == net::ResponseParser::State::kError) {
    r.response = Status::Unavailable("bad answer from instance " + c->ep.Key() + ": " + c->parser.error());
    Finish(c, std::move(r), false);
    return;
  }
  UpstreamResponse resp;
  resp.status = c->parser.status();
  resp.headers = c->parser.headers();
  resp.body = std::move(c->parser.body());
  bool reusable = c->parser.keep_alive() && !eof && c->parser.consumed() == c->in.size();
  r.response = std::move(resp);
  Finish(c, std::move(r), reusable);
}

void UpstreamPool::Finish(Conn* c, UpstreamResult result, bool reusable) {
  Callback cb = std::move(c->cb);
  c->busy = false;
  --busy_;
  bool stale = !result.response.ok() && result.never_reached && c->reused;
  std::string request = std::move(c->out);
  Endpoint ep = c->ep;
  bool head = c->head;
  auto deadline = c->deadline;
  if (reusable && idle_[ep].size() < options_.max_idle_per_endpoint) {
    idle_[ep].push_back(c);
  } else {
    Destroy(c);
  }
  if (stale) {
    // Retry once on a fresh connection: drop idle ones to this endpoint, they
    // are probably stale too.
    Forget(ep);
    Status error;
    Conn* fresh = Connect(ep, &error);
    if (fresh) {
      Dispatch(fresh, std::move(request), head, deadline, std::move(cb));
      return;
    }
    result.response = error;
  }
  if (!result.response.ok()) result.request = std::move(request);
  cb(std::move(result));
}

void UpstreamPool::Forget(const Endpoint& ep) {
  auto it = idle_.find(ep);
  if (it == idle_.end()) return;
  std::vector<Conn*> conns = std::move(it->second);
  idle_.erase(it);
  for (Conn* c : conns) Destroy(c);
}

void UpstreamPool::Destroy(Conn* c) {
  if (c->busy) --busy_;
  reactor_.Unwatch(c->fd);
  close(c->fd);
  all_.erase(c);
}

}  // namespace ofn::gateway

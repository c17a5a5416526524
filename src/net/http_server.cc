#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.h"

namespace ofn::net {
namespace {

constexpr int kMaxEvents = 64;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxPendingOutput = 8 << 20;  // stop reading pipelined requests past this
constexpr auto kSpareIdle = std::chrono::seconds(10);
char kListenTag, kWakeTag;

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The Date header, formatted once per second per thread.
std::string_view DateHeader() {
  thread_local time_t cached_sec = 0;
  thread_local char buf[64];
  thread_local size_t len = 0;
  time_t now = time(nullptr);
  if (now != cached_sec) {
    cached_sec = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    len = strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
  }
  return {buf, len};
}

// A growable byte buffer with a consumed prefix, so parsing never copies.
class Buffer {
 public:
  std::string_view view() const { return {data_.get() + start_, end_ - start_}; }
  size_t size() const { return end_ - start_; }
  void consume(size_t n) {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  // Makes at least `want` bytes writable at the tail. Moving data keeps
  // offsets relative to start_ valid, which is what the parser relies on.
  void reserve_tail(size_t want) {
    if (cap_ - end_ >= want) return;
    size_t used = end_ - start_;
    if (start_ > 0 && cap_ - used >= want && start_ >= used) {
      std::memmove(data_.get(), data_.get() + start_, used);
    } else {
      size_t cap = std::max({cap_ * 2, used + want, kReadChunk});
      std::unique_ptr<char[]> d(new char[cap]);
      if (used) std::memcpy(d.get(), data_.get() + start_, used);
      data_ = std::move(d);
      cap_ = cap;
    }
    start_ = 0;
    end_ = used;
  }
  char* tail() { return data_.get() + end_; }
  size_t tail_room() const { return cap_ - end_; }
  void commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0, start_ = 0, end_ = 0;
};

// epoll's data.ptr points at one of these; `kind` (first member) says which.
enum : uint8_t { kKindConn = 1, kKindWatch = 2 };

struct Watch {
  uint8_t kind = kKindWatch;
  int fd = -1;
  bool alive = true;
  Reactor::FdCallback cb;
};

struct Conn {
  explicit Conn(int f, const ParseLimits& limits) : fd(f), parser(limits) {}
  uint8_t kind = kKindConn;
  int fd;
  Buffer in;
  std::string out;
  size_t out_off = 0;
  RequestParser parser;
  bool detached = false;  // loop side: a former owner thread is finishing a call on it
  bool want_write = false;
  bool close_after = false;
  bool peer_closed = false;
  bool broken = false;
  bool paused = false;
  bool sent_continue = false;
  bool awaiting = false;     // an async handler has not answered yet
  bool in_dispatch = false;  // inside the async handler call
  bool zombie = false;       // closed while awaiting; freed when answered
  int64_t last_active = 0;
  int64_t request_start = 0;
  int64_t write_stalled_since = 0;
  size_t pending() const { return out.size() - out_off; }
};

void SetEvents(int epfd, Conn* c, bool want_write) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  if (want_write) ev.events |= EPOLLOUT;
  ev.data.ptr = c;
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void AppendNumber(std::string& out, size_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void Serialize(std::string& out, const HttpResponse& resp, bool keep_alive, bool head, int minor) {
  int status = resp.status();
  if (status < 100 || status > 999) status = 500;
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<size_t>(status));
  out.push_back(' ');
  out += ReasonPhrase(status);
  out += "\r\n";
  out += DateHeader();
  for (const auto& [name, value] : resp.headers()) {
    // Framing is ours; CR/LF in a header would split the response.
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
        EqualsIgnoreCase(name, "connection") || name.empty() || HasCrLf(name) || HasCrLf(value)) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool bodiless = status < 200 || status == 204 || status == 304;
  if (!bodiless) {
    out += "Content-Length: ";
    AppendNumber(out, resp.body().size());
    out += "\r\n";
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!bodiless && !head) out += resp.body();
}

}  // namespace

struct Loop {
  int index = 0;
  int epfd = -1;
  int wakefd = -1;
  epoll_event events[kMaxEvents];
  int n = 0, pos = 0;
  // bit 0: a handler call is running; bit 1: the watchdog took the loop away
  // from that call's thread; bits 2..: call sequence number.
  std::atomic<uint64_t> call_word{0};
  uint64_t seq = 0;
  Conn* current = nullptr;
  std::atomic<pid_t> owner_tid{0};
  std::mutex posted_mu;
  std::deque<Conn*> posted;  // connections handed back by former owners
  std::deque<std::function<void()>> tasks;  // Reactor::Post, guarded by posted_mu
  std::unordered_set<Conn*> conns;
  int zombies = 0;
  std::unordered_map<int, std::unique_ptr<Watch>> watches;
  std::vector<std::unique_ptr<Watch>> dead_watches;  // freed after the current batch
  std::map<std::pair<Reactor::TimePoint, uint64_t>, std::function<void()>> timers;
  std::unordered_map<uint64_t, Reactor::TimePoint> timer_when;
  uint64_t next_timer = 1;
  std::unique_ptr<Reactor> reactor;
  int64_t last_sweep = 0;
  bool finished = false;  // guarded by Impl::mu_
};

// What a Responder points at.
struct PendingToken {
  HttpServer::Impl* impl;
  Loop* loop;
  Conn* conn;
};

class LoopReactor : public Reactor {
 public:
  explicit LoopReactor(Loop* L) : L_(L) {}

  void Watch(int fd, uint32_t events, FdCallback cb) override {
    auto& w = L_->watches[fd];
    epoll_event ev{};
    ev.events = events | EPOLLET;
    if (w) {
      w->cb = std::move(cb);
      ev.data.ptr = w.get();
      epoll_ctl(L_->epfd, EPOLL_CTL_MOD, fd, &ev);
      return;
    }
    w = std::make_unique<net::Watch>();
    w->fd = fd;
    w->cb = std::move(cb);
    ev.data.ptr = w.get();
    epoll_ctl(L_->epfd, EPOLL_CTL_ADD, fd, &ev);
  }

  void Unwatch(int fd) override {
    auto it = L_->watches.find(fd);
    if (it == L_->watches.end()) return;
    epoll_ctl(L_->epfd, EPOLL_CTL_DEL, fd, nullptr);
    it->second->alive = false;
    // Freed after the current batch: its callback may be running right now.
    L_->dead_watches.push_back(std::move(it->second));
    L_->watches.erase(it);
  }

  uint64_t AddTimer(TimePoint when, std::function<void()> cb) override {
    uint64_t id = L_->next_timer++;
    L_->timers.emplace(std::make_pair(when, id), std::move(cb));
    L_->timer_when.emplace(id, when);
    return id;
  }

  void CancelTimer(uint64_t id) override {
    auto it = L_->timer_when.find(id);
    if (it == L_->timer_when.end()) return;
    L_->timers.erase({it->second, id});
    L_->timer_when.erase(it);
  }

  void Post(std::function<void()> fn) override {
    {
      std::lock_guard lk(L_->posted_mu);
      L_->tasks.push_back(std::move(fn));
    }
    uint64_t one = 1;
    ssize_t r = write(L_->wakefd, &one, sizeof one);
    (void)r;
  }

  int index() const override { return L_->index; }

 private:
  Loop* L_;
};

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions o, Handler h) : opts_(std::move(o)), handler_(std::move(h)) {}
  Impl(HttpServerOptions o, AsyncHandler h) : opts_(std::move(o)), async_(std::move(h)) {}
  ~Impl();
  void Complete(Loop* L, Conn* c, HttpResponse resp);
  bool destroying() const { return destroying_; }

  Status Listen();
  Status Bind();
  Status BindUnix();
  void StartThreads();
  int port() const { return port_; }
  Reactor& reactor(int index) { return *loops_.at(index)->reactor; }
  int loop_count() const { return static_cast<int>(loops_.size()); }
  bool Shutdown(std::chrono::milliseconds drain);

 private:
  void ThreadMain(Loop* loop);
  bool RunLoop(Loop* L);
  bool HandleEvent(Loop* L, const epoll_event& ev);
  bool Serve(Loop* L, Conn* c);
  bool ProcessInput(Loop* L, Conn* c);
  bool Invoke(Loop* L, Conn* c, HttpResponse& resp);
  bool Flush(Loop* L, Conn* c);
  void TryWrite(Conn* c);
  void ReadAvailable(Conn* c);
  void Accept(Loop* L);
  void Close(Loop* L, Conn* c);
  void PostBack(Loop* L, Conn* c);
  bool DrainPosted(Loop* L);
  void Sweep(Loop* L, int64_t now);
  void WriteError(Conn* c, int status, std::string_view message);
  Loop* WaitForAdoption();
  void Replace(Loop* L);
  void WatchdogMain();
  void WakeWatchdog();

  void FinishRequest(Conn* c, const HttpResponse& resp);
  void RunTimersAndTasks(Loop* L);

  HttpServerOptions opts_;
  Handler handler_;
  AsyncHandler async_;
  bool destroying_ = false;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> force_close_{false};

  std::mutex mu_;  // threads, spares, loop completion
  std::condition_variable done_cv_;
  std::condition_variable spare_cv_;
  int live_threads_ = 0;
  int finished_loops_ = 0;
  int idle_spares_ = 0;
  std::deque<Loop*> adopt_;

  std::thread watchdog_;
  std::mutex wd_mu_;
  std::condition_variable wd_cv_;
  bool wd_stop_ = false;
  std::atomic<bool> wd_idle_{false};
};

Status HttpServer::Impl::Listen() {
  if (opts_.listen_fd >= 0) {
    int type = 0;
    socklen_t tlen = sizeof type;
    int listening = 0;
    socklen_t llen = sizeof listening;
    if (getsockopt(opts_.listen_fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM ||
        getsockopt(opts_.listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || !listening) {
      return Status::InvalidArgument("fd " + std::to_string(opts_.listen_fd) + " is not a listening TCP socket");
    }
    listen_fd_ = opts_.listen_fd;
    fcntl(listen_fd_, F_SETFL, fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
    fcntl(listen_fd_, F_SETFD, FD_CLOEXEC);
  } else if (!opts_.unix_path.empty()) {
    Status s = BindUnix();
    if (!s.ok()) return s;
  } else {
    Status s = Bind();
    if (!s.ok()) return s;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_UNIX) return Status::Ok();
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return Status::Ok();
}

Status HttpServer::Impl::BindUnix() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (opts_.unix_path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("socket path too long: " + opts_.unix_path);
  }
  std::memcpy(addr.sun_path, opts_.unix_path.c_str(), opts_.unix_path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(std::string("socket: ") + strerror(errno));
  unlink(opts_.unix_path.c_str());  // a socket file left by a server that died
  // Only the owner may connect: the socket is the API's only credential.
  mode_t old = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (rc != 0 || listen(fd, 128) != 0) {
    std::string err = strerror(errno);
    close(fd);
    return Status::Unavailable("cannot listen on " + opts_.unix_path + ": " + err);
  }
  listen_fd_ = fd;
  return Status::Ok();
}

Status HttpServer::Impl::Bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(opts_.port);
  int rc = getaddrinfo(opts_.host.empty() ? nullptr : opts_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::InvalidArgument("cannot resolve listen address " + opts_.host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) {
      listen_fd_ = fd;
      break;
    }
    last_error = strerror(errno);
    close(fd);
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0) {
    return Status::Unavailable("cannot listen on " + opts_.host + ":" + port + ": " + last_error);
  }
  return Status::Ok();
}

void HttpServer::Impl::StartThreads() {
  int loops = opts_.loops;
  if (loops <= 0) {
    cpu_set_t set;
    loops = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    if (loops < 1) loops = 1;
  }
  for (int i = 0; i < loops; ++i) {
    auto L = std::make_unique<Loop>();
    L->index = i;
    L->epfd = epoll_create1(EPOLL_CLOEXEC);
    L->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    L->reactor = std::make_unique<LoopReactor>(L.get());
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &kListenTag;
    epoll_ctl(L->epfd, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &kWakeTag;
    epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->wakefd, &ev);
    loops_.push_back(std::move(L));
  }
  {
    std::lock_guard lk(mu_);
    live_threads_ += loops;
  }
  for (auto& L : loops_) std::thread([this, l = L.get()] { ThreadMain(l); }).detach();
  if (!async_) watchdog_ = std::thread([this] { WatchdogMain(); });
}

void HttpServer::Impl::ThreadMain(Loop* loop) {
  while (loop) {
    bool finished = RunLoop(loop);
    loop = finished ? nullptr : WaitForAdoption();
  }
  std::lock_guard lk(mu_);
  --live_threads_;
  done_cv_.notify_all();
}

// Runs the loop until it finishes (true) or the watchdog hands it to another
// thread while this one is inside a handler (false).
bool HttpServer::Impl::RunLoop(Loop* L) {
  L->owner_tid.store(static_cast<pid_t>(syscall(SYS_gettid)), std::memory_order_relaxed);
  if (L->current) {
    // We adopted this loop: the previous owner is still serving `current`.
    L->current->detached = true;
    L->current = nullptr;
  }
  for (;;) {
    while (L->pos < L->n) {
      const epoll_event& ev = L->events[L->pos++];
      if (!HandleEvent(L, ev)) return false;
    }
    L->dead_watches.clear();
    if (!DrainPosted(L)) return false;
    RunTimersAndTasks(L);
    int64_t now = NowMs();
    bool stopping = stopping_.load(std::memory_order_relaxed);
    if (stopping || now - L->last_sweep >= 1000) Sweep(L, now);
    if (stopping && L->conns.empty() && L->zombies == 0) {
      std::lock_guard lk(mu_);
      L->finished = true;
      ++finished_loops_;
      done_cv_.notify_all();
      return true;
    }
    int timeout = stopping ? 20 : (L->conns.empty() ? -1 : 1000);
    if (!L->timers.empty()) {
      auto until = L->timers.begin()->first.first - std::chrono::steady_clock::now();
      // Round up so a timer never fires early.
      int ms = static_cast<int>(std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(until).count()));
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    L->n = epoll_wait(L->epfd, L->events, kMaxEvents, timeout);
    L->pos = 0;
    if (L->n < 0) L->n = 0;
  }
}

bool HttpServer::Impl::HandleEvent(Loop* L, const epoll_event& ev) {
  if (ev.data.ptr == &kListenTag) {
    Accept(L);
    return true;
  }
  if (ev.data.ptr == &kWakeTag) {
    uint64_t v;
    ssize_t r = read(L->wakefd, &v, sizeof v);
    (void)r;
    return true;
  }
  if (*static_cast<uint8_t*>(ev.data.ptr) == kKindWatch) {
    auto* w = static_cast<Watch*>(ev.data.ptr);
    if (w->alive) w->cb(ev.events);
    return true;
  }
  Conn* c = static_cast<Conn*>(ev.data.ptr);
  if (c->detached) return true;  // handed back with a fresh read later
  if (ev.events & EPOLLOUT) {
    if (!Flush(L, c)) return true;
    if (c->paused && c->pending() == 0) {
      c->paused = false;
      return ProcessInput(L, c);
    }
  }
  if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    // The FIN may come with the last data; a short read does not see it.
    if (ev.events & (EPOLLRDHUP | EPOLLHUP)) c->peer_closed = true;
    return Serve(L, c);
  }
  return true;
}

void HttpServer::Impl::ReadAvailable(Conn* c) {
  size_t cap = opts_.limits.max_header_bytes + opts_.limits.max_body_bytes + kReadChunk;
  for (;;) {
    if (c->in.size() > cap) return;  // the parser reports the limit
    c->in.reserve_tail(kReadChunk);
    size_t room = c->in.tail_room();
    ssize_t n = recv(c->fd, c->in.tail(), room, 0);
    if (n > 0) {
      c->in.commit(static_cast<size_t>(n));
      // A short read drained the socket; with edge triggering that is enough.
      if (static_cast<size_t>(n) < room) return;
      continue;
    }
    if (n == 0) {
      c->peer_closed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c->broken = true;
    return;
  }
}

bool HttpServer::Impl::Serve(Loop* L, Conn* c) {
  ReadAvailable(c);
  if (c->broken) {
    Close(L, c);
    return true;
  }
  c->last_active = NowMs();
  return ProcessInput(L, c);
}

bool HttpServer::Impl::ProcessInput(Loop* L, Conn* c) {
  while (!c->close_after && !c->awaiting) {
    if (c->pending() > kMaxPendingOutput) {
      c->paused = true;  // resumed when the client reads
      break;
    }
    RequestParser::State st = c->parser.Parse(c->in.view());
    if (st == RequestParser::State::kNeedMore) {
      if (c->parser.started() && c->request_start == 0) c->request_start = NowMs();
      if (c->parser.headers_done() && c->parser.expects_continue() && !c->sent_continue) {
        c->out += "HTTP/1.1 100 Continue\r\n\r\n";
        c->sent_continue = true;
      }
      if (c->peer_closed) c->close_after = true;  // half a request will never complete
      break;
    }
    if (st == RequestParser::State::kError) {
      WriteError(c, c->parser.error_status(), c->parser.error_message());
      break;
    }
    if (async_) {
      c->awaiting = true;
      c->in_dispatch = true;
      async_(c->parser.request(), *L->reactor, Responder(new PendingToken{this, L, c}));
      c->in_dispatch = false;
      continue;  // still awaiting: the loop condition stops; answered: next request
    }
    HttpResponse resp;
    bool owner = Invoke(L, c, resp);
    FinishRequest(c, resp);
    if (!owner) {
      TryWrite(c);
      PostBack(L, c);
      return false;
    }
  }
  if (c->peer_closed && c->in.size() == 0) c->close_after = true;
  Flush(L, c);
  return true;
}

void HttpServer::Impl::FinishRequest(Conn* c, const HttpResponse& resp) {
  bool keep = c->parser.keep_alive() && !stopping_.load(std::memory_order_relaxed);
  Serialize(c->out, resp, keep, c->parser.is_head(), c->parser.request().http_minor());
  c->in.consume(c->parser.consumed());
  c->parser.Reset();
  c->sent_continue = false;
  c->request_start = 0;
  if (!keep) c->close_after = true;
}

void HttpServer::Impl::Complete(Loop* L, Conn* c, HttpResponse resp) {
  if (!c->awaiting) return;
  c->awaiting = false;
  if (c->zombie) {
    --L->zombies;
    delete c;
    return;
  }
  FinishRequest(c, resp);
  // Answered inside the handler call: ProcessInput goes on by itself.
  if (!c->in_dispatch) ProcessInput(L, c);
}

void HttpServer::Impl::RunTimersAndTasks(Loop* L) {
  auto now = std::chrono::steady_clock::now();
  while (!L->timers.empty() && L->timers.begin()->first.first <= now) {
    auto node = L->timers.extract(L->timers.begin());
    L->timer_when.erase(node.key().second);
    node.mapped()();
  }
  for (;;) {
    std::function<void()> task;
    {
      std::lock_guard lk(L->posted_mu);
      if (L->tasks.empty()) break;
      task = std::move(L->tasks.front());
      L->tasks.pop_front();
    }
    task();
  }
}

bool HttpServer::Impl::Invoke(Loop* L, Conn* c, HttpResponse& resp) {
  L->current = c;
  uint64_t w = (++L->seq << 2) | 1;
  // seq_cst pairs with the watchdog's idle flag (a Dekker handshake).
  L->call_word.store(w, std::memory_order_seq_cst);
  if (wd_idle_.load(std::memory_order_seq_cst)) WakeWatchdog();
  try {
    handler_(c->parser.request(), resp);
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"error", e.what()}});
    resp = HttpResponse(500, "internal error\n");
  } catch (...) {
    log::Error("handler threw a non-exception");
    resp = HttpResponse(500, "internal error\n");
  }
  uint64_t expected = w;
  return L->call_word.compare_exchange_strong(expected, w & ~uint64_t{1}, std::memory_order_acq_rel);
}

void HttpServer::Impl::WriteError(Conn* c, int status, std::string_view message) {
  HttpResponse resp(status, std::string(message) + "\n");
  Serialize(c->out, resp, false, false, 1);
  c->close_after = true;
}

// Used by a thread that no longer owns the loop: no epoll changes here.
void HttpServer::Impl::TryWrite(Conn* c) {
  while (c->pending() > 0) {
    ssize_t n = send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

bool HttpServer::Impl::Flush(Loop* L, Conn* c) {
  while (c->pending() > 0) {
    ssize_t n = send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      c->write_stalled_since = 0;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->want_write) {
        SetEvents(L->epfd, c, true);
        c->want_write = true;
      }
      if (c->write_stalled_since == 0) c->write_stalled_since = NowMs();
      return true;
    }
    Close(L, c);
    return false;
  }
  c->out.clear();
  c->out_off = 0;
  c->write_stalled_since = 0;
  if (c->want_write) {
    SetEvents(L->epfd, c, false);
    c->want_write = false;
  }
  if (c->close_after) {
    Close(L, c);
    return false;
  }
  return true;
}

void HttpServer::Impl::Close(Loop* L, Conn* c) {
  epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->fd, nullptr);
  if (c->awaiting) {
    // Its Responder still points here: keep the object until it answers.
    close(c->fd);
    c->zombie = true;
    L->conns.erase(c);
    ++L->zombies;
    return;
  }
  // Half-close first and drop unread input, so the client reads our last
  // answer instead of a reset.
  shutdown(c->fd, SHUT_WR);
  char sink[4096];
  for (int i = 0; i < 16 && read(c->fd, sink, sizeof sink) > 0; ++i) {
  }
  close(c->fd);
  L->conns.erase(c);
  delete c;
}

void HttpServer::Impl::Accept(Loop* L) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  for (int i = 0; i < kMaxEvents; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) log::Warn("accept: out of file descriptors");
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto* c = new Conn(fd, opts_.limits);
    c->last_active = NowMs();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      delete c;
      continue;
    }
    L->conns.insert(c);
  }
}

void HttpServer::Impl::PostBack(Loop* L, Conn* c) {
  {
    std::lock_guard lk(L->posted_mu);
    L->posted.push_back(c);
  }
  uint64_t one = 1;
  ssize_t r = write(L->wakefd, &one, sizeof one);
  (void)r;
}

bool HttpServer::Impl::DrainPosted(Loop* L) {
  for (;;) {
    Conn* c;
    {
      std::lock_guard lk(L->posted_mu);
      if (L->posted.empty()) return true;
      c = L->posted.front();
      L->posted.pop_front();
    }
    c->detached = false;
    if (c->want_write) {
      // Our EPOLLOUT registration may have fired while it was away.
      if (!Flush(L, c)) continue;
    }
    if (!Serve(L, c)) return false;
  }
}

void HttpServer::Impl::Sweep(Loop* L, int64_t now) {
  L->last_sweep = now;
  bool stopping = stopping_.load(std::memory_order_relaxed);
  bool force = force_close_.load(std::memory_order_relaxed);
  std::vector<Conn*> all(L->conns.begin(), L->conns.end());
  for (Conn* c : all) {
    if (c->detached) {
      if (force) L->conns.erase(c);  // its thread still owns it; freed with the loop
      continue;
    }
    if (c->awaiting && !force) continue;  // in flight; the handler owns its timeout
    bool idle = !c->parser.started() && c->pending() == 0;
    if (stopping && c->pending() == 0) {
      // Draining waits for calls, not for clients: a request still arriving
      // is dropped, one already received (even if not yet read) is served.
      char byte;
      idle = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 || c->parser.started();
    }
    if (force || (stopping && idle)) {
      Close(L, c);
    } else if (c->write_stalled_since && now - c->write_stalled_since > opts_.write_timeout.count()) {
      Close(L, c);
    } else if (c->request_start && now - c->request_start > opts_.read_timeout.count()) {
      WriteError(c, 408, "request not received in time");
      Flush(L, c);
    } else if (idle && now - c->last_active > opts_.idle_timeout.count()) {
      Close(L, c);
    }
  }
}

Loop* HttpServer::Impl::WaitForAdoption() {
  std::unique_lock lk(mu_);
  ++idle_spares_;
  auto deadline = std::chrono::steady_clock::now() + kSpareIdle;
  for (;;) {
    if (!adopt_.empty()) {
      Loop* L = adopt_.front();
      adopt_.pop_front();
      return L;  // Replace() already counted us out of idle_spares_
    }
    if (stopping_ || spare_cv_.wait_until(lk, deadline) == std::cv_status::timeout) {
      if (!adopt_.empty()) continue;
      --idle_spares_;
      return nullptr;
    }
  }
}

void HttpServer::Impl::Replace(Loop* L) {
  std::unique_lock lk(mu_);
  if (idle_spares_ > 0) {
    --idle_spares_;
    adopt_.push_back(L);
    spare_cv_.notify_one();
    return;
  }
  ++live_threads_;
  lk.unlock();
  std::thread([this, L] { ThreadMain(L); }).detach();
}

void HttpServer::Impl::WakeWatchdog() {
  std::lock_guard lk(wd_mu_);
  if (wd_idle_.exchange(false)) wd_cv_.notify_one();
}

// True when the thread is sleeping or waiting on I/O (not running or runnable).
bool ThreadBlocked(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return true;
  buf[n] = 0;
  const char* paren = std::strrchr(buf, ')');  // the command name may hold spaces
  return !paren || paren[1] == 0 || paren[2] != 'R';
}

void HttpServer::Impl::WatchdogMain() {
  // A call is handed off when seen on two consecutive ticks while its thread
  // is blocked, or on kBusyTicks ticks while it computes: a computing thread
  // may merely be preempted, and handing it off would only add threads.
  constexpr int kBusyTicks = 20;
  const auto fast = opts_.stall_after, slow = opts_.stall_after * 5;
  std::vector<uint64_t> last(loops_.size(), 0);
  std::vector<int> sightings(loops_.size(), 0);
  int quiet_ticks = 0;
  std::unique_lock lk(wd_mu_);
  while (!wd_stop_) {
    wd_cv_.wait_for(lk, quiet_ticks == 0 ? fast : slow);
    if (wd_stop_) break;
    bool any_call = false;
    for (size_t i = 0; i < loops_.size(); ++i) {
      Loop* L = loops_[i].get();
      uint64_t w = L->call_word.load(std::memory_order_seq_cst);
      sightings[i] = (w & 1) && w == last[i] ? sightings[i] + 1 : 0;
      last[i] = w;
      if (!(w & 1) || (w & 2)) continue;
      any_call = true;
      if (sightings[i] == 0) continue;
      if (sightings[i] < kBusyTicks && !ThreadBlocked(L->owner_tid.load(std::memory_order_relaxed))) continue;
      if (L->call_word.compare_exchange_strong(w, w | 2)) {
        last[i] = w | 2;
        lk.unlock();
        Replace(L);
        lk.lock();
      }
    }
    quiet_ticks = any_call ? 0 : quiet_ticks + 1;
    if (quiet_ticks > 100 && !wd_stop_) {
      // Sleep until a loop enters a call; re-check after publishing the flag.
      wd_idle_.store(true, std::memory_order_seq_cst);
      bool busy = false;
      for (auto& L : loops_) busy |= (L->call_word.load(std::memory_order_seq_cst) & 1) != 0;
      if (!busy) wd_cv_.wait(lk, [&] { return wd_stop_ || !wd_idle_.load(); });
      wd_idle_.store(false);
      quiet_ticks = 0;
    }
  }
}

bool HttpServer::Impl::Shutdown(std::chrono::milliseconds drain) {
  if (!stopping_.exchange(true)) {
    for (auto& L : loops_) epoll_ctl(L->epfd, EPOLL_CTL_DEL, listen_fd_, nullptr);
  }
  for (auto& L : loops_) {
    uint64_t one = 1;
    ssize_t r = write(L->wakefd, &one, sizeof one);
    (void)r;
  }
  std::unique_lock lk(mu_);
  {
    std::lock_guard wl(wd_mu_);
    wd_cv_.notify_one();
  }
  spare_cv_.notify_all();
  bool all = done_cv_.wait_for(lk, drain, [&] { return finished_loops_ == static_cast<int>(loops_.size()); });
  if (!all) {
    force_close_ = true;
    for (auto& L : loops_) {
      uint64_t one = 1;
      ssize_t r = write(L->wakefd, &one, sizeof one);
      (void)r;
    }
  }
  return all;
}

HttpServer::Impl::~Impl() {
  destroying_ = true;
  if (!loops_.empty()) {
    Shutdown(std::chrono::milliseconds(0));
    std::unique_lock lk(mu_);
    // Handlers still running keep their threads; we wait for them to return.
    done_cv_.wait(lk, [&] { return live_threads_ == 0; });
  }
  if (watchdog_.joinable()) {
    {
      std::lock_guard lk(wd_mu_);
      wd_stop_ = true;
      wd_idle_ = false;
      wd_cv_.notify_all();
    }
    watchdog_.join();
  }
  for (auto& L : loops_) {
    // Callbacks may own Responders; with destroying_ set they answer nothing.
    L->timers.clear();
    L->tasks.clear();
    for (auto& [fd, w] : L->watches) epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, nullptr);
    L->watches.clear();
    L->dead_watches.clear();
    for (Conn* c : L->conns) {
      close(c->fd);
      delete c;
    }
    for (Conn* c : L->posted) {
      if (!L->conns.count(c)) {
        close(c->fd);
        delete c;
      }
    }
    close(L->epfd);
    close(L->wakefd);
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (!opts_.unix_path.empty()) unlink(opts_.unix_path.c_str());
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, Handler handler) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  Status s = impl->Listen();
  if (!s.ok()) return s;
  impl->StartThreads();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Result<std::unique_ptr<HttpServer>> HttpServer::StartAsync(HttpServerOptions options, AsyncHandler handler) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  Status s = impl->Listen();
  if (!s.ok()) return s;
  impl->StartThreads();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Responder::Responder(Responder&& other) noexcept : token_(std::exchange(other.token_, nullptr)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (token_) Send(HttpResponse(500, "internal error: request dropped\n"));
    token_ = std::exchange(other.token_, nullptr);
  }
  return *this;
}

Responder::~Responder() {
  if (token_) Send(HttpResponse(500, "internal error: request dropped\n"));
}

void Responder::Send(HttpResponse response) {
  auto* t = static_cast<PendingToken*>(std::exchange(token_, nullptr));
  if (!t) return;
  if (!t->impl->destroying()) t->impl->Complete(t->loop, t->conn, std::move(response));
  delete t;
}

int HttpServer::port() const { return impl_->port(); }
Reactor& HttpServer::reactor(int index) { return impl_->reactor(index); }
int HttpServer::loops() const { return impl_->loop_count(); }

bool HttpServer::Shutdown(std::chrono::milliseconds drain) { return impl_->Shutdown(drain); }

}  // namespace ofn::net

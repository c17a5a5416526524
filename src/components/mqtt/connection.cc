#include "components/mqtt/connection.h"

#include <mosquitto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace ofn::components::mqtt {
namespace {

using std::chrono::milliseconds;

// A paused consumer sends PINGREQ after one keepalive and gives the
// connection up after two (libmosquitto closes it when no PINGRESP was read),
// so a consumer busy for longer than that reconnects once it has room again.
constexpr int kKeepaliveSeconds = 60;
constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{5000};
constexpr milliseconds kMaxPollWait{1000};

std::string ErrorText(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// mosquitto_publish failed before queueing the message: it will never be sent.
bool Rejected(int rc) {
  return rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_NOMEM || rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_MALFORMED_UTF8 ||
         rc == MOSQ_ERR_OVERSIZE_PACKET || rc == MOSQ_ERR_QOS_NOT_SUPPORTED;
}

}  // namespace

Connection::Connection(ConnectionOptions options) : options_(std::move(options)) {
  InitLibraryOnce();
  mosq_ =
      mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(), options_.clean_session, this);
  if (mosq_ != nullptr) {
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (!options_.broker.username.empty()) {
      mosquitto_username_pw_set(mosq_, options_.broker.username.c_str(),
                                options_.broker.password.empty() ? nullptr : options_.broker.password.c_str());
    }
    mosquitto_connect_callback_set(mosq_, &Connection::OnConnect);
    mosquitto_disconnect_callback_set(mosq_, &Connection::OnDisconnect);
    mosquitto_subscribe_callback_set(mosq_, &Connection::OnSubscribe);
    mosquitto_publish_callback_set(mosq_, &Connection::OnPublish);
    mosquitto_message_callback_set(mosq_, &Connection::OnMessage);
  }
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Connection::~Connection() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string Connection::Describe() const {
  return options_.describe + " (client " + (options_.client_id.empty() ? "<generated>" : options_.client_id) + " at " +
         options_.broker.ToString() + ")";
}

Status Connection::Start(Clock::time_point deadline) {
  if (mosq_ == nullptr || wake_fd_ < 0) {
    return Status::Internal(Describe() + ": cannot create an MQTT client: " + std::strerror(errno));
  }
  for (const auto& filter : options_.filters) {
    if (mosquitto_sub_topic_check(filter.c_str()) != MOSQ_ERR_SUCCESS) {
      return Status::InvalidArgument(options_.describe + ": \"" + filter + "\" is not a valid MQTT topic filter");
    }
  }
  thread_ = std::thread(&Connection::Run, this);
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return established_ || !failure_.ok(); });
  if (established_) return Status::Ok();
  Status why = !failure_.ok()
                   ? failure_
                   : Status::Unavailable(
                         Describe() + ": cannot connect: " + (last_error_.empty() ? "no answer in time" : last_error_));
  stopping_ = true;
  lock.unlock();
  Wake();
  thread_.join();
  return why;
}

void Connection::Wake() {
  uint64_t one = 1;
  // Failure means the counter is already non-zero: the thread wakes anyway.
  (void)!::write(wake_fd_, &one, sizeof one);
}

Status Connection::Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                           Clock::time_point deadline) {
  if (mosquitto_pub_topic_check(topic.c_str()) != MOSQ_ERR_SUCCESS) {
    return Status::InvalidArgument(options_.describe + ": cannot publish to \"" + topic +
                                   "\": not a valid MQTT topic (empty, or with + or #)");
  }
  std::unique_lock lock(mu_);
  uint64_t id = next_id_++;
  outbox_.push_back(Outgoing{id, topic, payload, qos, retain});
  waiting_.insert(id);
  lock.unlock();
  Wake();
  lock.lock();
  cv_.wait_until(lock, deadline, [&] { return results_.count(id) > 0 || stopping_; });
  waiting_.erase(id);
  if (auto it = results_.find(id); it != results_.end()) {
    Status status = std::move(it->second);
    results_.erase(it);
    return status;
  }
  // Not sent yet: withdraw it, so that a caller told "failed" does not see it published later.
  std::erase_if(outbox_, [&](const Outgoing& o) { return o.id == id; });
  return Status::DeadlineExceeded(Describe() + ": the broker did not acknowledge the message to \"" + topic +
                                  "\" in time" + (last_error_.empty() ? "" : " (last error: " + last_error_ + ")"));
}

void Connection::Finish(uint64_t id, Status status) {
  std::lock_guard lock(mu_);
  if (waiting_.count(id) == 0) return;  // the caller gave up
  results_[id] = std::move(status);
  cv_.notify_all();
}

void Connection::Run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    // Ready runs on every turn: it also hands out what was read.
    bool room = options_.sink == nullptr || options_.sink->Ready();
    // Until the SUBACKs came, read regardless of room: a persistent session
    // gets its queued messages before them, and pausing there would hold
    // the SUBACK back behind messages that wait for the consumer (which
    // waits for Start). What is read meanwhile goes to the sink all the same.
    bool may_read = room || Handshaking();
    if (may_read) ignore_hangup_ = false;
    Clock::time_point now = Clock::now();
    // Connecting only makes sense when the session may be read: a CONNACK
    // comes with whatever the broker kept for a persistent session.
    if (mosquitto_socket(mosq_) < 0 && room && now >= next_attempt_) Connect(now);
    if (session_up_) SendOutbox();

    int sock = mosquitto_socket(mosq_);
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
    if (sock >= 0 && !ignore_hangup_) {
      fds[1].fd = sock;
      if (may_read) fds[1].events |= POLLIN;
      if (mosquitto_want_write(mosq_)) fds[1].events |= POLLOUT;
    }
    milliseconds wait = kMaxPollWait;
    if (sock < 0 && may_read) {
      wait = std::clamp(std::chrono::duration_cast<milliseconds>(next_attempt_ - now), milliseconds(0), wait);
    }
    ::poll(fds, 2, static_cast<int>(wait.count()));

    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    short events = fds[1].revents;
    if (fds[1].fd >= 0 && (events & (POLLIN | POLLHUP | POLLERR))) {
      // One packet per call (libmosquitto 2.0 reads one unless QoS 2
      // messages await PUBREL), so the sink is asked again before the next.
      if (may_read) {
        mosquitto_loop_read(mosq_, 1);
      } else if (events & (POLLHUP | POLLERR)) {
        ignore_hangup_ = true;  // poll would report it forever; read it when there is room
      }
    }
    if (mosquitto_socket(mosq_) >= 0 && (events & POLLOUT)) mosquitto_loop_write(mosq_, 1);
    if (mosquitto_socket(mosq_) >= 0) mosquitto_loop_misc(mosq_);
  }
  if (mosquitto_socket(mosq_) >= 0) {
    // A clean DISCONNECT: the broker keeps a persistent session (and
    // publishes no will) and redelivers what this client has not read.
    mosquitto_disconnect(mosq_);
    mosquitto_loop_write(mosq_, 1);
  }
}

bool Connection::Handshaking() const {
  return mosquitto_socket(mosq_) >= 0 && (!session_up_ || !pending_subacks_.empty());
}

void Connection::Connect(Clock::time_point now) {
  int rc = mosquitto_connect_async(mosq_, options_.broker.host.c_str(), options_.broker.port, kKeepaliveSeconds);
  if (rc == MOSQ_ERR_SUCCESS) return;  // CONNACK (or a socket error) follows
  std::string why = ErrorText(rc);
  log::Debug("mqtt: connect failed", {{"component", options_.describe}, {"error", why}});
  NoteFailure(why);
  backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  next_attempt_ = now + backoff_;
}

void Connection::SendOutbox() {
  std::deque<Outgoing> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(outbox_);
  }
  for (Outgoing& o : batch) {
    int mid = 0;
    int rc = mosquitto_publish(mosq_, &mid, o.topic.c_str(), static_cast<int>(o.payload.size()), o.payload.data(),
                               o.qos, o.retain);
    if (Rejected(rc)) {
      Finish(o.id,
             Status::InvalidArgument(options_.describe + ": cannot publish to \"" + o.topic + "\": " + ErrorText(rc)));
    } else if (o.qos == 0) {
      // Nothing comes back for QoS 0; on_publish may even have run inside mosquitto_publish.
      Finish(o.id, rc == MOSQ_ERR_SUCCESS ? Status::Ok()
                                          : Status::Unavailable(Describe() + ": publish failed: " + ErrorText(rc)));
    } else {
      // Queued in libmosquitto even if the write failed: it is resent after a reconnect.
      unacked_[mid] = o.id;
    }
  }
}

void Connection::NoteFailure(const std::string& why) {
  std::lock_guard lock(mu_);
  last_error_ = why;
  if (!established_ && failure_.ok()) {
    failure_ = Status::Unavailable(Describe() + ": cannot connect: " + why);
    cv_.notify_all();
  }
}

void Connection::OnDisconnected(int rc) {
  bool was_up = session_up_;
  session_up_ = false;
  pending_subacks_.clear();
  if (rc == MOSQ_ERR_SUCCESS) return;  // our own DISCONNECT
  std::string why = ErrorText(rc);
  NoteFailure(why);
  if (was_up) {
    log::Warn("mqtt: connection lost, reconnecting", {{"component", options_.describe}, {"error", why}});
  } else {
    log::Debug("mqtt: connect failed", {{"component", options_.describe}, {"error", why}});
  }
  backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  next_attempt_ = Clock::now() + backoff_;
}

void Connection::OnConnect(mosquitto*, void* self_ptr, int rc) {
  auto* self = static_cast<Connection*>(self_ptr);
  if (rc != 0) {
    // libmosquitto closes the socket after this callback; OnDisconnect schedules the retry.
    Status refused =
        Status::Unavailable(self->Describe() + ": the broker refused the connection: " + mosquitto_connack_string(rc));
    log::Warn("mqtt: connection refused",
              {{"component", self->options_.describe}, {"error", mosquitto_connack_string(rc)}});
    std::lock_guard lock(self->mu_);
    self->last_error_ = mosquitto_connack_string(rc);
    if (!self->established_ && self->failure_.ok()) self->failure_ = refused;
    self->cv_.notify_all();
    return;
  }
  self->session_up_ = true;
  if (self->backoff_.count() != 0) log::Info("mqtt: reconnected", {{"component", self->options_.describe}});
  self->backoff_ = milliseconds(0);
  for (const auto& filter : self->options_.filters) {
    int mid = 0;
    int sub_rc = mosquitto_subscribe(self->mosq_, &mid, filter.c_str(), self->options_.subscribe_qos);
    if (sub_rc != MOSQ_ERR_SUCCESS) {
      log::Warn("mqtt: subscribe failed", {{"component", self->options_.describe}, {"error", ErrorText(sub_rc)}});
      continue;  // the connection is failing; the next CONNACK tries again
    }
    self->pending_subacks_.insert(mid);
  }
  if (self->pending_subacks_.empty() && self->options_.filters.empty()) {
    std::lock_guard lock(self->mu_);
    self->established_ = true;
    self->cv_.notify_all();
  }
}

void Connection::OnDisconnect(mosquitto*, void* self_ptr, int rc) {
  static_cast<Connection*>(self_ptr)->OnDisconnected(rc);
}

void Connection::OnSubscribe(mosquitto*, void* self_ptr, int mid, int count, const int* granted) {
  auto* self = static_cast<Connection*>(self_ptr);
  if (self->pending_subacks_.erase(mid) == 0) return;
  bool refused = std::any_of(granted, granted + count, [](int qos) { return qos == 0x80; });
  std::lock_guard lock(self->mu_);
  if (refused) {
    std::string filters;
    for (const auto& f : self->options_.filters) filters += (filters.empty() ? "" : ", ") + f;
    Status status = Status::PermissionDenied(self->Describe() + ": the broker refused the subscription to " + filters);
    log::Error("mqtt: subscription refused", {{"component", self->options_.describe}, {"filters", filters}});
    if (!self->established_ && self->failure_.ok()) self->failure_ = status;
  } else if (self->pending_subacks_.empty()) {
    self->established_ = true;
  }
  self->cv_.notify_all();
}

void Connection::OnPublish(mosquitto*, void* self_ptr, int mid) {
  auto* self = static_cast<Connection*>(self_ptr);
  auto it = self->unacked_.find(mid);
  if (it == self->unacked_.end()) return;  // QoS 0, finished when sent
  uint64_t id = it->second;
  self->unacked_.erase(it);
  self->Finish(id, Status::Ok());
}

void Connection::OnMessage(mosquitto*, void* self_ptr, const mosquitto_message* message) {
  auto* self = static_cast<Connection*>(self_ptr);
  if (self->options_.sink == nullptr) return;
  Received r;
  r.topic = message->topic;
  if (message->payloadlen > 0) {
    r.payload.assign(static_cast<const char*>(message->payload), static_cast<size_t>(message->payloadlen));
  }
  r.retained = message->retain;
  self->options_.sink->Receive(std::move(r));
}

}  // namespace ofn::components::mqtt

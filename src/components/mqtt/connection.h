// Connection: one MQTT 3.1.1 client session (libmosquitto 2.0) run by a
// thread of its own, instead of mosquitto_loop_start, so that the thread can
// stop reading from the socket while the consumer is busy (see inbox.h for
// why that is the only flow control libmosquitto 2.0 allows). It never stops
// while a session is being set up (CONNACK or a SUBACK outstanding): a
// resumed persistent session gets its queued messages before the SUBACK, so
// pausing then would never see the SUBACK; those messages all reach the sink.
//
// The thread connects, re-subscribes `filters` after every CONNACK (a clean
// session forgets them, a persistent one gets them confirmed), reconnects
// after a lost connection with exponential backoff (100 ms .. 5 s), and is
// the only thread that ever touches the mosquitto handle: Publish hands its
// message over through a queue. A QoS 1/2 publish that was sent but not
// acknowledged when the connection dropped is kept by libmosquitto and sent
// again (DUP) after the reconnect, so Publish may wait across an outage.
//
// Thread-safety: Start, Publish and Wake from any thread; the sink is called
// on the connection's thread only. The destructor stops and joins the thread
// after a clean DISCONNECT (a persistent session keeps its subscriptions).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "components/mqtt/options.h"
#include "ofn/status.h"

struct mosquitto;
struct mosquitto_message;

namespace ofn::components::mqtt {

using Clock = std::chrono::steady_clock;

// A message as the broker delivered it.
struct Received {
  std::string topic;
  std::string payload;
  bool retained = false;
};

// Where a subscribing connection puts what it reads. Called on the
// connection's thread only, never with the connection's lock held.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void Receive(Received message) = 0;
  // Called on every turn of the loop (at least once a second and after each
  // Wake): hand out what may be handed out, and answer whether the
  // connection may read one more message from the socket (while a session
  // is being set up the answer is overridden: it reads on until the last
  // SUBACK).
  virtual bool Ready() = 0;
};

struct ConnectionOptions {
  std::string describe;  // "pubsub.mqtt3 component orders": names the component in logs and errors
  BrokerUrl broker;
  std::string client_id;  // empty: libmosquitto makes a random one (clean sessions only)
  bool clean_session = true;
  std::vector<std::string> filters;  // subscriptions, restored on every connect
  int subscribe_qos = 1;
  MessageSink* sink = nullptr;  // required with filters; must outlive the Connection
};

class Connection {
 public:
  explicit Connection(ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the thread and waits until the first session is up (CONNACK and
  // every SUBACK), failing with the first error (unreachable broker, refused
  // CONNECT or SUBSCRIBE) or at `deadline`; the thread is stopped then.
  // Once up, the connection retries on its own for as long as it lives.
  Status Start(Clock::time_point deadline);

  // Waits for the broker's PUBACK (QoS 1), PUBCOMP (QoS 2) or the write
  // (QoS 0), across reconnects, until `deadline`.
  Status Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                 Clock::time_point deadline);

  // Makes the thread run a turn now (the sink's Ready may have changed).
  void Wake();

 private:
  struct Outgoing {
    uint64_t id = 0;
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retain = false;
  };

  void Run();
  // A socket is open and its CONNACK or a SUBACK has not arrived yet.
  bool Handshaking() const;
  void Connect(Clock::time_point now);
  void SendOutbox();
  void Finish(uint64_t id, Status status);
  void OnDisconnected(int rc);
  // Records a transport error; before the first session it fails Start.
  void NoteFailure(const std::string& why);
  std::string Describe() const;  // "pubsub.mqtt3 component orders (client x at host:port)"

  static void OnConnect(mosquitto*, void* self, int rc);
  static void OnDisconnect(mosquitto*, void* self, int rc);
  static void OnSubscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void OnPublish(mosquitto*, void* self, int mid);
  static void OnMessage(mosquitto*, void* self, const mosquitto_message* message);

  const ConnectionOptions options_;
  mosquitto* mosq_ = nullptr;
  int wake_fd_ = -1;  // eventfd: Wake and Publish interrupt the thread's poll
  std::thread thread_;

  // Only the connection thread touches these.
  bool session_up_ = false;  // CONNACK accepted on the current socket
  std::set<int> pending_subacks_;
  std::map<int, uint64_t> unacked_;  // mid -> id of a QoS 1/2 publish sent, not yet acknowledged
  std::chrono::milliseconds backoff_{0};
  Clock::time_point next_attempt_{};
  bool ignore_hangup_ = false;  // a hung-up socket while paused: read it once unpaused

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool established_ = false;  // the first session is up
  Status failure_;            // why the first session could not be set up
  std::string last_error_;    // the latest transport error, for Start's timeout message
  std::deque<Outgoing> outbox_;
  std::set<uint64_t> waiting_;          // Publish calls still waiting
  std::map<uint64_t, Status> results_;  // finished publishes, taken by their callers
  uint64_t next_id_ = 1;
};

}  // namespace ofn::components::mqtt

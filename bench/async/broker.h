// One broker as the benchmark driver sees it, through the broker's own C
// client library (hiredis, libnats, libmosquitto): publishing events, and the
// "bare" subscriber that Ofn's delivery is compared with. Each bare
// subscriber reads in batches of up to BareBatch() and acknowledges what it
// read: by default 512, the read-ahead Ofn gives one instance (16 calls in
// flight, 32 events each), so both ask the broker for as much at a time;
// env BARE_BATCH changes it (16 was the default before bulk delivery).
//
// Not thread-safe: one Broker per thread.
#pragma once

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "event.h"

namespace bench {

inline int BareBatch() {
  const char* v = std::getenv("BARE_BATCH");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : 512;
}

class Broker {
 public:
  virtual ~Broker() = default;
  // The Dapr component that reaches this broker: its type and `metadata` items (YAML).
  virtual std::string ComponentType() const = 0;
  virtual std::string ComponentMetadata() const = 0;
  // Whether the throughput run may park its events at the broker while the
  // subscriber is away and then drain them. MQTT may not: Ofn's pubsub.mqtt3
  // consumer cannot resume a persistent session that holds more than its
  // read-ahead (it stops reading before the SUBACK arrives and gives up), so
  // there both subscribers stay connected and the events are published to
  // them as fast as the publisher goes.
  virtual bool ParksWhileAway() const { return true; }
  // Makes `topic` usable before anyone subscribes (JetStream: its stream).
  virtual bool Prepare(const std::string& topic) { return !topic.empty(); }
  // One event; returns once the broker has acknowledged it.
  virtual bool PublishOne(const std::string& topic, const std::string& event) = 0;
  // n events made by make(i), pipelined; returns once all are acknowledged.
  virtual bool PublishMany(const std::string& topic, int n, const std::function<std::string(int)>& make) = 0;
  // Whether the consumer `group` of `topic` exists at the broker yet (true
  // where the broker cannot tell).
  virtual bool ConsumerExists(const std::string& topic, const std::string& group) = 0;
  // The bare subscriber: reads `topic` as consumer `group` into `recorder`
  // and acknowledges; returns only on error.
  virtual void Subscribe(const std::string& topic, const std::string& group, Recorder& recorder) = 0;
};

// kind: redis (HOST:PORT), nats (nats://HOST:PORT), mqtt (HOST:PORT).
// Null (after a message on stderr) when the broker cannot be reached.
std::unique_ptr<Broker> ConnectRedis(const std::string& address);
std::unique_ptr<Broker> ConnectNats(const std::string& url);
std::unique_ptr<Broker> ConnectMqtt(const std::string& address);
std::unique_ptr<Broker> Connect(const std::string& kind, const std::string& address);

}  // namespace bench

// StreamDirectory: which JetStream stream holds a topic, remembered per topic.
//
// With `streamName` set, that stream must exist (NotFound otherwise, as in
// Dapr). Without it the stream is looked up by subject, as Dapr does; when no
// stream captures the subject, Ofn creates one (file storage, named after
// the topic with every byte outside [A-Za-z0-9_-] replaced by '_', with the
// topic as its only subject). Dapr requires the stream to exist; Ofn creates
// it so that the OpenFunction samples run on one machine without a separate
// `nats stream add` step.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "components/nats/connection.h"
#include "ofn/status.h"

namespace ofn::components::nats {

class StreamDirectory {
 public:
  explicit StreamDirectory(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

  // The stream's name; asks the server the first time for each topic.
  Result<std::string> Resolve(const std::string& topic);
  // Drops what Resolve remembered (the stream was deleted behind our back).
  void Forget(const std::string& topic);

 private:
  Result<std::string> CheckConfigured();
  Result<std::string> FindOrCreate(const std::string& topic);

  std::shared_ptr<Connection> connection_;
  std::mutex mu_;
  std::map<std::string, std::string> known_;  // topic -> stream
};

}  // namespace ofn::components::nats

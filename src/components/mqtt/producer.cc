#include "components/mqtt/producer.h"

namespace ofn::components::mqtt {

Status Producer::Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                         Clock::time_point deadline) {
  Connection* connection = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!connection_) {
      auto fresh = std::make_unique<Connection>(options_);
      Status started = fresh->Start(deadline);
      if (!started.ok()) return started;
      connection_ = std::move(fresh);
    }
    connection = connection_.get();
  }
  return connection->Publish(topic, payload, qos, retain, deadline);
}

}  // namespace ofn::components::mqtt

#include "server/builtin_components.h"

#include "components/cron_binding.h"
#include "components/http_binding.h"
#include "components/kafka/kafka.h"
#include "components/mqtt/mqtt.h"
#include "components/nats/nats.h"
#include "components/redis/redis.h"
#include "components/sqlite_pubsub.h"
#include "components/sqlite_state_store.h"

namespace ofn::server {

components::Registry BuiltinComponents() {
  components::Registry r;
  components::RegisterEmbeddedState(r);
  components::RegisterEmbeddedPubSub(r);
  components::RegisterCron(r);
  components::RegisterHttp(r);
  components::redis::Register(r);
  components::nats::Register(r);
  components::mqtt::Register(r);
  components::kafka::Register(r);
  return r;
}

}  // namespace ofn::server

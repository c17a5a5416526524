// CommandBinding: Dapr's bindings.redis output binding (dapr-fact-sheet
// §4.3). Every call names its Redis key in request metadata `key`:
//   create     SET key <data>, with EX <ttlInSeconds> when given (also `ttl`)
//   get        GET key, or GETDEL with metadata delete=true; the value is the
//              response data (empty when the key is missing)
//   delete     DEL key
//   increment  INCR key, then EXPIRE when a ttl is given
// Connects lazily, on the first call.
//
// Thread-safety: Invoke may be called from any thread; one mutex guards the
// single connection.
#pragma once

#include <mutex>
#include <string>

#include "components/binding.h"
#include "components/redis/connection.h"

namespace ofn::components::redis {

class CommandBinding final : public OutputBinding {
 public:
  CommandBinding(RedisOptions options, std::string component);

  std::vector<std::string> Operations() const override { return {"create", "get", "delete", "increment"}; }
  Result<std::optional<BindingResponse>> Invoke(const BindingRequest& request) override;

 private:
  Status Failed(const Status& s) const;

  const std::string component_;
  std::mutex mu_;
  Connection conn_;
};

}  // namespace ofn::components::redis

// Registry: Dapr component type names → backends.
//
// Each backend registers a factory under its Dapr type name(s) (aliases such
// as "bindings.mqtt" for "bindings.mqtt3" are registered as well). Create()
// turns a ComponentSpec into the sides that type has; a factory validates the
// metadata it needs and names the missing or bad key in its error.
//
// Thread-safety: fill it at start-up, then Create() from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "components/binding.h"
#include "components/component.h"
#include "components/pubsub.h"
#include "components/state_store.h"
#include "ofn/status.h"

namespace ofn::components {

// What a spec became; a side is null when the type (or its metadata, e.g.
// Kafka without `topics`) does not have it.
struct Component {
  std::shared_ptr<PubSub> pubsub;
  std::shared_ptr<InputBinding> input;
  std::shared_ptr<OutputBinding> output;
  std::shared_ptr<StateStore> state;
};

using Factory = std::function<Result<Component>(const ComponentSpec&)>;

class Registry {
 public:
  void Add(std::string type, Factory factory);
  // NotFound names the type and lists the known ones.
  Result<Component> Create(const ComponentSpec& spec) const;
  bool Knows(std::string_view type) const;
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, Factory, std::less<>> factories_;
};

}  // namespace ofn::components

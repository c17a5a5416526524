// The `ofn get` tables, one per kind, with kubectl's and OpenFunction's
// columns:
//   Function: NAME BUILDSTATE SERVINGSTATE BUILDER SERVING URL AGE
//             (-o wide adds REPLICAS READY)
//   Gateway:  NAME DOMAIN HOSTTEMPLATE PATHTEMPLATE AGE
//   EventSource: NAME EVENTBUS SINK STATUS AGE (-o wide adds EVENTS TOPICS)
//   Trigger:  NAME EVENTBUS STATUS AGE (-o wide adds INPUTS SUBSCRIBERS)
//   EventBus, ClusterEventBus: NAME BACKEND AGE
//   others:   NAME AGE
// NAMESPACE comes first with -A (empty for cluster-scoped objects). URL is the
// function's Internal address (the one `ofn invoke` calls), else its first.
// STATUS is the type of the last condition, as OpenFunction's printer column
// (.status.conditions[-1].type) reads it.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/age.h"

namespace ofn::cli {

struct TableOptions {
  bool all_namespaces = false;  // a NAMESPACE column
  bool wide = false;
  bool kind_prefix = false;     // names as "function.core.openfunction.io/hello" (several kinds printed)
};

// A table of objects that all have the same kind.
std::string RenderTable(const std::vector<nlohmann::json>& items, const TableOptions& options, SysTime now);

// The address a user calls: type "Internal" first, else the first one; "" if none.
std::string PreferredAddress(const nlohmann::json& obj);

}  // namespace ofn::cli

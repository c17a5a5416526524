#include "runtime/instance_state.h"

#include <cstring>

namespace ofn::runtime {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kStarting: return "Starting";
    case Phase::kReady: return "Ready";
    case Phase::kExited: return "Exited";
    case Phase::kFailed: return "Failed";
  }
  return "Unknown";
}

std::string ExitInfo::ToString() const {
  if (exited) return "exit code " + std::to_string(code);
  const char* name = ::strsignal(signal);
  return "signal " + std::to_string(signal) + (name ? std::string(" (") + name + ")" : "");
}

const char* LimitMechanismName(LimitMechanism m) {
  switch (m) {
    case LimitMechanism::kNone: return "none";
    case LimitMechanism::kCgroupV2: return "cgroup2";
    case LimitMechanism::kRlimit: return "rlimit";
    case LimitMechanism::kNotEnforced: return "not-enforced";
  }
  return "unknown";
}

std::string InstanceState::ToString() const {
  std::string s = PhaseName(phase);
  if (pid != 0) s += " pid=" + std::to_string(pid);
  if (port != 0) s += " port=" + std::to_string(port);
  if (restarts > 0) s += " restarts=" + std::to_string(restarts);
  if (restart_pending) s += " restart-in=" + std::to_string(restart_in.count()) + "ms";
  if (!reason.empty()) s += " (" + reason + ")";
  return s;
}

}  // namespace ofn::runtime

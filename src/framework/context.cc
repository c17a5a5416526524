#include "ofn/context.h"

namespace ofn {

Result<std::string> Context::Send(std::string_view output_name, std::string_view data) {
  if (fc_.outputs.empty()) return Status::FailedPrecondition("function has no outputs");
  auto it = fc_.outputs.find(std::string(output_name));
  if (it == fc_.outputs.end()) {
    return Status::NotFound("output \"" + std::string(output_name) + "\" not found in FUNC_CONTEXT");
  }
  if (sender_ == nullptr) return Status::FailedPrecondition("no output sender is configured");
  auto reply = sender_->Send(it->second, data);
  // The sender names the component; the user knows the output by its name.
  if (!reply.ok()) {
    return Status(reply.status().code(), "output \"" + std::string(output_name) + "\": " + reply.status().message());
  }
  return reply;
}

}  // namespace ofn

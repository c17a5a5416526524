#include "components/redis/command_binding.h"

#include "components/metadata.h"

namespace ofn::components::redis {

CommandBinding::CommandBinding(RedisOptions options, std::string component)
    : component_(std::move(component)), conn_(std::move(options)) {}

Status CommandBinding::Failed(const Status& s) const { return Status(s.code(), component_ + ": " + s.message()); }

Result<std::optional<BindingResponse>> CommandBinding::Invoke(const BindingRequest& request) {
  const Metadata metadata(Metadata::Map(request.metadata.begin(), request.metadata.end()));
  const std::string key = metadata.GetOr("key", "");
  if (key.empty()) return Failed(Status::InvalidArgument("metadata key is required"));
  const char* ttl_name = metadata.Has("ttlInSeconds") ? "ttlInSeconds" : "ttl";
  auto ttl = metadata.GetInt(ttl_name, 0);
  if (!ttl.ok()) return Failed(ttl.status());
  if (metadata.Has(ttl_name) && *ttl <= 0) {
    return Failed(
        Status::InvalidArgument(std::string("metadata ") + ttl_name + ": must be a positive number of seconds"));
  }

  std::vector<Args> commands;
  const std::string& op = request.operation;
  if (op == "create") {
    commands.push_back({"SET", key, request.data});
    if (*ttl > 0) commands.back().insert(commands.back().end(), {"EX", std::to_string(*ttl)});
  } else if (op == "get") {
    auto del = metadata.GetBool("delete", false);
    if (!del.ok()) return Failed(del.status());
    commands.push_back({*del ? "GETDEL" : "GET", key});
  } else if (op == "delete") {
    commands.push_back({"DEL", key});
  } else if (op == "increment") {
    commands.push_back({"INCR", key});
    if (*ttl > 0) commands.push_back({"EXPIRE", key, std::to_string(*ttl)});
  } else {
    return Failed(Status::InvalidArgument("unsupported operation \"" + op + "\" (create, get, delete, increment)"));
  }

  std::lock_guard lock(mu_);
  auto replies = conn_.Run(commands);
  if (!replies.ok()) return Failed(replies.status());
  for (const Reply& r : *replies) {
    if (IsErrorReply(r.get())) return Failed(UnexpectedReply(r.get(), commands.front()[0] + " " + key));
  }
  if (op != "get") return std::optional<BindingResponse>();
  BindingResponse response;
  response.data = ReplyText(replies->front().get());  // nil (missing key): empty
  return std::optional<BindingResponse>(std::move(response));
}

}  // namespace ofn::components::redis

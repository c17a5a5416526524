#include "components/nats/streams.h"

#include "common/log.h"

namespace ofn::components::nats {

Result<std::string> StreamDirectory::Resolve(const std::string& topic) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = known_.find(topic);
    if (it != known_.end()) return it->second;
  }
  auto stream = connection_->options().stream_name.empty() ? FindOrCreate(topic) : CheckConfigured();
  if (!stream.ok()) return stream;
  std::lock_guard<std::mutex> lock(mu_);
  known_[topic] = *stream;
  return stream;
}

void StreamDirectory::Forget(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mu_);
  known_.erase(topic);
}

Result<std::string> StreamDirectory::CheckConfigured() {
  const std::string& name = connection_->options().stream_name;
  jsStreamInfo* info = nullptr;
  natsStatus s = js_GetStreamInfo(&info, connection_->js(), name.c_str(), nullptr, nullptr);
  jsStreamInfo_Destroy(info);
  if (s == NATS_NOT_FOUND) {
    return Status::NotFound("metadata streamName: stream \"" + name +
                            "\" does not exist (create it, or leave streamName out to use the stream that "
                            "captures the topic)");
  }
  if (s != NATS_OK) return FromNats(s, "cannot look up stream \"" + name + "\"");
  return name;
}

Result<std::string> StreamDirectory::FindOrCreate(const std::string& topic) {
  jsOptions by_subject;
  jsOptions_Init(&by_subject);
  by_subject.Stream.Info.SubjectsFilter = topic.c_str();
  jsStreamNamesList* names = nullptr;
  natsStatus s = js_StreamNames(&names, connection_->js(), &by_subject, nullptr);
  if (s == NATS_OK && names != nullptr && names->Count > 0) {
    std::string found = names->List[0];
    jsStreamNamesList_Destroy(names);
    return found;
  }
  jsStreamNamesList_Destroy(names);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return FromNats(s, "cannot look up the stream of subject \"" + topic + "\"");
  }

  std::string name = SanitizeName(topic);
  const char* subjects[] = {topic.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  // Adding a stream that exists with the same configuration succeeds, so a
  // concurrent creator (another subscription, another process) is harmless.
  s = js_AddStream(nullptr, connection_->js(), &config, nullptr, nullptr);
  if (s != NATS_OK) {
    return FromNats(s, "no stream captures subject \"" + topic + "\" and creating stream \"" + name + "\" failed");
  }
  log::Info("pubsub.jetstream: created stream", {{"stream", name}, {"subject", topic}});
  return name;
}

}  // namespace ofn::components::nats

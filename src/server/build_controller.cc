#include "server/build_controller.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "build/registry_client.h"
#include "build/strategy.h"
#include "common/encoding.h"
#include "common/duration.h"
#include "common/log.h"

namespace ofn::server {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A string member of `obj`, or "" (with a problem noted when it is there but
// not a string).
std::string StringField(const Json& obj, const char* name, const std::string& path, std::vector<std::string>* errors) {
  if (!obj.is_object() || !obj.contains(name) || obj[name].is_null()) return "";
  if (!obj[name].is_string()) {
    errors->push_back(path + "." + name + ": must be a string");
    return "";
  }
  return obj[name].get<std::string>();
}

std::chrono::milliseconds Timeout(const std::string& text, const std::string& field, std::vector<std::string>* errors) {
  if (text.empty()) return std::chrono::milliseconds(0);
  auto d = ParseGoDuration(text);
  if (!d.ok() || d->count() <= 0) {
    errors->push_back(field + ": \"" + text + "\" is not a positive duration (like 10m or 90s)");
    return std::chrono::milliseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

std::string Reason(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return "InvalidBuild";
    case StatusCode::kNotFound: return "SourceNotFound";
    case StatusCode::kDeadlineExceeded: return "Timeout";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kUnimplemented: return "BuilderNotAvailable";
    default: return "BuildFailed";
  }
}

// "ns/name" -> "ns/name" as a relative path: both parts are DNS labels
// (validated on apply), so they cannot climb out of builds/.
std::string KeyPath(const std::string& key) {
  std::string out = key;
  for (const char* bad : {"..", "\\"}) {
    if (out.find(bad) != std::string::npos) return "_invalid_";
  }
  return out;
}

// The credentials for `registry` in a Docker config file (what `docker login`
// and `skopeo login` write): {"auths": {"HOST": {"auth": base64("user:pass")}}}
// or {"username", "password"} in place of "auth".
Result<build::Credentials> CredentialsFor(const std::string& path, const std::string& name,
                                          const std::string& registry) {
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound("imageCredentials " + name + ": no " + path +
                            " (a Docker config.json with \"auths\" for " + registry + ")");
  }
  std::stringstream text;
  text << in.rdbuf();
  Json config = Json::parse(text.str(), nullptr, false);
  const Json* entry = nullptr;
  if (config.is_object() && config.contains("auths") && config["auths"].is_object()) {
    for (const auto& [host, value] : config["auths"].items()) {
      std::string h = host;
      for (const char* scheme : {"http://", "https://"}) {
        if (h.rfind(scheme, 0) == 0) h = h.substr(std::strlen(scheme));
      }
      if (h == registry || h == registry + "/") entry = &value;
    }
  }
  if (!config.is_object()) return Status::InvalidArgument("imageCredentials " + name + ": " + path + " is not JSON");
  if (!entry || !entry->is_object()) {
    return Status::NotFound("imageCredentials " + name + ": " + path + " has no auths entry for " + registry);
  }
  build::Credentials c;
  if (entry->contains("auth") && (*entry)["auth"].is_string()) {
    auto decoded = enc::Base64Decode((*entry)["auth"].get<std::string>());
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Status::InvalidArgument("imageCredentials " + name + ": the auth of " + registry +
                                     " is not base64 of user:password");
    }
    c.username = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
  } else {
    c.username = entry->value("username", "");
    c.password = entry->value("password", "");
  }
  return c;
}

}  // namespace

bool NamesARegistry(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return false;
  std::string host = image.substr(0, slash);
  return host == "localhost" || host.find_first_of(".:") != std::string::npos;
}

Result<build::BuildRequest> BuildRequestFor(const api::Function& fn) {
  const Json& b = fn.build;
  if (!b.is_object()) return Status::InvalidArgument("spec.build: the function has no build section");
  std::vector<std::string> errors;
  build::BuildRequest r;
  const Json src = b.contains("srcRepo") ? b["srcRepo"] : Json();
  if (!src.is_object()) errors.push_back("spec.build.srcRepo: required");
  r.source.url = StringField(src, "url", "spec.build.srcRepo", &errors);
  if (src.is_object() && r.source.url.empty()) errors.push_back("spec.build.srcRepo.url: required");
  r.source.revision = StringField(src, "revision", "spec.build.srcRepo", &errors);
  r.source.source_sub_path = StringField(src, "sourceSubPath", "spec.build.srcRepo", &errors);
  r.builder = StringField(b, "builder", "spec.build", &errors);
  const Json sw = b.contains("shipwright") ? b["shipwright"] : Json();
  if (r.builder.empty() && sw.is_object() && sw.contains("strategy")) {
    r.builder = StringField(sw["strategy"], "name", "spec.build.shipwright.strategy", &errors);
  }
  if (b.contains("env") && !b["env"].is_null()) {
    if (!b["env"].is_object()) {
      errors.push_back("spec.build.env: must be a map of strings");
    } else {
      for (const auto& [k, v] : b["env"].items()) {
        if (!v.is_string()) {
          errors.push_back("spec.build.env." + k + ": must be a string");
          continue;
        }
        r.env[k] = v.get<std::string>();
      }
    }
  }
  r.timeout = Timeout(StringField(b, "timeout", "spec.build", &errors), "spec.build.timeout", &errors);
  if (r.timeout.count() == 0 && sw.is_object()) {
    r.timeout = Timeout(StringField(sw, "timeout", "spec.build.shipwright", &errors), "spec.build.shipwright.timeout",
                        &errors);
  }
  if (!r.builder.empty()) {
    if (auto s = build::StrategyForBuilder(r.builder); !s.ok()) {
      errors.push_back(std::string(b.contains("builder") ? "spec.build.builder" : "spec.build.shipwright.strategy.name") +
                       ": " + s.status().message());
    }
  }
  r.image = fn.image;
  if (r.image.empty()) errors.push_back("spec.image: required to name what the build makes");
  else if (!build::ValidTagName(r.image)) errors.push_back("spec.image: \"" + r.image + "\" is not a valid image name");
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
    return Status::InvalidArgument(all);
  }
  return r;
}

struct BuildController::Job {
  std::string key;
  int64_t generation = 0;
  build::BuildRequest request;   // for a pull: only the image
  bool pull = false;
  std::string image_credentials;  // spec.imageCredentials.name
  build::CancelToken cancel;
  bool running = false;
  bool ended = false;
};

Result<std::unique_ptr<BuildController>> BuildController::Create(BuildControllerOptions options, DoneFn done) {
  if (options.data_dir.empty()) return Status::InvalidArgument("build controller: no data dir");
  auto layout = build::OciLayout::Open(options.data_dir + "/images");
  if (!layout.ok()) return layout.status();
  std::error_code ec;
  fs::create_directories(options.data_dir + "/build-work", ec);
  if (ec) return Status::Internal("create " + options.data_dir + "/build-work: " + ec.message());
  options.parallel = std::max(1, options.parallel);
  return std::unique_ptr<BuildController>(new BuildController(
      std::move(options), std::move(done), std::make_unique<build::OciLayout>(std::move(*layout))));
}

BuildController::BuildController(BuildControllerOptions options, DoneFn done, std::unique_ptr<build::OciLayout> layout)
    : options_(std::move(options)), done_(std::move(done)), layout_(std::move(layout)) {
  for (int i = 0; i < options_.parallel; ++i) workers_.emplace_back([this] { Worker(); });
}

BuildController::~BuildController() { Shutdown(); }

void BuildController::Shutdown() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (auto& [key, job] : current_) job->cancel.Cancel();
  }
  cv_.notify_all();
  log_cv_.notify_all();
  std::lock_guard join(join_mu_);
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

std::string BuildController::LogPath(const std::string& key) const {
  return options_.data_dir + "/builds/" + KeyPath(key) + ".log";
}

Status BuildController::Start(const std::string& key, int64_t generation, const api::Function& fn) {
  auto request = BuildRequestFor(fn);
  if (!request.ok()) return request.status();
  auto job = std::make_shared<Job>();
  job->key = key;
  job->generation = generation;
  job->request = std::move(*request);
  job->image_credentials = fn.image_credentials;
  return Enqueue(std::move(job));
}

Status BuildController::StartPull(const std::string& key, int64_t generation, const std::string& image,
                                  const std::string& image_credentials) {
  if (!NamesARegistry(image)) return Status::InvalidArgument("spec.image: \"" + image + "\" names no registry");
  auto job = std::make_shared<Job>();
  job->key = key;
  job->generation = generation;
  job->pull = true;
  job->request.image = image;
  job->image_credentials = image_credentials;
  return Enqueue(std::move(job));
}

Status BuildController::Enqueue(std::shared_ptr<Job> job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return Status::Unavailable("the server is stopping");
    if (auto it = current_.find(job->key); it != current_.end()) it->second->cancel.Cancel();
    current_[job->key] = job;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return Status::Ok();
}

Status BuildController::Cancel(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = current_.find(key);
  if (it == current_.end() || it->second->ended) return Status::NotFound("no build of " + key + " is queued or running");
  it->second->cancel.Cancel();
  return Status::Ok();
}

bool BuildController::Busy(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = current_.find(key);
  return it != current_.end() && !it->second->ended;
}

void BuildController::Worker() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::shared_ptr<Job> job = std::move(queue_.front());
    queue_.pop_front();
    job->running = true;
    lk.unlock();
    Run(*job);
    lk.lock();
    job->ended = true;
    log_cv_.notify_all();
  }
}

BuildOutcome BuildController::Pull(const Job& job) {
  BuildOutcome out;
  out.pull = true;
  out.image = job.request.image;
  auto fail = [&](const Status& s) {
    out.state = "Failed";
    out.reason = "PullFailed";
    out.message = s.message();
    log::Warn("pull failed", {{"function", job.key}, {"image", out.image}, {"error", out.message}});
    return out;
  };
  auto ref = build::ParseReference(job.request.image);
  if (!ref.ok()) return fail(ref.status());
  auto creds = CredentialsOf(job, ref->registry);
  if (!creds.ok()) return fail(creds.status());
  auto pulled = build::Pull(*ref, *layout_, job.request.image, *creds);
  if (!pulled.ok()) return fail(pulled.status());
  out.state = "Succeeded";
  out.digest = pulled->manifest.digest.str();
  log::Info("image pulled", {{"function", job.key}, {"image", out.image}, {"digest", out.digest},
                             {"blobs", std::to_string(pulled->blobs_fetched)}});
  return out;
}

Result<build::Credentials> BuildController::CredentialsOf(const Job& job, const std::string& registry) const {
  if (job.image_credentials.empty()) return build::Credentials{};
  return CredentialsFor(options_.data_dir + "/credentials/" + job.image_credentials + ".json", job.image_credentials,
                        registry);
}

void BuildController::Run(Job& job) {
  if (job.pull) {
    BuildOutcome out = job.cancel.cancelled() ? BuildOutcome{.state = "Failed", .reason = "Cancelled", .pull = true}
                                              : Pull(job);
    bool superseded;
    {
      std::lock_guard lk(mu_);
      auto it = current_.find(job.key);
      superseded = it == current_.end() || it->second.get() != &job;
    }
    if (!superseded && done_) done_(job.key, job.generation, out);
    return;
  }
  const std::string log_path = LogPath(job.key);
  std::error_code ec;
  fs::create_directories(fs::path(log_path).parent_path(), ec);
  fs::rename(log_path, log_path + ".1", ec);  // the previous build's log stays readable beside it

  BuildOutcome out;
  out.image = job.request.image;
  if (job.cancel.cancelled()) {  // superseded or cancelled while queued: no log, no build
    out.state = "Failed";
    out.reason = "Cancelled";
    out.message = "build cancelled";
  } else {
    build::BuildRequest r = job.request;
    r.layout = layout_.get();
    r.sdk_prefix = options_.sdk_prefix;
    r.work_root = options_.data_dir + "/build-work";
    r.log_path = log_path;
    log::Info("build started", {{"function", job.key}, {"image", r.image}});
    auto result = build::Build(r, job.cancel);
    if (result.ok() && NamesARegistry(r.image)) {
      Status pushed = Push(job);
      if (!pushed.ok()) result = Status(pushed.code(), "push: " + pushed.message());
    }
    if (result.ok()) {
      out.state = "Succeeded";
      out.digest = result->manifest.digest.str();
      out.strategy = result->strategy;
      out.revision = result->revision;
      out.cached = result->cached;
      out.duration = result->duration;
      log::Info("build succeeded", {{"function", job.key}, {"image", out.image}, {"digest", out.digest},
                                    {"cached", out.cached ? "true" : "false"}});
    } else {
      out.state = "Failed";
      out.reason = result.status().message().rfind("push: ", 0) == 0 ? "PushFailed" : Reason(result.status().code());
      out.message = result.status().message();
      log::Warn("build failed", {{"function", job.key}, {"reason", out.reason}, {"error", out.message}});
    }
  }
  {
    std::lock_guard lk(mu_);
    auto it = current_.find(job.key);
    bool superseded = it == current_.end() || it->second.get() != &job;
    if (superseded && out.reason == "Cancelled") return;  // a newer build reports instead
  }
  if (done_) done_(job.key, job.generation, out);
}

Status BuildController::Push(const Job& job) {
  auto log = build::BuildLog::Open(LogPath(job.key));
  if (!log.ok()) return log.status();
  auto ref = build::ParseReference(job.request.image);
  if (!ref.ok()) return ref.status();
  auto creds = CredentialsOf(job, ref->registry);
  if (!creds.ok()) {
    (*log)->Line("failed: push: " + creds.status().message());
    return creds.status();
  }
  (*log)->Line("pushing to " + ref->ToString());
  build::PushOptions options;
  build::BuildLog* lines = log->get();
  options.log = [lines](std::string_view line) { lines->Line(line); };
  auto pushed = build::Push(*layout_, job.request.image, *ref, *creds, options);
  if (!pushed.ok()) {
    (*log)->Line("failed: push: " + pushed.status().message());
    return pushed.status();
  }
  (*log)->Line("pushed " + ref->ToString() + "@" + pushed->manifest_digest.str() + " (" +
               std::to_string(pushed->blobs_uploaded) + " blobs uploaded, " + std::to_string(pushed->blobs_skipped) +
               " already there)");
  return Status::Ok();
}

Result<BuildLogRead> BuildController::ReadLog(const std::string& key, uint64_t offset, std::chrono::milliseconds wait) {
  const std::string path = LogPath(key);
  const auto until = Clock::now() + wait;
  std::unique_lock lk(mu_);
  while (true) {
    auto it = current_.find(key);
    bool ended = it == current_.end() || it->second->ended;
    bool queued = it != current_.end() && !it->second->running;
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (!exists && it == current_.end()) return Status::NotFound("no build log for " + key + ": it was never built here");
    uint64_t size = exists && !queued ? static_cast<uint64_t>(st.st_size) : 0;
    if (offset > size) offset = 0;  // a new build's log replaced the one read so far
    if (size > offset || ended || Clock::now() >= until || stopping_) {
      BuildLogRead out;
      out.next_offset = offset;
      if (size > offset) {
        lk.unlock();
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Status::Internal("open " + path + ": " + std::strerror(errno));
        out.data.resize(std::min<uint64_t>(size - offset, 1u << 20));
        ssize_t n = ::pread(fd, out.data.data(), out.data.size(), static_cast<off_t>(offset));
        ::close(fd);
        out.data.resize(n > 0 ? static_cast<size_t>(n) : 0);
        out.next_offset = offset + out.data.size();
        lk.lock();
      }
      // Tools write the file directly: once the build has ended, its size is final.
      out.ended = ended && out.next_offset >= size;
      return out;
    }
    // Tools append to the file behind our back: look again shortly.
    log_cv_.wait_for(lk, std::chrono::milliseconds(100));
  }
}

}  // namespace ofn::server

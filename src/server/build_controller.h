// BuildController: runs the builds of Functions that have a spec.build, on
// the server, into the local image store.
//
// A build turns spec.build (srcRepo url/revision/sourceSubPath, builder or
// shipwright.strategy.name, env, timeout or shipwright.timeout) into a
// build::BuildRequest (BuildRequestFor: bad fields are named), and runs
// build::Build on a worker thread, at most `parallel` at once; the others
// wait in order. Starting a build for a function cancels the one it may
// already have (a newer generation supersedes it). When a build ends, `done`
// is called on the worker thread with what the status should say.
//
// StartPull fetches a function's image from the registry spec.image names
// into the store (registry_client.h), when it is served from an image that
// was neither built nor pulled yet.
//
// When spec.image names a registry (its first part has a '.' or ':', or is
// localhost), the built image is pushed there (plain HTTP, registry_client.h)
// with the credentials spec.imageCredentials names: a Docker config file
// (what `docker login` writes) at DATA_DIR/credentials/NAME.json. A failed
// push fails the build (reason PushFailed); the image stays in the store.
//
// Where things go under the data dir: images/ (the OCI layout every build
// writes into: same inputs, same digest; unchanged source is a cache hit),
// builds/NS/NAME.log (the log of the function's latest build; the previous
// one is kept as NAME.log.1), build-work/ (work dirs, removed after each
// build).
//
// Thread-safety: every method may be called from any thread; `done` must not
// call back into the controller synchronously with Start (it may Cancel).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/function.h"
#include "build/builder.h"
#include "build/oci_layout.h"
#include "build/registry_auth.h"
#include "ofn/status.h"

namespace ofn::server {

struct BuildControllerOptions {
  std::string data_dir;    // required
  std::string sdk_prefix;  // where Ofn's SDK is installed (C++ builds); empty: C++ builds fail saying so
  int parallel = 1;        // builds at once
};

// What a Function's status.build says.
struct BuildOutcome {
  std::string state;     // Building, Succeeded, Failed
  std::string reason;    // Failed: InvalidBuild, SourceNotFound, BuildFailed, Timeout, Cancelled, BuilderNotAvailable
  std::string message;
  std::string image;     // the tag written (spec.image)
  std::string digest;    // the image manifest's digest ("sha256:...")
  std::string strategy;
  std::string revision;  // the source commit, for git sources
  bool cached = false;
  std::chrono::milliseconds duration{0};
  bool pull = false;     // the outcome of StartPull (reason PullFailed), not of a build
};

struct BuildLogRead {
  std::string data;
  uint64_t next_offset = 0;
  bool ended = false;  // the build is over and everything it wrote has been read
};

// True when the image reference's first part names a registry host
// (Docker's rule: it has a '.' or ':', or is localhost).
bool NamesARegistry(const std::string& image);

// spec.build as a build request (without the layout and directories).
// InvalidArgument naming the field: "spec.build.timeout: ...".
Result<build::BuildRequest> BuildRequestFor(const api::Function& fn);

class BuildController {
 public:
  using DoneFn = std::function<void(const std::string& key, int64_t generation, const BuildOutcome&)>;

  // Opens the image store; errors when the data dir cannot be written.
  static Result<std::unique_ptr<BuildController>> Create(BuildControllerOptions options, DoneFn done);
  // Cancels every build and waits for the workers (Shutdown).
  ~BuildController();
  // Cancels every build, waits for the workers; later Starts are refused.
  // The other methods keep answering. Idempotent.
  void Shutdown();
  BuildController(const BuildController&) = delete;
  BuildController& operator=(const BuildController&) = delete;

  // Queues a build of `fn` (key "ns/name"); one already queued or running
  // for the key is cancelled. InvalidArgument (nothing queued) when spec.build
  // cannot be built as written.
  Status Start(const std::string& key, int64_t generation, const api::Function& fn);
  // Queues a pull of `image` (a registry reference) into the image store, for
  // a function served from an image that is not there, with the
  // credentials `image_credentials` names (as for a push).
  Status StartPull(const std::string& key, int64_t generation, const std::string& image,
                   const std::string& image_credentials);
  // Cancels the key's build; NotFound when none is queued or running.
  Status Cancel(const std::string& key);
  // The key's latest build log from `offset`; with `wait`, holds until there
  // is more, the build ends, or the wait passes. NotFound: never built here.
  Result<BuildLogRead> ReadLog(const std::string& key, uint64_t offset, std::chrono::milliseconds wait);
  // True while the key has a build queued or running.
  bool Busy(const std::string& key);

  build::OciLayout& layout() { return *layout_; }
  std::string LogPath(const std::string& key) const;

 private:
  struct Job;
  BuildController(BuildControllerOptions options, DoneFn done, std::unique_ptr<build::OciLayout> layout);
  // Queues the job, cancelling the one its key may have; the one place jobs enter.
  Status Enqueue(std::shared_ptr<Job> job);
  void Worker();
  void Run(Job& job);
  // Pushes the built image to the registry spec.image names, with the
  // credentials of spec.imageCredentials (DATA_DIR/credentials/NAME.json).
  Status Push(const Job& job);
  BuildOutcome Pull(const Job& job);
  // The credentials of spec.imageCredentials for `registry` (none: anonymous).
  Result<build::Credentials> CredentialsOf(const Job& job, const std::string& registry) const;

  BuildControllerOptions options_;
  DoneFn done_;
  std::unique_ptr<build::OciLayout> layout_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable log_cv_;  // a build ended
  bool stopping_ = false;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<std::string, std::shared_ptr<Job>> current_;  // key -> its queued or running build
  std::mutex join_mu_;  // Shutdown from two threads
  std::vector<std::thread> workers_;
};

}  // namespace ofn::server

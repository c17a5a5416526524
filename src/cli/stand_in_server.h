// StandInServer: a stand-in for `ofn server` in the CLI's tests — a real HTTP
// server on a Unix socket (as DATA_DIR/ofn.sock) or on 127.0.0.1:0, whose
// answers a test scripts with a handler returning canned JSON per
// docs/api.md. It also plays the function that `ofn invoke` calls. Every
// request is recorded. Not the real server: the lead's end-to-end tests cover
// that.
//
// Test-only (its implementation is stand_in_server_test.cc, compiled into the
// test binary). Requests are served one at a time on the server's own thread;
// handler and requests() may be used from the test thread (guarded by a mutex).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ofn::cli::testing {

struct StandInRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // the target before '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const;
  // A query parameter, percent-decoded.
  std::optional<std::string> query(std::string_view name) const;
};

struct StandInResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";

  static StandInResponse Json(int status, std::string body) { return {status, {}, std::move(body)}; }
};

class StandInServer {
 public:
  using Handler = std::function<StandInResponse(const StandInRequest&)>;

  // Listens on a Unix socket at `path` (created; removed on destruction).
  static std::unique_ptr<StandInServer> OnUnixSocket(const std::string& path, Handler handler);
  // Listens on 127.0.0.1 at a free port.
  static std::unique_ptr<StandInServer> OnTcp(Handler handler);
  ~StandInServer();

  int port() const { return port_; }
  std::vector<StandInRequest> requests() const;
  void set_handler(Handler h);

 private:
  StandInServer(int listen_fd, int port, std::string unix_path, Handler handler);
  void Loop();
  void Serve(int fd);

  int listen_fd_;
  int port_;
  std::string unix_path_;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mu_;
  Handler handler_;                       // GUARDED_BY(mu_)
  std::vector<StandInRequest> requests_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ofn::cli::testing

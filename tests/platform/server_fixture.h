// A real `ofn server` process for end-to-end tests: free ports, its data in a
// temporary directory, the control API over TCP with the token, and helpers
// to apply manifests, call functions through the gateway and wait for status.
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    if (gateway_port_ == 0) {
      gateway_port_ = FreePort();
      api_port_ = FreePort();
      dapr_port_ = FreePort();
    }
    ProcessOptions o;
    o.argv = {OFN_BIN, "server", "--data-dir", dir_.Sub("data"), "--gateway", "127.0.0.1:" + std::to_string(gateway_port_),
              "--api-addr", "127.0.0.1:" + std::to_string(api_port_), "--dapr-addr",
              "127.0.0.1:" + std::to_string(dapr_port_)};
    for (const auto& a : extra_args_) o.argv.push_back(a);
    o.output_file = dir_.Sub("server.log");
    auto p = Process::Start(o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    server_ = std::move(*p);
    ASSERT_TRUE(server_->WaitForPort(api_port_, After(std::chrono::seconds(10))).ok()) << server_->Output();
    ASSERT_TRUE(server_->WaitForPort(gateway_port_, After(std::chrono::seconds(10))).ok()) << server_->Output();
    auto token = ReadFile(dir_.Sub("data/token"));
    ASSERT_TRUE(token.has_value());
    token_ = token->substr(0, token->find('\n'));
  }

  void TearDown() override {
    if (server_ && server_->Running()) {
      (void)server_->Signal(SIGTERM);
      auto st = server_->Wait(After(std::chrono::seconds(20)));
      EXPECT_TRUE(st.has_value() && st->ok()) << (st ? st->ToString() : "still running") << "\n" << server_->Output();
    }
  }

  Result<RawResponse> Api(std::string method, std::string target, std::string body = "") {
    RawRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.Header("Authorization", "Bearer " + token_);
    return RoundTrip(api_port_, r, After(std::chrono::seconds(10)));
  }

  Result<RawResponse> Apply(const std::string& manifest, const std::string& query = "") {
    RawRequest r = Post("/v1/apply" + query, manifest, "application/yaml");
    r.Header("Authorization", "Bearer " + token_).Header("X-Ofn-Source", "test.yaml");
    return RoundTrip(api_port_, r, After(std::chrono::seconds(10)));
  }

  Result<RawResponse> Call(const std::string& path) { return RoundTrip(gateway_port_, Get(path), After(std::chrono::seconds(10))); }

  // Waits until the function's status satisfies pred.
  nlohmann::json WaitForStatus(const std::string& name, const std::function<bool(const nlohmann::json&)>& pred,
                               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    nlohmann::json last;
    for (auto d = After(timeout); std::chrono::steady_clock::now() < d;) {
      auto r = Api("GET", "/v1/objects/function/default/" + name);
      if (r.ok() && r->status == 200) {
        last = nlohmann::json::parse(r->body);
        // A status still being filled in has no "serving" yet: not a match.
        try {
          if (pred(last["status"])) return last;
        } catch (const nlohmann::json::exception&) {
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "status never matched; last: " << last.dump();
    return last;
  }

  // Runs the ofn CLI against this server; returns (exit code, stdout+stderr).
  static std::pair<int, std::string> RunOfn(const std::string& data_dir, std::vector<std::string> args,
                                            const TempDir& dir,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    static int n = 0;
    ProcessOptions o;
    o.argv = {OFN_BIN, "--data-dir", data_dir};
    for (auto& a : args) o.argv.push_back(a);
    o.output_file = dir.Sub("cli-" + std::to_string(++n) + ".log");
    auto p = Process::Start(o);
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return {-1, p.status().ToString()};
    auto st = (*p)->Wait(After(timeout));
    EXPECT_TRUE(st.has_value());
    return {st && st->exited ? st->code : -1, (*p)->Output()};
  }

  std::vector<std::string> extra_args_;  // more `ofn server` flags, set before SetUp
  TempDir dir_{"ofn-platform"};
  std::unique_ptr<Process> server_;
  int gateway_port_ = 0, api_port_ = 0, dapr_port_ = 0;
  std::string token_;
};

}  // namespace ofn::testing

// `ofn server` end to end: apply, serve from zero, status, metrics, restart
// after kill -9, bad manifests, the API token.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "platform/server_fixture.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::string HelloManifest(const std::string& name, const std::string& extra_annotations = "",
                          const std::string& extra_serving = "") {
  return "apiVersion: core.openfunction.io/v1beta2\n"
         "kind: Function\n"
         "metadata:\n"
         "  name: " + name + "\n"
         "  annotations:\n"
         "    ofn.io/readiness: socket\n" + extra_annotations +
         "spec:\n"
         "  version: v1.0.0\n"
         "  image: local/hello:latest\n"
         "  serving:\n" + extra_serving +
         "    triggers:\n"
         "      http:\n"
         "        port: 8080\n"
         "    template:\n"
         "      containers:\n"
         "        - name: function\n"
         "          command: [\"" OFN_HELLO "\"]\n";
}

using Platform = ServerTest;

TEST_F(Platform, ServesAnAppliedFunctionFromZeroAndReportsStatus) {
  auto applied = Apply(HelloManifest("hello"));
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->status, 200) << applied->body;
  auto results = Json::parse(applied->body)["results"];
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["action"], "created");

  auto r = Call("/default/hello/");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->Describe() << server_->Output();
  EXPECT_EQ(r->body, "Hello, World!\n");

  Json obj = WaitForStatus("hello", [](const Json& s) { return s["serving"]["readyReplicas"] == 1; });
  EXPECT_EQ(obj["status"]["serving"]["state"], "Running");
  bool internal = false;
  for (const auto& a : obj["status"]["addresses"]) {
    if (a["type"] == "Internal") {
      internal = true;
      EXPECT_EQ(a["value"], "http://127.0.0.1:" + std::to_string(gateway_port_) + "/default/hello/");
    }
  }
  EXPECT_TRUE(internal) << obj.dump();

  auto metrics = Api("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("ofn_cold_starts_total{namespace=\"default\",function=\"hello\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ofn_requests_total{namespace=\"default\",function=\"hello\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("ofn_request_duration_seconds_count{namespace=\"default\",function=\"hello\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("ofn_ready_replicas{namespace=\"default\",function=\"hello\"} 1"), std::string::npos);

  // Re-applying the same manifest changes nothing.
  auto again = Apply(HelloManifest("hello"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Json::parse(again->body)["results"][0]["action"], "unchanged");
}

TEST_F(Platform, BadManifestsAreRejectedWithFieldPathsAndChangeNothing) {
  ASSERT_EQ(Apply(HelloManifest("good"))->status, 200);
  std::string bad = HelloManifest("bad") + "    scaleOptions:\n      minReplicas: two\n";
  auto r = Apply(bad);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("test.yaml:"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("spec.serving.scaleOptions.minReplicas"), std::string::npos) << r->body;
  auto garbage = Apply("kind: [unclosed\n");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 400);
  auto missing = Api("GET", "/v1/objects/function/default/bad");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  auto good = Call("/default/good");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200) << "the running server is not disturbed";
}

TEST_F(Platform, ApplyIntoANamespace) {
  auto r = Apply(HelloManifest("spaced"), "?namespace=team");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["results"][0]["namespace"], "team");
  EXPECT_EQ(Api("GET", "/v1/objects/function/team/spaced")->status, 200);
  EXPECT_EQ(Call("/team/spaced")->status, 200);
  EXPECT_EQ(Call("/default/spaced")->status, 404);
}

TEST_F(Platform, ACrashLoopEndsInFailedWithTheReason) {
  std::string crashing = HelloManifest("crashy", "", "    scaleOptions:\n      minReplicas: 1\n");
  crashing.replace(crashing.find("\"" OFN_HELLO "\""), std::string("\"" OFN_HELLO "\"").size(),
                   "\"/bin/sh\", \"-c\", \"echo about to fail; exit 3\"");
  crashing.replace(crashing.find("ofn.io/readiness: socket"), 24, "ofn.io/readiness: tcp");
  ASSERT_EQ(Apply(crashing)->status, 200);
  Json obj = WaitForStatus("crashy", [](const Json& s) { return s["serving"]["state"] == "Failed"; });
  EXPECT_EQ(obj["status"]["serving"]["reason"], "CrashLoop");
  std::string message = obj["status"]["serving"]["message"];
  EXPECT_NE(message.find("exit code 3"), std::string::npos) << message;
  EXPECT_NE(message.find("about to fail"), std::string::npos) << "the log's last lines: " << message;
}

// Server CPU time (user + system) in seconds, from /proc.
double CpuSeconds(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat").value_or("");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST_F(Platform, AnInstanceThatCannotStartIsRetriedCalmlyAndSaysWhy) {
  std::string m = HelloManifest("unstartable");
  m.replace(m.find("\"" OFN_HELLO "\""), std::string("\"" OFN_HELLO "\"").size(), "\"/nonexistent/program\"");
  ASSERT_EQ(Apply(m)->status, 200);
  // A request waits for an instance that cannot start; the server retries, without spinning.
  std::thread caller([&] { (void)RoundTrip(gateway_port_, Get("/default/unstartable/"), After(5s)); });
  Json obj = WaitForStatus("unstartable", [](const Json& s) { return s["serving"]["state"] == "Failed"; });
  EXPECT_EQ(obj["status"]["serving"]["reason"], "StartFailed");
  EXPECT_NE(obj["status"]["serving"]["message"].get<std::string>().find("/nonexistent/program"), std::string::npos)
      << obj.dump(2);
  double before = CpuSeconds(server_->pid());
  std::this_thread::sleep_for(2s);  // measuring what the server does meanwhile: time is the point here
  double used = CpuSeconds(server_->pid()) - before;
  EXPECT_LT(used, 0.5) << "the server spun while a request waited for an instance that cannot start";
  caller.join();
}

TEST_F(Platform, OpenFunctionsGoSampleIsAcceptedAndItsBuildSaysWhyNot) {
  auto text = ReadFile(std::string(OFN_SPECS_DIR) + "/openfunction-config-samples/function-sample.yaml");
  ASSERT_TRUE(text.has_value());
  auto r = Apply(*text);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  std::string name = Json::parse(r->body)["results"][0]["name"];
  Json obj = WaitForStatus(name, [](const Json& s) { return s["build"]["state"] == "Failed"; });
  // Known before any clone: Ofn has no Go builder.
  EXPECT_EQ(obj["status"]["build"]["reason"], "InvalidBuild");
  EXPECT_NE(obj["status"]["build"]["message"].get<std::string>().find("unknown builder \"openfunction/builder-go"),
            std::string::npos)
      << obj.dump(2);
  obj = WaitForStatus(name, [](const Json& s) { return s["serving"]["state"] == "Skipped"; });
  EXPECT_EQ(obj["status"]["serving"]["reason"], "BuildFailed");
}

TEST_F(Platform, StateComponentIsServedThroughDaprsApiAndSurvivesARestart) {
  auto applied = Apply(
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: kv\nspec:\n  type: state.ofn\n"
      "  version: v1\n  metadata: []\n");
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->status, 200) << applied->body;
  auto saved = RoundTrip(dapr_port_, Post("/v1.0/state/kv", R"([{"key":"greeting","value":"hi"}])", "application/json"),
                         After(5s));
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->status, 204) << saved->Describe();
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  ASSERT_TRUE(server_->Wait(After(10s)).has_value());
  StartServer();
  auto got = RoundTrip(dapr_port_, Get("/v1.0/state/kv/greeting"), After(5s));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 200) << got->Describe();
  EXPECT_EQ(got->body, "\"hi\"");
  EXPECT_TRUE(got->Header("ETag").has_value());
  auto missing = RoundTrip(dapr_port_, Get("/v1.0/state/nope/x"), After(5s));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 400);
  EXPECT_NE(missing->body.find("ERR_STATE_STORE_NOT_FOUND"), std::string::npos);
}

TEST_F(Platform, CliVerbsWorkAgainstTheRealServer) {
  std::string data = dir_.Sub("data");
  std::string file = dir_.Sub("hello.yaml");
  ASSERT_TRUE(WriteFile(file, HelloManifest("cli")).ok());
  auto [applied, apply_out] = RunOfn(data, {"apply", "-f", file}, dir_);
  EXPECT_EQ(applied, 0) << apply_out;
  EXPECT_NE(apply_out.find("function.core.openfunction.io/cli created"), std::string::npos) << apply_out;
  auto [invoked, invoke_out] = RunOfn(data, {"invoke", "cli"}, dir_);
  EXPECT_EQ(invoked, 0) << invoke_out;
  EXPECT_NE(invoke_out.find("Hello, World!"), std::string::npos) << invoke_out;
  auto [got, get_out] = RunOfn(data, {"get", "fn", "-o", "wide"}, dir_);
  EXPECT_EQ(got, 0) << get_out;
  EXPECT_NE(get_out.find("cli"), std::string::npos);
  EXPECT_NE(get_out.find("Running"), std::string::npos) << get_out;
  auto [yaml, yaml_out] = RunOfn(data, {"get", "fn", "cli", "-o", "yaml"}, dir_);
  EXPECT_EQ(yaml, 0);
  EXPECT_NE(yaml_out.find("kind: Function"), std::string::npos) << yaml_out;
  auto [logs, logs_out] = RunOfn(data, {"logs", "cli"}, dir_);
  EXPECT_EQ(logs, 0) << logs_out;
  EXPECT_NE(logs_out.find("serving"), std::string::npos) << "the instance's own log line: " << logs_out;
  auto [deleted, delete_out] = RunOfn(data, {"delete", "fn", "cli"}, dir_);
  EXPECT_EQ(deleted, 0) << delete_out;
  auto [missing, missing_out] = RunOfn(data, {"get", "fn", "cli"}, dir_);
  EXPECT_EQ(missing, 1);
  EXPECT_NE(missing_out.find("NotFound"), std::string::npos) << missing_out;
  auto [bad, bad_out] = RunOfn(data, {"get", "--output", "xml"}, dir_);
  EXPECT_EQ(bad, 2) << bad_out;
  auto [down, down_out] = RunOfn(dir_.Sub("nowhere"), {"get", "fn"}, dir_);
  EXPECT_EQ(down, 3);
  EXPECT_NE(down_out.find("ofn server --data-dir"), std::string::npos) << down_out;
}

TEST_F(Platform, DryRunValidatesWithoutStoring) {
  auto r = Apply(HelloManifest("dry"), "?dryRun=true");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["results"][0]["action"], "validated");
  EXPECT_EQ(Api("GET", "/v1/objects/function/default/dry")->status, 404);
}

TEST_F(Platform, TcpApiNeedsTheToken) {
  RawRequest r = Get("/v1/objects");
  auto denied = RoundTrip(api_port_, r, After(5s));
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 401);
  r.Header("Authorization", "Bearer wrong");
  EXPECT_EQ(RoundTrip(api_port_, r, After(5s))->status, 401);
  EXPECT_EQ(Api("GET", "/v1/objects")->status, 200);
}

TEST_F(Platform, ServesEverythingAgainAfterKill9) {
  ASSERT_EQ(Apply(HelloManifest("survivor"))->status, 200);
  ASSERT_EQ(Call("/default/survivor")->status, 200);
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  ASSERT_TRUE(server_->Wait(After(10s)).has_value());
  StartServer();
  auto r = Call("/default/survivor");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->body, "Hello, World!\n");
}

TEST_F(Platform, DeletedFunctionIsNoLongerRouted) {
  ASSERT_EQ(Apply(HelloManifest("gone"))->status, 200);
  ASSERT_EQ(Call("/default/gone")->status, 200);
  auto del = Api("DELETE", "/v1/objects/function/default/gone");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 200);
  // When the API answers, the route is gone.
  EXPECT_EQ(Call("/default/gone")->status, 404);
}

// The pids of the server's children running `binary`.
std::vector<pid_t> ChildrenRunning(pid_t parent, const std::string& binary) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = ReadFile(entry.path().string() + "/stat");
    if (!stat) continue;
    size_t close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat->substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink(entry.path() / "exe", ec);
    if (ppid == parent && !ec && exe == binary) out.push_back(std::stoi(name));
  }
  return out;
}

TEST_F(Platform, KillingOneOfTwoInstancesUnderLoadLosesOnlyWhatItHeld) {
  ASSERT_EQ(Apply(HelloManifest("pair", "", "    scaleOptions:\n      minReplicas: 2\n"))->status, 200);
  ASSERT_EQ(Call("/default/pair")->status, 200);
  WaitForStatus("pair", [](const Json& s) { return s["serving"]["readyReplicas"] == 2; });
  std::vector<pid_t> instances;
  for (auto d = After(5s); instances.size() < 2 && std::chrono::steady_clock::now() < d;) {
    instances = ChildrenRunning(server_->pid(), OFN_HELLO);
  }
  ASSERT_EQ(instances.size(), 2u);

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      auto conn = RawConnection::Connect(gateway_port_, After(5s));
      if (!conn.ok()) return;
      while (!stop) {
        if (!conn->Send(Get("/default/pair/").Serialize(), After(5s)).ok()) break;
        auto r = conn->ReadResponse(After(5s));
        if (!r.ok()) break;
        (r->status == 200 ? ok : failed)++;
      }
    });
  }
  for (auto d = After(5s); ok < 200 && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  ASSERT_EQ(kill(instances[0], SIGKILL), 0);
  int before = ok;
  for (auto d = After(5s); ok < before + 2000 && std::chrono::steady_clock::now() < d;) std::this_thread::yield();
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), before + 2000) << "the other instance kept serving";
  // Only a request the killed instance had already received can fail: at
  // most one per client connection.
  EXPECT_LE(failed.load(), kClients);
}

TEST_F(Platform, MalformedManifestCorpusNeverDisturbsTheServer) {
  ASSERT_EQ(Apply(HelloManifest("steady"))->status, 200);
  ASSERT_EQ(Call("/default/steady")->status, 200);
  int rejected = 0, accepted = 0, files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(OFN_SPECS_DIR)) {
    if (entry.path().extension() != ".yaml" || entry.path().string().find("crds") != std::string::npos) continue;
    auto text = ReadFile(entry.path());
    ASSERT_TRUE(text.has_value());
    ++files;
    std::vector<std::string> lines;
    std::istringstream in(*text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    // Each variant drops one line or breaks its indentation.
    for (size_t i = 0; i < lines.size(); i += 3) {
      for (int mode = 0; mode < 2; ++mode) {
        std::string variant;
        for (size_t j = 0; j < lines.size(); ++j) {
          if (j == i && mode == 0) continue;
          variant += (j == i ? "\t" : "") + lines[j] + "\n";
        }
        auto r = Apply(variant, "?dryRun=true");
        ASSERT_TRUE(r.ok()) << "the server stopped answering";
        ASSERT_TRUE(r->status == 200 || r->status == 400) << r->Describe();
        if (r->status == 400) {
          ++rejected;
          auto body = Json::parse(r->body);
          ASSERT_TRUE(body.contains("error")) << r->body;
        } else {
          ++accepted;
        }
      }
    }
  }
  EXPECT_GT(files, 30) << "the samples in " << OFN_SPECS_DIR;
  EXPECT_GT(rejected, 100);
  auto r = Call("/default/steady");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(server_->Running());
}

TEST_F(Platform, IdleFunctionScalesBackToZero) {
  ASSERT_EQ(Apply(HelloManifest("idle", "    autoscaling.knative.dev/window: 6s\n"))->status, 200);
  ASSERT_EQ(Call("/default/idle")->status, 200);
  WaitForStatus("idle", [](const Json& s) { return s["serving"]["readyReplicas"] == 1; });
  // A 6 s window here and Ofn's 5 s grace period: the KPA (tested exactly on a
  // fake clock in src/autoscaler) takes about 17 s; 25 s leaves room for a busy machine.
  Json last;
  bool zero = false;
  for (auto d = After(25s); !zero && std::chrono::steady_clock::now() < d;) {
    auto r = Api("GET", "/v1/objects/function/default/idle");
    last = Json::parse(r->body);
    zero = last["status"]["serving"]["readyReplicas"] == 0 && last["status"]["serving"]["replicas"] == 0;
    if (!zero) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(zero) << last.dump();
  // And it comes back on the next request.
  EXPECT_EQ(Call("/default/idle")->status, 200);
}

}  // namespace
}  // namespace ofn::testing

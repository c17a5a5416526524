// The verbs end to end against StandInServer, a stand-in for `ofn server`
// answering canned JSON per docs/api.md over a real Unix socket (and TCP).
#include "cli/cli.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/age.h"
#include "cli/stand_in_server.h"
#include "support/process.h"

namespace ofn::cli {
namespace {

using testing::StandInRequest;
using testing::StandInResponse;
using testing::StandInServer;

constexpr const char* kCreated = "2026-11-26T14:00:00Z";

std::string FunctionJson(const std::string& name, const std::string& ns = "default",
                         const std::string& internal = "http://127.0.0.1:8080/default/hello") {
  return R"({"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function",
    "metadata": {"name": ")" + name + R"(", "namespace": ")" + ns + R"(", "uid": "u1", "generation": 1,
                 "resourceVersion": "7", "creationTimestamp": ")" + kCreated + R"(", "labels": {}, "annotations": {}},
    "spec": {"version": "v2.0.0", "image": "hello:latest", "serving": {"triggers": {"http": {"port": 8080}}}},
    "status": {"serving": {"state": "Running", "reason": "", "message": "", "resourceRef": "default-hello",
                           "service": "hello", "replicas": 1, "readyReplicas": 1},
               "build": {"state": "Skipped", "reason": "NoBuild"},
               "addresses": [{"type": "External", "value": "http://hello.default.ofn.local:8080/"},
                             {"type": "Internal", "value": ")" + internal + R"("}],
               "observedGeneration": 1}})";
}

std::string GatewayJson() {
  return R"({"apiVersion": "networking.openfunction.io/v1alpha1", "kind": "Gateway",
    "metadata": {"name": "openfunction", "namespace": "default", "creationTimestamp": ")" + std::string(kCreated) +
         R"("},
    "spec": {"domain": "ofn.local", "hostTemplate": "{{.Name}}.{{.Namespace}}.{{.Domain}}",
             "pathTemplate": "{{.Namespace}}/{{.Name}}"}})";
}

std::string EventsObjectsJson() {
  const std::string created = kCreated;
  return R"({"items": [
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventSource",
     "metadata": {"name": "hooks", "namespace": "default", "creationTimestamp": ")" + created + R"("},
     "spec": {"eventBus": "default", "sink": {"ref": {"apiVersion": "core.openfunction.io/v1beta2",
                                                      "kind": "Function", "name": "sink", "namespace": "default"}},
              "kafka": {"sample-one": {"topic": "t"}}, "webhook": {"push": {"path": "/push"}}},
     "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "EventSourceIsReady"}],
                "bus": "default", "topics": ["default-hooks-sample-one", "default-hooks-push"]}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventSource",
     "metadata": {"name": "ticks", "namespace": "default", "creationTimestamp": ")" + created + R"("},
     "spec": {"sink": {"uri": "http://127.0.0.1:8080/default/sink/"}, "cron": {"every": {"schedule": "@every 1s"}}},
     "status": {"conditions": [{"type": "Error", "status": "False", "reason": "ErrorCreatingEventSource"}]}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "Trigger",
     "metadata": {"name": "alerts", "namespace": "default", "creationTimestamp": ")" + created + R"("},
     "spec": {"eventBus": "default", "inputs": {"hook": {"eventSource": "hooks", "event": "push"},
                                                "tick": {"eventSource": "ticks", "event": "every"}},
              "subscribers": [{"condition": "hook", "sink": {"uri": "http://x/"}},
                              {"condition": "tick", "topic": "ticks"}]},
     "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "TriggerIsReady"}]}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventBus",
     "metadata": {"name": "default", "namespace": "default", "creationTimestamp": ")" + created + R"("}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventBus",
     "metadata": {"name": "nats", "namespace": "default", "creationTimestamp": ")" + created + R"("},
     "spec": {"natsStreaming": {"natsURL": "nats://127.0.0.1:4222"}}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventBus",
     "metadata": {"name": "redis", "namespace": "default", "creationTimestamp": ")" + created + R"("},
     "spec": {"pubsub": {"type": "pubsub.redis", "metadata": [{"name": "redisHost", "value": "127.0.0.1:6379"}]}}},
    {"apiVersion": "events.openfunction.io/v1alpha1", "kind": "ClusterEventBus",
     "metadata": {"name": "shared", "creationTimestamp": ")" + created + R"("}}]})";
}

// The stand-in's /v1/objects for the events kinds: the list above, filtered by ?kind= and ?namespace=.
StandInResponse EventsObjects(const StandInRequest& req) {
  nlohmann::json all = nlohmann::json::parse(EventsObjectsJson());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& o : all["items"]) {
    if (req.query("kind") && o["kind"] != *req.query("kind")) continue;
    if (req.query("namespace") && o["metadata"].value("namespace", "") != *req.query("namespace")) continue;
    items.push_back(o);
  }
  return StandInResponse::Json(200, nlohmann::json{{"items", items}}.dump());
}

class CliTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out, err;
  };

  void SetUp() override {
    env_["OFN_DATA_DIR"] = dir_.path();
    env_["HOME"] = dir_.path();
  }

  std::string Socket() const { return dir_.path() + "/ofn.sock"; }

  void Serve(StandInServer::Handler h) { server_ = StandInServer::OnUnixSocket(Socket(), std::move(h)); }

  Outcome Run(std::vector<std::string> args, std::string stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    Io io;
    io.in = &in;
    io.out = &out;
    io.err = &err;
    auto env = env_;
    io.getenv = [env = std::move(env)](const char* name) -> const char* {
      static thread_local std::string value;
      auto it = env.find(name);
      if (it == env.end()) return nullptr;
      value = it->second;
      return value.c_str();
    };
    io.now = [] { return *ParseTimestamp(kCreated) + std::chrono::seconds(5); };
    io.cancelled = [this] { return cancel_.load(); };
    int code = cli::Run(args, io, server_entry_);
    return {code, out.str(), err.str()};
  }

  std::vector<StandInRequest> Requests() const { return server_->requests(); }

  ofn::testing::TempDir dir_{"ofn-cli"};
  std::map<std::string, std::string> env_;
  std::unique_ptr<StandInServer> server_;
  ServerEntry server_entry_;
  std::atomic<bool> cancel_{false};
};

// --- not running -------------------------------------------------------------

TEST_F(CliTest, EveryVerbSaysTheServerIsNotRunningAndExits3) {
  const std::string want = "error: ofn server is not running (no socket at " + Socket() +
                           "). Start it with: ofn server --data-dir " + dir_.path() + "\n";
  ofn::testing::WriteFile(dir_.Sub("fn.yaml"), "kind: Function\n");
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"get"}, {"get", "fn", "hello"}, {"apply", "-f", dir_.Sub("fn.yaml")}, {"create", "-f", dir_.Sub("fn.yaml")},
           {"describe", "fn", "hello"}, {"delete", "fn", "hello"}, {"logs", "hello"}, {"invoke", "hello"}}) {
    Outcome r = Run(args);
    EXPECT_EQ(r.code, kExitNotRunning) << args[0];
    EXPECT_EQ(r.err, want) << args[0];
  }
  Outcome v = Run({"version"});
  EXPECT_EQ(v.code, kExitNotRunning);
  EXPECT_EQ(v.out, "Client Version: 0.1.0\n");
  EXPECT_EQ(v.err, want);
}

TEST_F(CliTest, StaleSocketCountsAsNotRunning) {
  Serve([](const StandInRequest&) { return StandInResponse::Json(200, "{}"); });
  // Stop listening but leave a socket file behind, as after kill -9.
  server_.reset();
  ofn::testing::WriteFile(Socket(), "");
  Outcome r = Run({"get", "fn"});
  EXPECT_EQ(r.code, kExitNotRunning);
  EXPECT_NE(r.err.find("ofn server is not running"), std::string::npos);
}

TEST_F(CliTest, DataDirFlagBeatsTheEnvironment) {
  Outcome r = Run({"--data-dir", "/nonexistent/ofn", "get"});
  EXPECT_EQ(r.code, kExitNotRunning);
  EXPECT_NE(r.err.find("no socket at /nonexistent/ofn/ofn.sock). Start it with: ofn server --data-dir /nonexistent/ofn"),
            std::string::npos)
      << r.err;
}

// --- usage -------------------------------------------------------------------

TEST_F(CliTest, UsageErrorsExit2) {
  Outcome r = Run({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "error: unknown command \"frobnicate\" for \"ofn\"\nRun 'ofn --help' for usage.\n");
  r = Run({"get", "--bogus"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "error: unknown flag: --bogus\nSee 'ofn get --help' for usage.\n");
  r = Run({"get", "-n"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("flag needs an argument: 'n' in -n"), std::string::npos);
  r = Run({"get", "-o", "xml"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("output format \"xml\""), std::string::npos);
  EXPECT_EQ(Run({"apply"}).code, kExitUsage);
  EXPECT_EQ(Run({"logs"}).code, kExitUsage);
  EXPECT_EQ(Run({"invoke"}).code, kExitUsage);
  EXPECT_EQ(Run({"invoke", "x", "--data", "a", "--data-file", "f"}).code, kExitUsage);
  EXPECT_EQ(Run({"invoke", "x", "--source", "s"}).code, kExitUsage);
  EXPECT_EQ(Run({"delete", "fn"}).code, kExitUsage);
  EXPECT_EQ(Run({"describe"}).code, kExitUsage);
  EXPECT_EQ(Run({"get", "fn", "x", "-A"}).code, kExitUsage);
  EXPECT_EQ(Run({"--server", "ftp://x", "get"}).code, kExitUsage);
}

TEST_F(CliTest, HelpForEveryVerb) {
  Outcome r = Run({});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("apply"), std::string::npos);
  for (const char* verb : {"apply", "create", "get", "describe", "delete", "logs", "invoke", "events", "version"}) {
    Outcome h = Run({verb, "--help"});
    EXPECT_EQ(h.code, 0) << verb;
    EXPECT_NE(h.out.find(std::string("ofn ") + verb), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("--data-dir"), std::string::npos) << verb;
    EXPECT_EQ(Run({"help", verb}).out, h.out);
  }
  EXPECT_NE(Run({"logs", "-h"}).out.find("--follow"), std::string::npos);
}

TEST_F(CliTest, UnknownTypeIsAnError) {
  Serve([](const StandInRequest&) { return StandInResponse::Json(200, "{}"); });
  Outcome r = Run({"get", "pods"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "error: the server doesn't have a resource type \"pods\"\n");
  EXPECT_TRUE(Requests().empty());
}

// --- server ------------------------------------------------------------------

TEST_F(CliTest, ServerVerbCallsTheEntryWithItsArguments) {
  std::vector<std::string> seen;
  server_entry_ = [&](int argc, char** argv) {
    for (int i = 0; i < argc; ++i) seen.push_back(argv[i]);
    return 7;
  };
  EXPECT_EQ(Run({"--data-dir", "/d", "server", "--gateway", "127.0.0.1:9000"}).code, 7);
  EXPECT_EQ(seen, (std::vector<std::string>{"server", "--data-dir", "/d", "--gateway", "127.0.0.1:9000"}));
  seen.clear();
  // Global flags before the verb, in every spelling, are skipped to find it.
  EXPECT_EQ(Run({"-An", "prod", "-o=json", "--namespace", "x", "server", "-v"}).code, 7);
  EXPECT_EQ(seen, (std::vector<std::string>{"server", "-An", "prod", "-o=json", "--namespace", "x", "-v"}));
  server_entry_ = nullptr;
  EXPECT_EQ(Run({"server"}).code, kExitFailed);
}

// --- apply / create ----------------------------------------------------------

std::string ApplyResults(const std::string& action) {
  return R"({"results": [
    {"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function", "namespace": "default", "name": "hello",
     "action": ")" + action + R"(", "ignored": ["spec.build", "spec.serving.hooks"],
     "warnings": ["converted from core.openfunction.io/v1beta1"]},
    {"apiVersion": "networking.openfunction.io/v1alpha1", "kind": "Gateway", "namespace": "default",
     "name": "openfunction", "action": "unchanged", "ignored": [], "warnings": []}]})";
}

TEST_F(CliTest, ApplyPrintsKubectlLinesIgnoredFieldsAndWarnings) {
  Serve([](const StandInRequest&) { return StandInResponse::Json(200, ApplyResults("created")); });
  ofn::testing::WriteFile(dir_.Sub("fn.yaml"), "apiVersion: core.openfunction.io/v1beta1\nkind: Function\n");
  Outcome r = Run({"apply", "-f", dir_.Sub("fn.yaml")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "function.core.openfunction.io/hello created\n"
            "  ignored (kept, not acted on yet): spec.build, spec.serving.hooks\n"
            "gateway.networking.openfunction.io/openfunction unchanged\n");
  EXPECT_EQ(r.err, "Warning: converted from core.openfunction.io/v1beta1\n");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/apply?mode=apply&dryRun=false");
  EXPECT_EQ(reqs[0].header("X-Ofn-Source"), dir_.Sub("fn.yaml"));
  EXPECT_EQ(reqs[0].body, "apiVersion: core.openfunction.io/v1beta1\nkind: Function\n");
}

TEST_F(CliTest, ApplyDirectoryStdinAndDryRun) {
  Serve([](const StandInRequest& req) {
    return StandInResponse::Json(200, ApplyResults(req.query("dryRun") == "true" ? "validated" : "configured"));
  });
  ofn::testing::TempDir manifests("ofn-cli-manifests");
  ofn::testing::WriteFile(manifests.Sub("b.yml"), "b");
  ofn::testing::WriteFile(manifests.Sub("a.yaml"), "a");
  ofn::testing::WriteFile(manifests.Sub("c.json"), "{}");
  ofn::testing::WriteFile(manifests.Sub("README.md"), "not a manifest");
  Outcome r = Run({"apply", "-f", manifests.path(), "-f", "-", "--dry-run", "-n", "prod"}, "from stdin");
  EXPECT_EQ(r.code, 0) << r.err;
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].header("X-Ofn-Source"), manifests.Sub("a.yaml"));
  EXPECT_EQ(reqs[1].header("X-Ofn-Source"), manifests.Sub("b.yml"));
  EXPECT_EQ(reqs[2].header("X-Ofn-Source"), manifests.Sub("c.json"));
  EXPECT_EQ(reqs[3].header("X-Ofn-Source"), "<stdin>");
  EXPECT_EQ(reqs[3].body, "from stdin");
  EXPECT_EQ(reqs[0].query("dryRun"), "true");
  EXPECT_EQ(reqs[0].query("namespace"), "prod");
  EXPECT_NE(r.out.find("function.core.openfunction.io/hello validated (dry run)\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, ApplyValidationErrorsOnePerLine) {
  Serve([](const StandInRequest&) {
    return StandInResponse::Json(400, R"({"error": "2 errors in fn.yaml", "errors": [
      "fn.yaml:7: spec.serving.scaleOptions.minReplicas: must be >= 0",
      "fn.yaml:12: spec.image: required"]})");
  });
  ofn::testing::WriteFile(dir_.Sub("fn.yaml"), "x");
  Outcome r = Run({"apply", "-f", dir_.Sub("fn.yaml")});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "fn.yaml:7: spec.serving.scaleOptions.minReplicas: must be >= 0\n"
            "fn.yaml:12: spec.image: required\n");
}

TEST_F(CliTest, ApplyMissingPathIsBadInput) {
  Serve([](const StandInRequest&) { return StandInResponse::Json(200, "{}"); });
  Outcome r = Run({"apply", "-f", dir_.Sub("nope.yaml")});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "error: the path \"" + dir_.Sub("nope.yaml") + "\" does not exist\n");
  EXPECT_TRUE(Requests().empty());
}

TEST_F(CliTest, CreateOfAnExistingObjectFails) {
  Serve([](const StandInRequest& req) {
    if (req.query("mode") != "create") return StandInResponse::Json(500, R"({"error": "wrong mode"})");
    return StandInResponse::Json(409, R"({"error": "Function \"default/hello\" already exists"})");
  });
  ofn::testing::WriteFile(dir_.Sub("fn.yaml"), "x");
  Outcome r = Run({"create", "-f", dir_.Sub("fn.yaml")});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (AlreadyExists): Function \"default/hello\" already exists\n");
}

// --- get ---------------------------------------------------------------------

TEST_F(CliTest, GetListsAsTables) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/objects" && req.query("kind") == "Function") {
      return StandInResponse::Json(200, "{\"items\": [" + FunctionJson("hello") + "]}");
    }
    if (req.path == "/v1/objects") {
      return StandInResponse::Json(200, "{\"items\": [" + FunctionJson("hello") + "," + GatewayJson() + "]}");
    }
    return StandInResponse::Json(404, R"({"error": "not found"})");
  });
  Outcome r = Run({"get", "functions"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME    BUILDSTATE   SERVINGSTATE   BUILDER   SERVING         URL                                   AGE\n"
            "hello   Skipped      Running                  default-hello   http://127.0.0.1:8080/default/hello   5s\n");
  EXPECT_EQ(Requests().back().target, "/v1/objects?kind=Function&namespace=default");

  r = Run({"get", "fn", "-o", "wide", "-A"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(Requests().back().target, "/v1/objects?kind=Function");
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "NAMESPACE   NAME    BUILDSTATE   SERVINGSTATE   BUILDER   SERVING         URL"
            "                                   AGE   REPLICAS   READY");

  // Every kind: one table each, names with kubectl's kind prefix.
  r = Run({"get"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(Requests().back().target, "/v1/objects?namespace=default");
  EXPECT_NE(r.out.find("function.core.openfunction.io/hello   Skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n\nNAME                                              DOMAIN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gateway.networking.openfunction.io/openfunction   ofn.local"), std::string::npos) << r.out;

  r = Run({"get", "fn", "-o", "name"});
  EXPECT_EQ(r.out, "function.core.openfunction.io/hello\n");
}

TEST_F(CliTest, GetEmptyAndNotFound) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/objects") return StandInResponse::Json(200, R"({"items": []})");
    return StandInResponse::Json(404, R"({"error": "Function \"default/nope\" not found"})");
  });
  Outcome r = Run({"get", "fn"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No resources found in default namespace.\n");
  EXPECT_EQ(Run({"get", "fn", "-n", "prod"}).err, "No resources found in prod namespace.\n");
  EXPECT_EQ(Run({"get", "-A"}).err, "No resources found\n");

  r = Run({"get", "fn", "nope"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (NotFound): Function \"default/nope\" not found\n");
  EXPECT_EQ(Requests().back().target, "/v1/objects/Function/default/nope");
}

TEST_F(CliTest, GetYamlAndJson) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/objects") return StandInResponse::Json(200, "{\"items\": [" + FunctionJson("hello") + "]}");
    return StandInResponse::Json(200, FunctionJson("hello"));
  });
  Outcome r = Run({"get", "fn", "hello", "-o", "json"});
  EXPECT_EQ(r.code, 0);
  auto obj = nlohmann::json::parse(r.out);
  EXPECT_EQ(obj, nlohmann::json::parse(FunctionJson("hello")));
  EXPECT_NE(r.out.find("\n    \"kind\": \"Function\""), std::string::npos);  // kubectl's 4-space indent

  r = Run({"get", "fn", "-o", "yaml"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.substr(0, 60), "apiVersion: v1\nitems:\n- apiVersion: core.openfunction.io/v1b");
  EXPECT_NE(r.out.find("\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    creationTimestamp: \"2026-11-26T14:00:00Z\"\n"), std::string::npos) << r.out;

  r = Run({"get", "fn/hello", "-o", "yaml"});
  EXPECT_EQ(r.out.substr(0, 56), "apiVersion: core.openfunction.io/v1beta2\nkind: Function\n");
}

// --- describe ----------------------------------------------------------------

TEST_F(CliTest, DescribeFunction) {
  Serve([](const StandInRequest&) { return StandInResponse::Json(200, FunctionJson("hello")); });
  Outcome r = Run({"describe", "fn", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Requests().back().target, "/v1/objects/Function/default/hello");
  for (const char* want : {"Name:         hello\n", "Kind:         Function\n", "Status:\n  Serving:\n",
                           "Running", "  Addresses:\n    External:  http://hello.default.ofn.local:8080/\n"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
}

// --- delete ------------------------------------------------------------------

TEST_F(CliTest, DeleteByNameAndByFile) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/objects/Function/default/gone") {
      return StandInResponse::Json(404, R"({"error": "Function \"default/gone\" not found"})");
    }
    return StandInResponse::Json(200, "{\"deleted\": " + FunctionJson("hello") + "}");
  });
  Outcome r = Run({"delete", "fn", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "function.core.openfunction.io \"hello\" deleted\n");
  EXPECT_EQ(Requests().back().method, "DELETE");
  EXPECT_EQ(Requests().back().target, "/v1/objects/Function/default/hello");

  ofn::testing::WriteFile(dir_.Sub("m.yaml"),
                          "apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: a\n"
                          "  namespace: prod\n---\napiVersion: networking.openfunction.io/v1alpha1\nkind: Gateway\n"
                          "metadata:\n  name: gw\n---\n");
  r = Run({"delete", "-f", dir_.Sub("m.yaml")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "function.core.openfunction.io \"a\" deleted\n"
            "gateway.networking.openfunction.io \"gw\" deleted\n");
  auto reqs = Requests();
  EXPECT_EQ(reqs[reqs.size() - 2].target, "/v1/objects/Function/prod/a");
  EXPECT_EQ(reqs.back().target, "/v1/objects/Gateway/default/gw");

  r = Run({"delete", "fn", "gone"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (NotFound): Function \"default/gone\" not found\n");
  EXPECT_EQ(Run({"delete", "fn", "gone", "--ignore-not-found"}).code, 0);

  ofn::testing::WriteFile(dir_.Sub("bad.yaml"), "kind: Function\nmetadata: {}\n");
  r = Run({"delete", "-f", dir_.Sub("bad.yaml")});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "error: " + dir_.Sub("bad.yaml") + ":1: metadata.name: required\n");
}

// --- logs --------------------------------------------------------------------

TEST_F(CliTest, LogsPrintsTheNewestInstance) {
  Serve([](const StandInRequest&) {
    StandInResponse r{200, {{"X-Ofn-Log-Offset", "12"}, {"X-Ofn-Instance", "i1"}, {"X-Ofn-Instances", "i1"}},
                      "hello\nworld\n", "text/plain"};
    return r;
  });
  Outcome r = Run({"logs", "hello", "-n", "prod"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\nworld\n");
  EXPECT_EQ(Requests().back().target, "/v1/logs/prod/hello");
  Run({"logs", "hello", "--instance", "i0"});
  EXPECT_EQ(Requests().back().target, "/v1/logs/default/hello?instance=i0");
}

TEST_F(CliTest, LogsFollowLongPollsFromTheOffsetUntilTheFunctionIsGone) {
  std::atomic<int> calls{0};
  Serve([&](const StandInRequest& req) {
    int n = calls++;
    auto text = [](std::string body, std::string offset, std::string instance, std::string all) {
      return StandInResponse{200,
                             {{"X-Ofn-Log-Offset", offset}, {"X-Ofn-Instance", instance}, {"X-Ofn-Instances", all}},
                             std::move(body),
                             "text/plain"};
    };
    switch (n) {
      case 0: return text("one\n", "4", "i1", "i1");
      case 1: return text("two\n", "8", "i1", "i1");
      case 2: return text("", "8", "i1", "i1");        // the long poll timed out
      case 3: return text("", "8", "i1", "i1,i2");     // a new instance appeared
      case 4: return text("i2 start\n", "9", "i2", "i1,i2");  // the probe for the newest, from offset 0
      case 5: return text("i2 more\n", "17", "i2", "i1,i2");
      default: return StandInResponse::Json(404, R"({"error": "Function \"default/hello\" not found"})");
    }
  });
  Outcome r = Run({"logs", "hello", "-f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "one\ntwo\ni2 start\ni2 more\n");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 7u);
  EXPECT_EQ(reqs[0].target, "/v1/logs/default/hello");
  EXPECT_EQ(reqs[1].target, "/v1/logs/default/hello?follow=true&instance=i1&offset=4");
  EXPECT_EQ(reqs[2].target, "/v1/logs/default/hello?follow=true&instance=i1&offset=8");
  EXPECT_EQ(reqs[4].target, "/v1/logs/default/hello?offset=0");
  EXPECT_EQ(reqs[5].target, "/v1/logs/default/hello?follow=true&instance=i2&offset=9");
}

TEST_F(CliTest, LogsFollowStopsWhenCancelled) {
  Serve([&](const StandInRequest&) {
    cancel_ = true;  // as Ctrl-C would
    return StandInResponse{200, {{"X-Ofn-Log-Offset", "2"}, {"X-Ofn-Instance", "i1"}}, "x\n", "text/plain"};
  });
  Outcome r = Run({"logs", "hello", "--follow"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "x\n");
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(CliTest, LogsOfAFunctionThatNeverRan) {
  Serve([](const StandInRequest&) {
    return StandInResponse::Json(404, R"({"error": "Function \"default/hello\" has no instance"})");
  });
  Outcome r = Run({"logs", "hello", "-f"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (NotFound): Function \"default/hello\" has no instance\n");
}

// --- invoke ------------------------------------------------------------------

TEST_F(CliTest, InvokeCallsTheInternalAddress) {
  auto function = StandInServer::OnTcp([](const StandInRequest& req) {
    StandInResponse r{200, {{"X-Echo-Method", req.method}}, "hi " + req.body, "text/plain"};
    return r;
  });
  const std::string internal = "http://127.0.0.1:" + std::to_string(function->port()) + "/default/hello";
  Serve([&](const StandInRequest&) { return StandInResponse::Json(200, FunctionJson("hello", "default", internal)); });

  Outcome r = Run({"invoke", "hello"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi ");
  EXPECT_EQ(Requests().back().target, "/v1/objects/Function/default/hello");
  auto calls = function->requests();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "GET");
  EXPECT_EQ(calls[0].target, "/default/hello");
  EXPECT_EQ(calls[0].header("Host"), "127.0.0.1:" + std::to_string(function->port()));

  r = Run({"invoke", "hello", "--data", R"({"name":"ofn"})", "--path", "/greet?x=1", "-H", "X-Trace: abc", "-v"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, R"(hi {"name":"ofn"})");
  EXPECT_NE(r.err.find("< HTTP/1.1 200 OK\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("< X-Echo-Method: POST\n"), std::string::npos) << r.err;
  calls = function->requests();
  EXPECT_EQ(calls.back().method, "POST");
  EXPECT_EQ(calls.back().target, "/default/hello/greet?x=1");
  EXPECT_EQ(calls.back().header("X-Trace"), "abc");
  EXPECT_EQ(calls.back().header("Content-Type"), "application/json");

  ofn::testing::WriteFile(dir_.Sub("body.txt"), "from a file");
  r = Run({"invoke", "hello", "--data-file", dir_.Sub("body.txt"), "-X", "PUT"});
  EXPECT_EQ(r.out, "hi from a file");
  EXPECT_EQ(function->requests().back().method, "PUT");
  EXPECT_EQ(function->requests().back().header("Content-Type"), "text/plain");
}

TEST_F(CliTest, InvokeSendsABinaryCloudEvent) {
  auto function = StandInServer::OnTcp([](const StandInRequest&) { return StandInResponse::Json(202, ""); });
  const std::string internal = "http://127.0.0.1:" + std::to_string(function->port()) + "/";
  Serve([&](const StandInRequest&) { return StandInResponse::Json(200, FunctionJson("sink", "default", internal)); });

  Outcome r = Run({"invoke", "sink", "--cloudevent", "com.example.ping", "--data", "{}"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto ev = function->requests().back();
  EXPECT_EQ(ev.method, "POST");
  EXPECT_EQ(ev.header("ce-specversion"), "1.0");
  EXPECT_EQ(ev.header("ce-type"), "com.example.ping");
  EXPECT_EQ(ev.header("ce-source"), "ofn-cli");
  ASSERT_TRUE(ev.header("ce-id"));
  EXPECT_EQ(ev.header("ce-id")->size(), 36u);
  EXPECT_EQ((*ev.header("ce-id"))[14], '4');  // a version-4 UUID
  EXPECT_EQ(ev.body, "{}");

  Run({"invoke", "sink", "--cloudevent", "t", "--source", "/me", "--id", "42"});
  ev = function->requests().back();
  EXPECT_EQ(ev.method, "POST");
  EXPECT_EQ(ev.header("ce-source"), "/me");
  EXPECT_EQ(ev.header("ce-id"), "42");
}

TEST_F(CliTest, InvokeExitsOneOnAnErrorStatusAndStillPrintsTheBody) {
  auto function = StandInServer::OnTcp([](const StandInRequest&) {
    StandInResponse r{500, {{"X-OpenFunction-Status", "error"}}, "boom", "text/plain"};
    return r;
  });
  const std::string internal = "http://127.0.0.1:" + std::to_string(function->port()) + "/";
  Serve([&](const StandInRequest&) { return StandInResponse::Json(200, FunctionJson("hello", "default", internal)); });
  Outcome r = Run({"invoke", "hello"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "boom");
}

TEST_F(CliTest, InvokeOfAMissingFunction) {
  Serve([](const StandInRequest&) {
    return StandInResponse::Json(404, R"({"error": "Function \"default/x\" not found"})");
  });
  Outcome r = Run({"invoke", "x"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (NotFound): Function \"default/x\" not found\n");
}

// --- events kinds ------------------------------------------------------------

TEST_F(CliTest, GetEventsKindsAsTables) {
  Serve(EventsObjects);
  Outcome r = Run({"get", "eventsources"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME    EVENTBUS   SINK                                  STATUS   AGE\n"
            "hooks   default    sink                                  Ready    5s\n"
            "ticks              http://127.0.0.1:8080/default/sink/   Error    5s\n");
  r = Run({"get", "es", "-o", "wide"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME    EVENTBUS   SINK                                  STATUS   AGE   EVENTS                          "
            "TOPICS\n"
            "hooks   default    sink                                  Ready    5s    kafka/sample-one,webhook/push   "
            "default-hooks-sample-one,default-hooks-push\n"
            "ticks              http://127.0.0.1:8080/default/sink/   Error    5s    cron/every\n");

  r = Run({"get", "triggers"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME     EVENTBUS   STATUS   AGE\n"
            "alerts   default    Ready    5s\n");
  r = Run({"get", "trigger", "-o", "wide"});
  EXPECT_EQ(r.out,
            "NAME     EVENTBUS   STATUS   AGE   INPUTS      SUBSCRIBERS\n"
            "alerts   default    Ready    5s    hook,tick   2\n");

  r = Run({"get", "eb"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME      BACKEND                            AGE\n"
            "default   pubsub.ofn (embedded)              5s\n"
            "nats      pubsub.jetstream (natsStreaming)   5s\n"
            "redis     pubsub.redis                       5s\n");
  EXPECT_EQ(Run({"get", "eb", "-o", "wide"}).out, r.out);
}

TEST_F(CliTest, ClusterEventBusesAreListedWithoutANamespace) {
  Serve(EventsObjects);
  Outcome r = Run({"get", "ceb"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Requests().back().target, "/v1/objects?kind=ClusterEventBus");
  EXPECT_EQ(r.out,
            "NAME     BACKEND                 AGE\n"
            "shared   pubsub.ofn (embedded)   5s\n");
  r = Run({"get", "eventbuses,clustereventbuses", "-A"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\n\nNAMESPACE   NAME                                            BACKEND                 AGE\n"
                       "            clustereventbus.events.openfunction.io/shared   pubsub.ofn (embedded)   5s\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("default     eventbus.events.openfunction.io/nats      pubsub.jetstream (natsStreaming)"),
            std::string::npos)
      << r.out;
}

TEST_F(CliTest, DescribeTriggerPrintsItsSubscribersCounts) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/events/stats/triggers/prod/alerts") {
      return StandInResponse::Json(200, R"({"items": [{"condition": "hook", "destination": "sink http://x/",
        "received": 10, "matched": 4, "filtered": 6, "invalid": 0, "published": 0, "delivered": 4, "retried": 1,
        "deadLettered": 0, "dropped": 0, "inFlight": 0}]})");
    }
    nlohmann::json all = nlohmann::json::parse(EventsObjectsJson());
    nlohmann::json t = all["items"][2];
    t["metadata"]["namespace"] = "prod";
    return StandInResponse::Json(200, t.dump());
  });
  Outcome r = Run({"describe", "trigger", "alerts", "-n", "prod"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/v1/objects/Trigger/prod/alerts");
  EXPECT_EQ(reqs[1].target, "/v1/events/stats/triggers/prod/alerts");
  EXPECT_NE(r.out.find("Subscribers:\n  0:\n    Condition:      hook\n    Destination:    sink http://x/\n"
                       "    Received:       10\n    Matched:        4\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("    Retried:        1\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, DescribeEventSourcePrintsItsEventsCounts) {
  Serve([](const StandInRequest& req) {
    if (req.path == "/v1/events/stats/eventsources/default/hooks") {
      return StandInResponse::Json(200, R"({"items": [
        {"event": "sample-one", "kind": "kafka", "received": 3, "published": 3, "publishFailed": 0, "delivered": 0,
         "dropped": 0, "rejected": 0},
        {"event": "push", "kind": "webhook", "received": 2, "published": 1, "publishFailed": 0, "delivered": 0,
         "dropped": 0, "rejected": 1}]})");
    }
    return StandInResponse::Json(200, nlohmann::json::parse(EventsObjectsJson())["items"][0].dump());
  });
  Outcome r = Run({"describe", "es/hooks"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Events:\n  kafka/sample-one:\n    Received:        3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  webhook/push:\n    Received:        2\n    Published:       1\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("    Rejected:        1\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, DescribeWithoutStatsWhenTheServerHasNone) {
  // An older server: no /v1/events; describe prints the rest and succeeds.
  Serve([](const StandInRequest& req) {
    if (req.path.starts_with("/v1/events/")) return StandInResponse::Json(404, R"({"error": "no such endpoint"})");
    return StandInResponse::Json(200, nlohmann::json::parse(EventsObjectsJson())["items"][2].dump());
  });
  Outcome r = Run({"describe", "trigger", "alerts"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Requests().back().target, "/v1/events/stats/triggers/default/alerts");
  EXPECT_NE(r.out.find("Name:         alerts\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Status:\n  Conditions:\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nSubscribers:"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with("Events:  <none>\n")) << r.out;

  // Other kinds never ask for stats.
  server_->set_handler([](const StandInRequest&) {
    return StandInResponse::Json(200, nlohmann::json::parse(EventsObjectsJson())["items"][3].dump());
  });
  size_t before = Requests().size();
  EXPECT_EQ(Run({"describe", "eb", "default"}).code, 0);
  EXPECT_EQ(Requests().size(), before + 1);
}

// --- events tail -------------------------------------------------------------

// A stand-in for the watch API: the POST opens watch "w1", each GET answers the
// next batch, the DELETE closes it. Once the batches run out, a GET is held for
// its ?wait= seconds before answering none, as the server's long poll is.
StandInServer::Handler WatchServer(std::vector<std::vector<std::string>> batches) {
  auto next = std::make_shared<size_t>(0);
  return [batches = std::move(batches), next](const StandInRequest& req) {
    if (req.method == "POST" && req.path == "/v1/events/watches") {
      return StandInResponse::Json(201, R"({"id": "w1"})");
    }
    if (req.path != "/v1/events/watches/w1") return StandInResponse::Json(404, R"({"error": "unexpected"})");
    if (req.method == "DELETE") return StandInResponse::Json(200, R"({"closed": "w1"})");
    nlohmann::json events = nlohmann::json::array();
    if (*next < batches.size()) {
      for (const std::string& e : batches[*next]) events.push_back(e);
    } else {
      std::this_thread::sleep_for(std::chrono::seconds(std::stoi(req.query("wait").value_or("0"))));
    }
    ++*next;
    return StandInResponse::Json(200, nlohmann::json{{"events", events}}.dump());
  };
}

TEST_F(CliTest, EventsTailPrintsEventsUntilMax) {
  Serve(WatchServer({{R"({"id":"1","data":{"n":1}})"}, {}, {R"({"id":"2"})", R"({"id":"3"})"}}));
  Outcome r = Run({"events", "tail", "default-hooks-push", "--max", "2", "-n", "prod", "--bus", "nats"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":\"1\",\"data\":{\"n\":1}}\n{\"id\":\"2\"}\n");
  EXPECT_EQ(r.err, "");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].query("namespace"), "prod");
  EXPECT_EQ(reqs[0].query("bus"), "nats");
  EXPECT_EQ(reqs[0].query("topic"), "default-hooks-push");
  EXPECT_EQ(reqs[1].target, "/v1/events/watches/w1?wait=1");
  EXPECT_EQ(reqs[3].target, "/v1/events/watches/w1?wait=1");
  EXPECT_EQ(reqs[4].method, "DELETE");
  EXPECT_EQ(reqs[4].target, "/v1/events/watches/w1");
}

TEST_F(CliTest, EventsTailDefaultsToTheDefaultBusAndPrintsOneLinePerEvent) {
  Serve(WatchServer({{"{\n  \"id\": \"pretty\"\n}"}}));
  Outcome r = Run({"events", "tail", "t", "--max", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":\"pretty\"}\n");
  auto reqs = Requests();
  EXPECT_EQ(reqs[0].query("namespace"), "default");
  EXPECT_EQ(reqs[0].query("bus"), "default");
}

TEST_F(CliTest, EventsTailStopsWhenCancelledAndClosesTheWatch) {
  auto inner = WatchServer({{R"({"id":"1"})"}});
  Serve([&](const StandInRequest& req) {
    if (req.method == "GET") cancel_ = true;  // as Ctrl-C would
    return inner(req);
  });
  Outcome r = Run({"events", "tail", "t"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":\"1\"}\n");
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].method, "DELETE");
}

TEST_F(CliTest, EventsTailEndsOnCtrlCAndClosesTheWatch) {
  struct sigaction before = {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &before), 0);
  ASSERT_NE(before.sa_handler, SIG_IGN) << "this test needs SIGINT not ignored";
  auto inner = WatchServer({{R"({"id":"1"})"}});
  Serve([&](const StandInRequest& req) {
    if (req.method == "GET") std::raise(SIGINT);  // Ctrl-C while the poll is out
    return inner(req);
  });
  Outcome r = Run({"events", "tail", "t", "--timeout", "30s"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\":\"1\"}\n");  // what that poll brought is still printed
  auto reqs = Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].method, "DELETE");
  // The handler was the tail's only: the previous one is back.
  struct sigaction after = {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST_F(CliTest, EventsTailTimesOut) {
  Serve(WatchServer({}));
  const auto start = std::chrono::steady_clock::now();
  Outcome r = Run({"events", "tail", "t", "--timeout", "300ms"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  // Polls are whole seconds: the one out when the time is up may end up to a second late.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(Requests().back().method, "DELETE");
  EXPECT_EQ(Requests()[1].target, "/v1/events/watches/w1?wait=1");

  // Waiting for a number of events that did not all come is a failure (for scripts).
  r = Run({"events", "tail", "t", "--timeout", "200ms", "--max", "3"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "error: timed out after 200ms with 0 of 3 events\n");
  EXPECT_EQ(Requests().back().method, "DELETE");
}

TEST_F(CliTest, EventsTailOfAWatchThatExpired) {
  auto inner = WatchServer({{R"({"id":"1"})"}});
  auto reads = std::make_shared<int>(0);
  Serve([&, reads](const StandInRequest& req) {
    if (req.method == "GET" && ++*reads == 2) {
      return StandInResponse::Json(404, R"j({"error": "no watch w1 (closed, or not read for a minute)"})j");
    }
    return inner(req);
  });
  Outcome r = Run({"events", "tail", "default-hooks-push", "--bus", "nats"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "{\"id\":\"1\"}\n");
  EXPECT_EQ(r.err,
            "error: the watch of topic \"default-hooks-push\" on bus \"nats\" is gone (the server restarted, or it "
            "was not read for a minute)\n");
  EXPECT_EQ(Requests().back().method, "GET");  // nothing left to close
}

TEST_F(CliTest, EventsTailOfAnUnknownBus) {
  Serve([](const StandInRequest&) {
    return StandInResponse::Json(404, R"({"error": "no EventBus default/nope nor ClusterEventBus nope"})");
  });
  Outcome r = Run({"events", "tail", "t", "--bus", "nope"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "Error from server (NotFound): no EventBus default/nope nor ClusterEventBus nope\n");
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(CliTest, EventsUsage) {
  Serve(WatchServer({}));
  Outcome r = Run({"events"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "error: ofn events needs a subcommand: tail\nUsage:\n"
            "  ofn events tail TOPIC [--bus NAME] [--max N] [--timeout DURATION]\n"
            "See 'ofn events --help' for more.\n");
  EXPECT_NE(Run({"events", "follow", "t"}).err.find("unknown command \"follow\" for \"ofn events\""),
            std::string::npos);
  EXPECT_EQ(Run({"events", "tail"}).code, kExitUsage);
  EXPECT_EQ(Run({"events", "tail", "a", "b"}).code, kExitUsage);
  EXPECT_EQ(Run({"events", "tail", "t", "--max", "0"}).code, kExitUsage);
  EXPECT_EQ(Run({"events", "tail", "t", "--max", "two"}).code, kExitUsage);
  EXPECT_EQ(Run({"events", "tail", "t", "--timeout", "10"}).code, kExitUsage);
  EXPECT_TRUE(Requests().empty());
  Outcome help = Run({"events", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("ofn events tail TOPIC [--bus NAME] [--max N] [--timeout DURATION]"), std::string::npos);
  EXPECT_NE(help.out.find("--bus NAME"), std::string::npos) << help.out;
}

// --- version, TCP and tokens -------------------------------------------------

TEST_F(CliTest, VersionShowsBoth) {
  Serve([](const StandInRequest&) {
    return StandInResponse::Json(200, R"({"version": "0.1.0", "gateway": "127.0.0.1:8080", "dataDir": "/d"})");
  });
  Outcome r = Run({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "Client Version: 0.1.0\nServer Version: 0.1.0\nGateway: 127.0.0.1:8080\n");
  r = Run({"version", "-o", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["serverVersion"], "0.1.0");
  EXPECT_EQ(Run({"version", "--client"}).out, "Client Version: 0.1.0\n");
}

TEST_F(CliTest, TcpWithBearerToken) {
  auto api = StandInServer::OnTcp([](const StandInRequest& req) {
    if (req.header("Authorization") != "Bearer s3cret") return StandInResponse::Json(401, R"({"error": "unauthorized"})");
    return StandInResponse::Json(200, R"({"items": []})");
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(api->port());
  Outcome r = Run({"get", "fn", "--server", url, "--token", "s3cret"});
  EXPECT_EQ(r.code, 0) << r.err;
  env_["OFN_TOKEN"] = "s3cret";
  EXPECT_EQ(Run({"get", "fn", "-s", url}).code, 0);
  env_["OFN_TOKEN"] = "wrong";
  r = Run({"get", "fn", "-s", url});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("token"), std::string::npos);
  // Token from DATA_DIR/token when none is given.
  env_.erase("OFN_TOKEN");
  ofn::testing::WriteFile(dir_.Sub("token"), "s3cret\n");
  EXPECT_EQ(Run({"get", "fn", "-s", url}).code, 0);

  api.reset();
  r = Run({"get", "fn", "--server", url});
  EXPECT_EQ(r.code, kExitNotRunning);
  EXPECT_NE(r.err.find("error: ofn server is not running (nothing listening at " + url), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ofn::cli

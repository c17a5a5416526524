// The example functions, run as real processes on free ports.
#include <signal.h>

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/http_server.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace ofn::testing {
namespace {

using namespace std::chrono_literals;

struct Server {
  std::unique_ptr<Process> process;
  int port = 0;
  std::unique_ptr<TempDir> dir;
};

Server Launch(const char* binary, std::vector<std::pair<std::string, std::string>> env = {},
              std::vector<std::string> args = {}) {
  Server s;
  s.dir = std::make_unique<TempDir>("ofn-example");
  s.port = FreePort();
  ProcessOptions o;
  o.argv = {binary};
  for (auto& a : args) o.argv.push_back(a);
  o.env = std::move(env);
  o.env.emplace_back("PORT", std::to_string(s.port));
  o.unset_env = {"FUNCTION_TARGET", "FUNC_CONTEXT", "OFN_LOG_FORMAT"};
  o.output_file = s.dir->Sub("output.log");
  auto p = Process::Start(o);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  s.process = std::move(*p);
  Status up = s.process->WaitForPort(s.port, After(10s));
  EXPECT_TRUE(up.ok()) << up.ToString() << "\n" << s.process->Output();
  return s;
}

// Runs a binary that is expected to exit by itself; returns (status, output).
std::pair<ExitStatus, std::string> RunToExit(const char* binary, std::vector<std::string> args,
                                             std::vector<std::pair<std::string, std::string>> env = {}) {
  TempDir dir("ofn-example");
  ProcessOptions o;
  o.argv = {binary};
  for (auto& a : args) o.argv.push_back(a);
  o.env = std::move(env);
  o.env.emplace_back("PORT", std::to_string(FreePort()));
  o.output_file = dir.Sub("output.log");
  auto p = Process::Start(o);
  EXPECT_TRUE(p.ok());
  auto st = (*p)->Wait(After(10s));
  EXPECT_TRUE(st.has_value()) << "did not exit";
  return {st.value_or(ExitStatus{}), (*p)->Output()};
}

TEST(Hello, AnswersAndStopsCleanlyOnSigterm) {
  Server s = Launch(OFN_HELLO);
  auto r = RoundTrip(s.port, Get("/anything?x=1"), After(5s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "Hello, World!\n");
  ASSERT_TRUE(s.process->Signal(SIGTERM).ok());
  auto st = s.process->Wait(After(10s));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->ToString();
  EXPECT_NE(s.process->Output().find("stopped"), std::string::npos) << s.process->Output();
}

TEST(Hello, WritesJsonLogsOnRequest) {
  Server s = Launch(OFN_HELLO, {{"OFN_LOG_FORMAT", "json"}});
  ASSERT_TRUE(s.process->Signal(SIGTERM).ok());
  ASSERT_TRUE(s.process->Wait(After(10s)).has_value());
  std::istringstream lines(s.process->Output());
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    ++parsed;
  }
  EXPECT_GE(parsed, 2);
}

TEST(Hello, HelpAndBadFlags) {
  auto [help_status, help] = RunToExit(OFN_HELLO, {"--help"});
  EXPECT_TRUE(help_status.ok());
  EXPECT_NE(help.find("--target"), std::string::npos);
  EXPECT_NE(help.find("FUNC_CONTEXT"), std::string::npos);
  auto [bad_status, bad] = RunToExit(OFN_HELLO, {"--colour", "red"});
  EXPECT_EQ(bad_status.code, 2);
  EXPECT_NE(bad.find("--colour"), std::string::npos) << bad;
  auto [port_status, port] = RunToExit(OFN_HELLO, {"--port", "http"});
  EXPECT_EQ(port_status.code, 2);
  EXPECT_NE(port.find("port"), std::string::npos) << port;
  auto [target_status, target] = RunToExit(OFN_HELLO, {"--target", "nope"});
  EXPECT_EQ(target_status.code, 2);
  EXPECT_NE(target.find("hello"), std::string::npos) << "lists the functions it has: " << target;
}

TEST(Hello, MalformedFuncContextStopsStartupNamingTheField) {
  auto [st, out] = RunToExit(OFN_HELLO, {}, {{"FUNC_CONTEXT", R"({"name":"x","outputs":{"sink":{"componentType":7}}})"}});
  EXPECT_EQ(st.code, 2);
  EXPECT_NE(out.find("outputs.sink.componentType"), std::string::npos) << out;
  auto [st2, out2] = RunToExit(OFN_HELLO, {}, {{"FUNC_CONTEXT", "{not json"}});
  EXPECT_EQ(st2.code, 2);
  EXPECT_NE(out2.find("FUNC_CONTEXT"), std::string::npos) << out2;
}

TEST(Greeter, RepliesWithAGreetingEvent) {
  Server s = Launch(OFN_GREETER);
  RawRequest req = Post("/", R"({"name":"Ada"})", "application/json");
  req.Header("ce-specversion", "1.0").Header("ce-id", "42").Header("ce-source", "/test").Header("ce-type", "com.example.person");
  auto r = RoundTrip(s.port, req, After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Header("ce-type"), "com.example.greeting");
  EXPECT_EQ(r->Header("ce-id"), "greeting-42");
  EXPECT_EQ(nlohmann::json::parse(r->body)["greeting"], "Hello, Ada!");

  RawRequest wrong = Post("/", "{}", "application/json");
  wrong.Header("ce-specversion", "1.0").Header("ce-id", "1").Header("ce-source", "/t").Header("ce-type", "other");
  auto w = RoundTrip(s.port, wrong, After(5s));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->status, 400);
  auto plain = RoundTrip(s.port, Post("/", "hi"), After(5s));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 400) << "a request that is no CloudEvent is a client error";
}

TEST(Forwarder, SendsToItsOutputAndReportsStatus) {
  // The sink is a real HTTP server in this process, standing in for whatever
  // a bindings.http output points at.
  std::mutex mu;
  std::vector<std::string> received;
  auto sink = net::HttpServer::Start({.host = "127.0.0.1", .port = 0}, [&](HttpRequest& req, HttpResponse& resp) {
    std::lock_guard lk(mu);
    received.push_back(std::string(req.method()) + " " + std::string(req.path()) + " " + std::string(req.body()));
    resp = HttpResponse(200, "stored");
  });
  ASSERT_TRUE(sink.ok());
  nlohmann::json fc = {{"name", "forwarder"},
                       {"version", "v1"},
                       {"runtime", "Knative"},
                       {"postPlugins", {"timing"}},
                       {"outputs",
                        {{"sink",
                          {{"componentName", "sink"},
                           {"componentType", "bindings.http"},
                           {"operation", "post"},
                           {"metadata", {{"url", "http://127.0.0.1:" + std::to_string((*sink)->port()) + "/in"}}}}}}}};
  Server s = Launch(OFN_FORWARDER, {{"FUNC_CONTEXT", fc.dump()}});
  auto r = RoundTrip(s.port, Post("/", "hello"), After(5s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->Header("X-OpenFunction-Status"), "success");
  EXPECT_EQ(r->body, "forwarded 5 bytes; sink said: stored");
  ASSERT_TRUE(r->Header("Server-Timing").has_value()) << "the timing plugin named in postPlugins ran";
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(received, std::vector<std::string>{"POST /in HELLO"});
  }
  // With the sink gone, the function reports an error, not a crash.
  (*sink)->Shutdown(1s);
  sink->reset();
  auto down = RoundTrip(s.port, Post("/", "again"), After(10s));
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 500);
  EXPECT_EQ(down->Header("X-OpenFunction-Status"), "error");
}

TEST(Multi, ServesEachFunctionOnItsPath) {
  Server s = Launch(OFN_MULTI);
  auto hello = RoundTrip(s.port, Get("/hello/Ann%20Lee"), After(5s));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->body, "Hello, Ann Lee!\n");
  auto post = RoundTrip(s.port, Post("/hello/Ann", "x"), After(5s));
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("Allow"), "GET, HEAD");
  auto files = RoundTrip(s.port, Get("/files/a/b/c.txt"), After(5s));
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->body, "file: a/b/c.txt\n");
  auto sum = RoundTrip(s.port, Post("/sum", R"({"numbers":[1,2,3.5]})", "application/json"), After(5s));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(nlohmann::json::parse(sum->body)["total"], 6.5);
  auto bad = RoundTrip(s.port, Post("/sum", R"({"numbers":"x"})", "application/json"), After(5s));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  auto none = RoundTrip(s.port, Get("/nothing"), After(5s));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 404);
}

TEST(Multi, FunctionTargetServesOnlyThatFunction) {
  Server s = Launch(OFN_MULTI, {{"FUNCTION_TARGET", "greet"}});
  auto hello = RoundTrip(s.port, Get("/hello/Bo"), After(5s));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->body, "Hello, Bo!\n");
  auto sum = RoundTrip(s.port, Post("/sum", R"({"numbers":[1]})"), After(5s));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->status, 404);
}

TEST(Drain, SigtermLetsTheRequestInFlightFinish) {
  TempDir out("ofn-drain");
  Server s = Launch(OFN_SLEEP, {{"FUNCTION_OUTPUT_FILE", out.Sub("out.json")}});
  auto conn = RawConnection::Connect(s.port, After(5s));
  ASSERT_TRUE(conn.ok());
  // A first answer proves the server holds the connection; the second request
  // (a one-second call) is in its socket buffer when SIGTERM lands.
  ASSERT_TRUE(conn->Send(Post("/", "early").Serialize(), After(5s)).ok());
  ASSERT_TRUE(conn->ReadResponse(After(5s)).ok());
  ASSERT_TRUE(conn->Send(Post("/", "late").Serialize(), After(5s)).ok());
  ASSERT_TRUE(s.process->Signal(SIGTERM).ok());
  auto r = conn->ReadResponse(After(10s));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "late");
  EXPECT_EQ(r->Header("Connection"), "close");
  auto st = s.process->Wait(After(10s));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->ToString();
}

}  // namespace
}  // namespace ofn::testing

#include "build/source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

using namespace std::chrono_literals;

testing::ToolRun Cmd(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  return testing::RunTool(argv, timeout);
}
using ofn::build::testing::ProcessWith;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;
namespace fs = std::filesystem;


class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = BuildLog::Open(dir_.Sub("build.log"));
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    env_.log = log_.get();
    ASSERT_EQ(::mkdir(dir_.Sub("work").c_str(), 0755), 0);
  }
  std::string Work() const { return dir_.Sub("work"); }
  std::string Log() const { return ReadFile(dir_.Sub("build.log")).value_or(""); }
  void Git(const std::vector<std::string>& args, const std::string& repo, std::string* out = nullptr) {
    std::vector<std::string> argv = {"git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = Cmd(argv, 30s);
    ASSERT_TRUE(r.ok()) << r.Describe();
    if (out != nullptr) *out = r.out.substr(0, r.out.find('\n'));
  }
  // A repository: fn/a.txt "v1" (commit 1, tag v1), then "v2" on main
  // (commit 2) and "dev" on branch dev.
  void MakeRepo(const std::string& repo) {
    ASSERT_EQ(::mkdir(repo.c_str(), 0755), 0);
    Git({"init", "-q", "-b", "main"}, repo);
    ASSERT_EQ(::mkdir((repo + "/fn").c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(repo + "/fn/a.txt", "v1").ok());
    Git({"add", "."}, repo);
    Git({"commit", "-q", "-m", "one"}, repo);
    Git({"tag", "v1"}, repo);
    Git({"rev-parse", "HEAD"}, repo, &c1_);
    ASSERT_TRUE(WriteFile(repo + "/fn/a.txt", "v2").ok());
    Git({"commit", "-q", "-am", "two"}, repo);
    Git({"rev-parse", "HEAD"}, repo, &c2_);
    Git({"checkout", "-q", "-b", "dev"}, repo);
    ASSERT_TRUE(WriteFile(repo + "/fn/a.txt", "dev").ok());
    Git({"commit", "-q", "-am", "dev"}, repo);
    Git({"checkout", "-q", "main"}, repo);
  }

  TempDir dir_{"ofn-source"};
  std::unique_ptr<BuildLog> log_;
  BuildEnv env_;
  std::string c1_, c2_;
};

TEST_F(SourceTest, LocalDirectoryIsCopiedWithModesAndWithoutGit) {
  const std::string src = dir_.Sub("fn");
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((src + "/.git").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(src + "/run.sh", "#!/bin/sh\n").ok());
  ASSERT_EQ(::chmod((src + "/run.sh").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(src + "/sub/x", "x").ok());
  ASSERT_EQ(::symlink("sub/x", (src + "/link").c_str()), 0);
  auto tree = FetchSource({.url = src}, Work(), env_);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->context, fs::canonical(Work() + "/src").string());
  EXPECT_TRUE(tree->revision.empty());
  EXPECT_EQ(ReadFile(tree->context + "/sub/x"), "x");
  EXPECT_EQ(fs::read_symlink(tree->context + "/link"), "sub/x");
  EXPECT_FALSE(fs::exists(tree->context + "/.git"));
  struct stat st {};
  ASSERT_EQ(::stat((tree->context + "/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::stat((tree->context + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // file:// of a plain directory is the same thing.
  ASSERT_EQ(::mkdir(dir_.Sub("work2").c_str(), 0755), 0);
  auto t2 = FetchSource({.url = "file://" + src, .revision = "", .source_sub_path = "sub"}, dir_.Sub("work2"), env_);
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_EQ(t2->context, fs::canonical(dir_.Sub("work2") + "/src/sub").string());
}

TEST_F(SourceTest, BadUrlsAndSubPaths) {
  const std::string src = dir_.Sub("fn");
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  auto code = [&](const SourceSpec& s) { return FetchSource(s, Work(), env_).status(); };
  EXPECT_EQ(code({.url = "-uhttps://x"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.url = "relative/dir"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.url = "ftp://host/x"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.url = dir_.Sub("none")}).code(), StatusCode::kNotFound);
  Status dots = code({.url = src, .revision = "", .source_sub_path = "a/../../etc"});
  EXPECT_EQ(dots.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dots.message().find("'..'"), std::string::npos) << dots.ToString();
  EXPECT_EQ(code({.url = src, .revision = "", .source_sub_path = "/etc"}).code(), StatusCode::kInvalidArgument);
  Status rev = code({.url = src, .revision = "v1", .source_sub_path = ""});
  EXPECT_EQ(rev.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rev.message().find("needs a git repository"), std::string::npos) << rev.ToString();
  EXPECT_EQ(code({.url = src, .revision = "", .source_sub_path = "missing"}).code(), StatusCode::kNotFound);
}

TEST_F(SourceTest, SymlinksEscapingTheContextAreErrors) {
  struct Case {
    std::string name, target;
  };
  for (const Case& c : {Case{"x", "../../etc"}, Case{"abs", "/etc/passwd"}, Case{"up", "../.."}}) {
    SCOPED_TRACE(c.name);
    TempDir d("ofn-symlink");
    ASSERT_EQ(::mkdir(d.Sub("fn").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(d.Sub("fn/src").c_str(), 0755), 0);
    ASSERT_EQ(::symlink(c.target.c_str(), d.Sub("fn/src/" + c.name).c_str()), 0);
    ASSERT_EQ(::mkdir(d.Sub("work").c_str(), 0755), 0);
    auto r = FetchSource({.url = d.Sub("fn")}, d.Sub("work"), env_);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "build context: src/" + c.name + " -> " + c.target + ": escapes the context");
  }
  // Lexically inside, really outside: r -> . then x -> r/..
  TempDir d("ofn-symlink");
  ASSERT_EQ(::mkdir(d.Sub("fn").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(".", d.Sub("fn/r").c_str()), 0);
  ASSERT_EQ(::symlink("r/..", d.Sub("fn/x").c_str()), 0);
  EXPECT_EQ(CheckContextSymlinks(d.Sub("fn")).code(), StatusCode::kInvalidArgument);
  // A sub-path that is itself a link out of the source.
  TempDir e("ofn-symlink");
  ASSERT_EQ(::mkdir(e.Sub("fn").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc", e.Sub("fn/ctx").c_str()), 0);
  ASSERT_EQ(::mkdir(e.Sub("work").c_str(), 0755), 0);
  auto r = FetchSource({.url = e.Sub("fn"), .revision = "", .source_sub_path = "ctx"}, e.Sub("work"), env_);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("escapes the context"), std::string::npos) << r.status().ToString();
  // Links that stay inside are fine.
  TempDir f("ofn-symlink");
  ASSERT_EQ(::mkdir(f.Sub("fn").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(f.Sub("fn/a").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../b", f.Sub("fn/a/up").c_str()), 0);
  ASSERT_EQ(::symlink("a", f.Sub("fn/dir").c_str()), 0);
  EXPECT_TRUE(CheckContextSymlinks(f.Sub("fn")).ok());
}

TEST_F(SourceTest, GitRevisions) {
  const std::string repo = dir_.Sub("repo");
  MakeRepo(repo);
  ASSERT_FALSE(HasFailure());
  struct Case {
    std::string revision, want_content, want_commit;
  };
  std::vector<Case> cases = {{"", "v2", c2_},        {"v1", "v1", c1_},    {c1_, "v1", c1_},
                             {c1_.substr(0, 10), "v1", c1_}, {"dev", "dev", ""}, {"main", "v2", c2_}};
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE("revision \"" + c.revision + "\"");
    const std::string work = dir_.Sub("w" + std::to_string(n++));
    ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
    auto tree = FetchSource({.url = "file://" + repo, .revision = c.revision, .source_sub_path = "fn"}, work, env_);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString() << "\n" << Log();
    EXPECT_EQ(ReadFile(tree->context + "/a.txt"), c.want_content);
    EXPECT_EQ(tree->revision.size(), 40u);
    if (!c.want_commit.empty()) {
      EXPECT_EQ(tree->revision, c.want_commit);
    }
    EXPECT_FALSE(fs::exists(tree->root + "/.git"));
  }
  // An absolute path of a repository with a revision is cloned too.
  ASSERT_EQ(::mkdir(dir_.Sub("abs").c_str(), 0755), 0);
  auto abs = FetchSource({.url = repo, .revision = "v1", .source_sub_path = ""}, dir_.Sub("abs"), env_);
  ASSERT_TRUE(abs.ok()) << abs.status().ToString();
  EXPECT_EQ(abs->revision, c1_);

  ASSERT_EQ(::mkdir(dir_.Sub("bad").c_str(), 0755), 0);
  auto missing = FetchSource({.url = "file://" + repo, .revision = "nope", .source_sub_path = ""}, dir_.Sub("bad"), env_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_EQ(FetchSource({.url = "file://" + repo, .revision = "--upload-pack=x", .source_sub_path = ""},
                        dir_.Sub("bad"), env_)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  ASSERT_EQ(::mkdir(dir_.Sub("none").c_str(), 0755), 0);
  auto none = FetchSource({.url = "file://" + dir_.Sub("no-repo") + "/.git"}, dir_.Sub("none"), env_);
  EXPECT_FALSE(none.ok());
}

TEST_F(SourceTest, RunToolAppendsToTheLogAndReportsExitCodes) {
  auto rc = RunTool(env_, {.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}, .env = {}, .cwd = "", .stdout_path = ""});
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(*rc, 3);
  EXPECT_EQ(Log(), "out\nerr\n");
  EXPECT_EQ(log_->Tail(0, 1), "err");
  auto env = RunTool(env_, {.argv = {"sh", "-c", "echo $OFN_X"}, .env = {{"OFN_X", "y"}}, .cwd = "", .stdout_path = ""});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(log_->Tail(0, 1), "y");
  EXPECT_EQ(RunTool(env_, {.argv = {"no-such-tool-ofn"}, .env = {}, .cwd = "", .stdout_path = ""}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(SourceTest, CancelAndDeadlineKillTheWholeTree) {
  // The grandchild makes its own session, as ninja's commands make their own
  // process groups: killing the tool's group alone would miss it.
  const std::string marker = "1234.5" + std::to_string(::getpid() % 1000);
  ToolCall call{.argv = {"sh", "-c", "setsid sleep " + marker + " & sleep " + marker + "; wait"},
                .env = {}, .cwd = "", .stdout_path = ""};
  BuildEnv env = env_;
  env.cancel = CancelToken();  // copies share the token
  std::thread canceller([&] {
    for (int i = 0; i < 400 && !ProcessWith({"sleep " + marker}); ++i) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);
    env.cancel.Cancel();
  });
  auto start = std::chrono::steady_clock::now();
  auto rc = RunTool(env, call);
  canceller.join();
  EXPECT_EQ(rc.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(rc.status().message(), "build cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  for (int i = 0; i < 100 && ProcessWith({"sleep " + marker}); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessWith({"sleep " + marker})) << "a process of the cancelled tool is still running";

  BuildEnv timed = env_;
  timed.cancel = CancelToken();
  timed.timeout = 300ms;
  timed.deadline = std::chrono::steady_clock::now() + timed.timeout;
  start = std::chrono::steady_clock::now();
  rc = RunTool(timed, call);
  EXPECT_EQ(rc.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(rc.status().message(), "build timed out after 0.3s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  for (int i = 0; i < 100 && ProcessWith({"sleep " + marker}); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(ProcessWith({"sleep " + marker}));
}

}  // namespace
}  // namespace ofn::build

#include "framework/router.h"

#include <gtest/gtest.h>

namespace ofn {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(PathPattern, EmptyMatchesEverything) {
  auto p = PathPattern::Compile("");
  ASSERT_TRUE(p.ok());
  Params params;
  EXPECT_TRUE(p->Match("/", &params));
  EXPECT_TRUE(p->Match("/any/thing", &params));
  EXPECT_TRUE(params.empty());
}

TEST(PathPattern, CapturesDecodedSegments) {
  auto p = PathPattern::Compile("/hello/{name}/x");
  ASSERT_TRUE(p.ok());
  Params params;
  ASSERT_TRUE(p->Match("/hello/John%20Doe/x", &params));
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>{"name", "John Doe"}));
  params.clear();
  EXPECT_TRUE(p->Match("/hello/a/x/", &params)) << "one trailing slash is ignored";
  params.clear();
  EXPECT_FALSE(p->Match("/hello/a", &params));
  EXPECT_FALSE(p->Match("/hello//x", &params));
  EXPECT_FALSE(p->Match("/hello/a/x/y", &params));
  EXPECT_TRUE(params.empty()) << "no partial captures on a miss";
}

TEST(PathPattern, RestParameter) {
  auto p = PathPattern::Compile("/files/{path...}");
  ASSERT_TRUE(p.ok());
  Params params;
  ASSERT_TRUE(p->Match("/files/a/b/c.txt", &params));
  EXPECT_EQ(params.at(0).second, "a/b/c.txt");
  params.clear();
  ASSERT_TRUE(p->Match("/files", &params));
  EXPECT_EQ(params.at(0).second, "");
}

TEST(PathPattern, RootOnly) {
  auto p = PathPattern::Compile("/");
  ASSERT_TRUE(p.ok());
  Params params;
  EXPECT_TRUE(p->Match("/", &params));
  EXPECT_FALSE(p->Match("/a", &params));
}

TEST(PathPattern, RejectsBadPatterns) {
  for (const char* bad : {"nope", "/a//b", "/{x", "/{}", "/a{b}", "/{rest...}/tail", "/{bad name}"}) {
    auto p = PathPattern::Compile(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_NE(p.status().message().find(bad), std::string::npos) << p.status().message();
    }
  }
}

TEST(Router, MethodsAndOrder) {
  Router r;
  r.Add(*PathPattern::Compile("/a"), {"GET"}, 1);
  r.Add(*PathPattern::Compile("/a"), {"POST", "PUT"}, 2);
  r.Add(*PathPattern::Compile("/{x}"), {}, 3);
  EXPECT_EQ(r.Find("GET", "/a").index, 1);
  EXPECT_EQ(r.Find("PUT", "/a").index, 2);
  EXPECT_EQ(r.Find("DELETE", "/b").index, 3);
  Router only;
  only.Add(*PathPattern::Compile("/a"), {"GET", "HEAD"}, 1);
  auto m = only.Find("POST", "/a");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  EXPECT_EQ(only.Find("GET", "/b").outcome, Router::Outcome::kNotFound);
}

}  // namespace
}  // namespace ofn

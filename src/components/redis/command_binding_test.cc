#include "components/redis/command_binding.h"

#include <gtest/gtest.h>

#include "components/redis/redis_test_util.h"

namespace ofn::components::redis {
namespace {

using namespace testing;  // NOLINT: the helpers of redis_test_util.h

class CommandBindingTest : public RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    auto c = Create(Spec("bindings.redis", broker_.url));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_FALSE(c->pubsub || c->state || c->input);
    binding_ = c->output;
  }
  Result<std::optional<BindingResponse>> Invoke(const std::string& op, const std::string& data,
                                                std::map<std::string, std::string> metadata) {
    return binding_->Invoke({op, data, std::move(metadata)});
  }

  std::shared_ptr<OutputBinding> binding_;
};

TEST_F(CommandBindingTest, Operations) {
  EXPECT_EQ(binding_->Operations(), (std::vector<std::string>{"create", "get", "delete", "increment"}));
}

TEST_F(CommandBindingTest, CreateGetDelete) {
  auto created = Invoke("create", "{\"n\":1}", {{"key", "k"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->has_value());
  EXPECT_EQ(ReplyText(Raw({"GET", "k"}).get()), "{\"n\":1}");
  EXPECT_EQ(Raw({"TTL", "k"})->integer, -1);

  auto got = Invoke("get", "", {{"key", "k"}});
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->data, "{\"n\":1}");

  ASSERT_TRUE(Invoke("delete", "", {{"key", "k"}}).ok());
  auto missing = Invoke("get", "", {{"key", "k"}});
  ASSERT_TRUE(missing.ok() && missing->has_value());
  EXPECT_EQ((*missing)->data, "");
}

TEST_F(CommandBindingTest, CreateWithTtl) {
  ASSERT_TRUE(Invoke("create", "v", {{"key", "k"}, {"ttlInSeconds", "100"}}).ok());
  long long ttl = Raw({"TTL", "k"})->integer;
  EXPECT_GT(ttl, 90);
  EXPECT_LE(ttl, 100);
  ASSERT_TRUE(Invoke("create", "v", {{"key", "k2"}, {"ttl", "50"}}).ok());
  EXPECT_GT(Raw({"TTL", "k2"})->integer, 40);
  auto bad = Invoke("create", "v", {{"key", "k"}, {"ttlInSeconds", "soon"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ttlInSeconds"), std::string::npos);
}

TEST_F(CommandBindingTest, GetWithDeleteRemovesTheKey) {
  ASSERT_TRUE(Invoke("create", "once", {{"key", "k"}}).ok());
  auto got = Invoke("get", "", {{"key", "k"}, {"delete", "true"}});
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->data, "once");
  EXPECT_EQ(Raw({"EXISTS", "k"})->integer, 0);
}

TEST_F(CommandBindingTest, Increment) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Invoke("increment", "", {{"key", "n"}}).ok());
  EXPECT_EQ(ReplyText(Raw({"GET", "n"}).get()), "3");
  ASSERT_TRUE(Invoke("increment", "", {{"key", "n"}, {"ttlInSeconds", "60"}}).ok());
  EXPECT_EQ(ReplyText(Raw({"GET", "n"}).get()), "4");
  EXPECT_GT(Raw({"TTL", "n"})->integer, 0);
  Raw({"SET", "text", "abc"});
  auto bad = Invoke("increment", "", {{"key", "text"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("INCR text"), std::string::npos) << bad.status().message();
}

TEST_F(CommandBindingTest, KeyIsRequired) {
  for (const char* op : {"create", "get", "delete", "increment"}) {
    auto r = Invoke(op, "x", {});
    ASSERT_FALSE(r.ok()) << op;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("metadata key"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(Invoke("list", "", {{"key", "k"}}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommandBindingTest, ServerDownIsUnavailableAndRecovers) {
  broker_.Kill();
  EXPECT_EQ(Invoke("create", "v", {{"key", "k"}}).status().code(), StatusCode::kUnavailable);
  StartBroker(broker_.port);
  EXPECT_TRUE(Invoke("create", "v", {{"key", "k"}}).ok());
}

TEST_F(CommandBindingTest, UsesPasswordUsernameAndDatabase) {
  Raw({"ACL", "SETUSER", "fn", "on", ">s3cret", "~*", "+@all"});
  Raw({"CONFIG", "SET", "requirepass", "topsecret"});
  auto anonymous = Create(Spec("bindings.redis", broker_.url));
  ASSERT_TRUE(anonymous.ok());
  auto refused = anonymous->output->Invoke({"create", "v", {{"key", "k"}}});
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("redisPassword"), std::string::npos);

  auto user = Create(
      Spec("bindings.redis", broker_.url, {{"redisUsername", "fn"}, {"redisPassword", "s3cret"}, {"redisDB", "3"}}));
  ASSERT_TRUE(user.ok());
  auto done = user->output->Invoke({"create", "in-db-3", {{"key", "k"}}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto wrong = Create(Spec("bindings.redis", broker_.url, {{"redisPassword", "nope"}}));
  EXPECT_EQ(wrong->output->Invoke({"get", "", {{"key", "k"}}}).status().code(), StatusCode::kUnauthenticated);

  auto admin = Create(Spec("bindings.redis", broker_.url, {{"redisPassword", "topsecret"}, {"redisDB", "3"}}));
  auto got = admin->output->Invoke({"get", "", {{"key", "k"}}});
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->data, "in-db-3");
  auto db0 = Create(Spec("bindings.redis", broker_.url, {{"redisPassword", "topsecret"}}));
  auto none = db0->output->Invoke({"get", "", {{"key", "k"}}});
  ASSERT_TRUE(none.ok() && none->has_value());
  EXPECT_EQ((*none)->data, "");
}

}  // namespace
}  // namespace ofn::components::redis

#include "components/mqtt/options.h"

#include <gtest/gtest.h>

#include "components/mqtt/mqtt.h"

namespace ofn::components::mqtt {
namespace {

ComponentSpec Spec(std::string type, std::map<std::string, std::string> metadata) {
  ComponentSpec spec;
  spec.name = "mq";
  spec.type = std::move(type);
  spec.app_id = "app";
  for (auto& [k, v] : metadata) spec.metadata.Set(k, v);
  return spec;
}

Status CreateError(const ComponentSpec& spec) {
  Registry registry;
  Register(registry);
  auto made = registry.Create(spec);
  return made.ok() ? Status::Ok() : made.status();
}

TEST(BrokerUrl, ParsesHostPortAndCredentials) {
  auto url = ParseBrokerUrl("tcp://us%40er:p%3Ass@broker.local:1884");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "broker.local");
  EXPECT_EQ(url->port, 1884);
  EXPECT_EQ(url->username, "us@er");
  EXPECT_EQ(url->password, "p:ss");

  auto plain = ParseBrokerUrl("mqtt://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 1883);
  EXPECT_EQ(plain->username, "");

  auto v6 = ParseBrokerUrl("tcp://[::1]:1999/ignored");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 1999);
}

TEST(BrokerUrl, RejectsBadUrlsAndTls) {
  for (const char* bad : {"localhost:1883", "http://h:1", "tcp://:1883", "tcp://h:0", "tcp://h:x", "tcp://[::1"}) {
    auto url = ParseBrokerUrl(bad);
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(url.status().message().find("metadata url"), std::string::npos) << bad;
  }
  for (const char* tls : {"ssl://h:8883", "mqtts://h", "tls://h", "tcps://h"}) {
    auto url = ParseBrokerUrl(tls);
    EXPECT_EQ(url.status().code(), StatusCode::kUnimplemented) << tls;
    EXPECT_NE(url.status().message().find("TLS"), std::string::npos) << tls;
  }
}

TEST(PubSubOptions, DefaultsFollowDapr) {
  auto o = ParsePubSubOptions(Spec("pubsub.mqtt3", {{"url", "tcp://h:1"}}));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->consumer_id, "app");
  EXPECT_EQ(o->qos, 1);
  EXPECT_FALSE(o->retain);
  EXPECT_FALSE(o->clean_session);

  auto set = ParsePubSubOptions(
      Spec("pubsub.mqtt3",
           {{"URL", "tcp://h:1"}, {"consumerid", "c"}, {"qos", "2"}, {"retain", "true"}, {"cleanSession", "True"}}));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->consumer_id, "c");
  EXPECT_EQ(set->qos, 2);
  EXPECT_TRUE(set->retain);
  EXPECT_TRUE(set->clean_session);
}

TEST(Registry, MissingOrBadMetadataNamesTheKey) {
  struct Case {
    ComponentSpec spec;
    StatusCode code;
    std::string key;
  };
  std::vector<Case> cases = {
      {Spec("pubsub.mqtt3", {}), StatusCode::kInvalidArgument, "metadata url is required"},
      {Spec("pubsub.mqtt", {{"url", "tcp://h:1"}, {"qos", "3"}}), StatusCode::kInvalidArgument, "metadata qos"},
      {Spec("pubsub.mqtt3", {{"url", "tcp://h:1"}, {"retain", "maybe"}}), StatusCode::kInvalidArgument,
       "metadata retain"},
      {Spec("pubsub.mqtt3", {{"url", "ssl://h:8883"}}), StatusCode::kUnimplemented, "TLS"},
      {Spec("bindings.mqtt3", {{"topic", "t"}, {"consumerID", "c"}}), StatusCode::kInvalidArgument,
       "metadata url is required"},
      {Spec("bindings.mqtt", {{"url", "tcp://h:1"}, {"consumerID", "c"}}), StatusCode::kInvalidArgument,
       "metadata topic is required"},
      {Spec("bindings.mqtt3", {{"url", "tcp://h:1"}, {"topic", "t"}}), StatusCode::kInvalidArgument,
       "metadata consumerID is required"},
  };
  for (const auto& c : cases) {
    Status s = CreateError(c.spec);
    EXPECT_EQ(s.code(), c.code) << c.spec.type << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.key), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(c.spec.type + " component mq"), std::string::npos) << s.ToString();
  }
}

TEST(Registry, BindingHasBothDirectionsAndPubSubOnlyPubSub) {
  Registry registry;
  Register(registry);
  auto binding = registry.Create(Spec("bindings.mqtt", {{"url", "tcp://h:1"}, {"topic", "t"}, {"consumerID", "c"}}));
  ASSERT_TRUE(binding.ok()) << binding.status().ToString();
  EXPECT_TRUE(binding->input && binding->output);
  EXPECT_FALSE(binding->pubsub);
  EXPECT_EQ(binding->output->Operations(), std::vector<std::string>{"create"});
  auto pubsub = registry.Create(Spec("pubsub.mqtt", {{"url", "tcp://h:1"}}));
  ASSERT_TRUE(pubsub.ok()) << pubsub.status().ToString();
  EXPECT_TRUE(pubsub->pubsub);
  EXPECT_FALSE(pubsub->input || pubsub->output);
}

}  // namespace
}  // namespace ofn::components::mqtt

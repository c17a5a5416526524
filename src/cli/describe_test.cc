#include "cli/describe.h"

#include <gtest/gtest.h>

namespace ofn::cli {
namespace {

using nlohmann::json;

TEST(TitleCase, LikeKubectlDescribe) {
  EXPECT_EQ(TitleCase("creationTimestamp"), "Creation Timestamp");
  EXPECT_EQ(TitleCase("uid"), "UID");
  EXPECT_EQ(TitleCase("apiVersion"), "API Version");
  EXPECT_EQ(TitleCase("readyReplicas"), "Ready Replicas");
  EXPECT_EQ(TitleCase("srcRepo"), "Src Repo");
  EXPECT_EQ(TitleCase("HTTPPort"), "HTTP Port");
  EXPECT_EQ(TitleCase("url"), "URL");
  EXPECT_EQ(TitleCase("min_replicas"), "Min Replicas");
  EXPECT_EQ(TitleCase("x"), "X");
  EXPECT_EQ(TitleCase("autoscaling.knative.dev/target"), "autoscaling.knative.dev/target");
}

TEST(Describe, FunctionSections) {
  json fn = json::parse(R"({"apiVersion": "core.openfunction.io/v1beta2", "kind": "Function",
    "metadata": {"name": "hello", "namespace": "default", "uid": "u-1", "generation": 2, "resourceVersion": "7",
                 "creationTimestamp": "2026-11-26T14:00:00Z", "labels": {"app": "hello", "tier": "web"}},
    "spec": {"version": "v2.0.0", "image": "openfunction/hello:latest",
             "build": {"builder": "openfunction/builder-go:latest", "srcRepo": {"url": "https://x/y.git"}},
             "serving": {"triggers": {"http": {"port": 8080}},
                         "scaleOptions": {"minReplicas": 0, "maxReplicas": 5},
                         "template": {"containers": [{"name": "function", "command": ["/hello"]}]}}},
    "status": {"serving": {"state": "Running", "replicas": 1, "readyReplicas": 1, "resourceRef": "default-hello"},
               "build": {"state": "Skipped", "reason": "NoBuilder"},
               "addresses": [{"type": "Internal", "value": "http://127.0.0.1:8080/default/hello"}],
               "conditions": [{"type": "Ready", "status": "True", "reason": "Serving"}],
               "observedGeneration": 2}})");
  std::string d = Describe(fn, *ParseTimestamp("2026-11-26T14:05:00Z"));
  for (const char* want : {
           "Name:         hello\n", "Namespace:    default\n", "Labels:       app=hello\n              tier=web\n",
           "Annotations:  <none>\n", "API Version:  core.openfunction.io/v1beta2\n", "Kind:         Function\n",
           "  Creation Timestamp:  2026-11-26T14:00:00Z (5m ago)\n", "  UID:                 u-1\n",
           "Spec:\n  Version:  v2.0.0\n  Image:    openfunction/hello:latest\n",
           "    Builder:  openfunction/builder-go:latest\n", "      URL:  https://x/y.git\n",
           "      HTTP:\n        Port:  8080\n", "      Min Replicas:  0\n", "      Command:  /hello\n",
           "Status:\n  Serving:\n    State:           Running\n    Reason:\n    Message:\n"
           "    Replicas:        1\n    Ready Replicas:  1\n    Resource Ref:    default-hello\n", "  Build:\n    State:    Skipped\n    Reason:   NoBuilder\n    Message:\n",
           "  Addresses:\n    Internal:  http://127.0.0.1:8080/default/hello\n",
           "  Conditions:\n    Type    Status   Reason    Message   Last Transition Time\n",
           "    Ready   True     Serving\n", "  Observed Generation:  2\n", "Events:  <none>\n"}) {
    EXPECT_NE(d.find(want), std::string::npos) << "missing:\n" << want << "\nin:\n" << d;
  }
}

TEST(Describe, OtherKindsPrintTheWholeSpec) {
  json gw = json::parse(R"({"apiVersion": "networking.openfunction.io/v1alpha1", "kind": "Gateway",
    "metadata": {"name": "gw", "namespace": "default"},
    "spec": {"domain": "ofn.local", "gatewayDef": {"name": "x"}, "listeners": [{"name": "http", "port": 8080}]}})");
  std::string d = Describe(gw, SysTime());
  EXPECT_NE(d.find("Spec:\n  Domain:  ofn.local\n  Gateway Def:\n    Name:  x\n  Listeners:\n    - Name:  http\n"
                   "      Port:  8080\n"),
            std::string::npos)
      << d;
  EXPECT_EQ(d.find("Status:"), std::string::npos);
}

TEST(Describe, TriggerWithStatsListsEachSubscriber) {
  json trigger = json::parse(R"({"apiVersion": "events.openfunction.io/v1alpha1", "kind": "Trigger",
    "metadata": {"name": "alerts", "namespace": "default"},
    "spec": {"eventBus": "default", "inputs": {"hook": {"eventSource": "hooks", "event": "push"}},
             "subscribers": [{"condition": "hook && data.level == \"error\"", "sink": {"uri": "http://x/"}}]},
    "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "TriggerIsReady", "message": "",
                               "timestamp": "2026-11-26T14:00:01Z"}],
               "bus": "default", "topics": ["default-hooks-push"]}})");
  json stats = json::parse(R"({"items": [
    {"condition": "hook && data.level == \"error\"", "destination": "sink http://127.0.0.1:8080/default/alert/",
     "received": 10, "matched": 4, "filtered": 6, "invalid": 0, "published": 0, "delivered": 3, "retried": 2,
     "deadLettered": 1, "dropped": 0, "inFlight": 0},
    {"condition": "", "destination": "topic all-hooks", "received": 10, "matched": 10, "filtered": 0, "invalid": 0,
     "published": 10, "delivered": 0, "retried": 0, "deadLettered": 0, "dropped": 0, "inFlight": 0}]})");
  std::string d = Describe(trigger, SysTime(), stats);
  const std::string want =
      "Subscribers:\n"
      "  0:\n"
      "    Condition:      hook && data.level == \"error\"\n"
      "    Destination:    sink http://127.0.0.1:8080/default/alert/\n"
      "    Received:       10\n"
      "    Matched:        4\n"
      "    Filtered:       6\n"
      "    Invalid:        0\n"
      "    Published:      0\n"
      "    Delivered:      3\n"
      "    Retried:        2\n"
      "    Dead Lettered:  1\n"
      "    Dropped:        0\n"
      "    In Flight:      0\n"
      "  1:\n"
      "    Condition:\n"
      "    Destination:    topic all-hooks\n";
  EXPECT_NE(d.find(want), std::string::npos) << d;
  // After the status (its conditions show the controller's timestamp), before kubectl's closing Events line.
  EXPECT_LT(d.find("\nStatus:\n"), d.find("\nSubscribers:\n"));
  EXPECT_NE(d.find("    Ready   True     TriggerIsReady             2026-11-26T14:00:01Z\n"), std::string::npos) << d;
  EXPECT_NE(d.find("  Topics:  default-hooks-push\n"), std::string::npos) << d;
  EXPECT_TRUE(d.ends_with("    In Flight:      0\nEvents:  <none>\n")) << d;

  // No stats (an older server): the rest as before, no Subscribers section.
  std::string plain = Describe(trigger, SysTime());
  EXPECT_EQ(plain.find("\nSubscribers:"), std::string::npos) << plain;
  EXPECT_TRUE(plain.ends_with("Events:  <none>\n")) << plain;
}

TEST(Describe, EventSourceWithStatsListsEachEvent) {
  json source = json::parse(R"({"apiVersion": "events.openfunction.io/v1alpha1", "kind": "EventSource",
    "metadata": {"name": "hooks", "namespace": "default"},
    "spec": {"eventBus": "default", "webhook": {"push": {"path": "/push"}}},
    "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "EventSourceIsReady"}]}})");
  json items = json::parse(R"([
    {"event": "push", "kind": "webhook", "received": 5, "published": 4, "publishFailed": 1, "delivered": 0,
     "dropped": 0, "rejected": 2}])");
  std::string d = Describe(source, SysTime(), items);  // the items array alone is accepted too
  const std::string want =
      "Events:\n"
      "  webhook/push:\n"
      "    Received:        5\n"
      "    Published:       4\n"
      "    Publish Failed:  1\n"
      "    Delivered:       0\n"
      "    Dropped:         0\n"
      "    Rejected:        2\n";
  EXPECT_TRUE(d.ends_with(want)) << d;  // it takes the place of kubectl's "Events:  <none>"
  EXPECT_EQ(d.find("Events:  <none>"), std::string::npos) << d;

  std::string none = Describe(source, SysTime(), json::parse(R"({"items": []})"));
  EXPECT_TRUE(none.ends_with("Events:\n  <none>\n")) << none;
}

}  // namespace
}  // namespace ofn::cli

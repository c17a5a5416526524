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

}  // namespace
}  // namespace ofn::cli

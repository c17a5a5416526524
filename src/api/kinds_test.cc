#include "api/kinds.h"

#include <gtest/gtest.h>

namespace ofn::api {
namespace {

TEST(LookupKind, AliasesLikeKubectl) {
  for (const char* name : {"Function", "function", "functions", "fn", "FN", "Functions",
                           "functions.core.openfunction.io", "function.core.openfunction.io"}) {
    const KindName* k = LookupKind(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->kind, "Function") << name;
  }
  for (const char* name : {"gateway", "gateways", "gw", "Gateway", "gateways.networking.openfunction.io"}) {
    const KindName* k = LookupKind(name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_EQ(k->kind, "Gateway") << name;
  }
  EXPECT_EQ(LookupKind("es")->kind, "EventSource");
  EXPECT_EQ(LookupKind("eb")->kind, "EventBus");
  EXPECT_EQ(LookupKind("ceb")->kind, "ClusterEventBus");
  EXPECT_FALSE(LookupKind("ceb")->namespaced);
  EXPECT_EQ(LookupKind("triggers")->kind, "Trigger");
  EXPECT_EQ(LookupKind("components")->kind, "Component");
  EXPECT_EQ(LookupKind("pods"), nullptr);
  EXPECT_EQ(LookupKind(""), nullptr);
  EXPECT_EQ(LookupKind("functions.dapr.io"), nullptr);  // the group must match
}

TEST(KindName, KubectlNames) {
  EXPECT_EQ(LookupKind("fn")->Qualified(), "function.core.openfunction.io");
  EXPECT_EQ(LookupKind("fn")->ApiVersion(), "core.openfunction.io/v1beta2");
  EXPECT_EQ(LookupKind("gw")->Qualified(), "gateway.networking.openfunction.io");
  EXPECT_EQ(QualifiedResource("core.openfunction.io/v1beta1", "Function"), "function.core.openfunction.io");
  EXPECT_EQ(QualifiedResource("v1", "ConfigMap"), "configmap");
}

}  // namespace
}  // namespace ofn::api

#include "runtime/cgroup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "support/process.h"

namespace ofn::runtime {
namespace {

using ofn::testing::ReadFile;
using ofn::testing::TempDir;

TEST(CgroupTest, OwnPathFromProcSelfCgroup) {
  // A hybrid host (v1 controllers + the unified hierarchy) and a pure v2 one.
  EXPECT_EQ(OwnCgroupV2Path("4:memory:/sandbox\n1:cpu:/\n0::/\n"), "/");
  EXPECT_EQ(OwnCgroupV2Path("0::/system.slice/ofn.service\n"), "/system.slice/ofn.service");
  EXPECT_EQ(OwnCgroupV2Path("0::/a"), "/a");
  EXPECT_FALSE(OwnCgroupV2Path("4:memory:/x\n1:cpu:/\n").has_value()) << "v1 only";
  EXPECT_FALSE(OwnCgroupV2Path("").has_value());
}

TEST(CgroupTest, PlanUsesCgroupControllersWhenDelegated) {
  CgroupSupport full{"/sys/fs/cgroup/ofn/1", true, true, ""};
  LimitPlan p = PlanLimits(full, Resources{64 << 20, 500});
  EXPECT_TRUE(p.cgroup);
  EXPECT_EQ(p.memory, LimitMechanism::kCgroupV2);
  EXPECT_EQ(p.cpu, LimitMechanism::kCgroupV2);
}

TEST(CgroupTest, PlanFallsBackToRlimitAndReportsCpuNotEnforced) {
  // No cgroups at all.
  LimitPlan none = PlanLimits(CgroupSupport{}, Resources{64 << 20, 500});
  EXPECT_FALSE(none.cgroup);
  EXPECT_EQ(none.memory, LimitMechanism::kRlimit);
  EXPECT_EQ(none.cpu, LimitMechanism::kNotEnforced);
  // A cgroup without controllers (a hybrid host's unified hierarchy): still
  // one cgroup per instance (cgroup.kill), limits as without cgroups.
  CgroupSupport bare{"/sys/fs/cgroup/unified/ofn/1", false, false, "memory controller not available"};
  LimitPlan b = PlanLimits(bare, Resources{64 << 20, 500});
  EXPECT_TRUE(b.cgroup);
  EXPECT_EQ(b.memory, LimitMechanism::kRlimit);
  EXPECT_EQ(b.cpu, LimitMechanism::kNotEnforced);
  // Only memory delegated.
  CgroupSupport mem{"/x", true, false, ""};
  LimitPlan m = PlanLimits(mem, Resources{64 << 20, 500});
  EXPECT_EQ(m.memory, LimitMechanism::kCgroupV2);
  EXPECT_EQ(m.cpu, LimitMechanism::kNotEnforced);
}

TEST(CgroupTest, PlanWithoutLimitsAsksForNothing) {
  CgroupSupport full{"/x", true, true, ""};
  LimitPlan p = PlanLimits(full, Resources{});
  EXPECT_EQ(p.memory, LimitMechanism::kNone);
  EXPECT_EQ(p.cpu, LimitMechanism::kNone);
  LimitPlan q = PlanLimits(CgroupSupport{}, Resources{});
  EXPECT_EQ(q.memory, LimitMechanism::kNone);
  EXPECT_EQ(q.cpu, LimitMechanism::kNone);
}

TEST(CgroupTest, CpuMaxIsQuotaOverAHundredMilliseconds) {
  EXPECT_EQ(CpuMax(1000), "100000 100000");
  EXPECT_EQ(CpuMax(500), "50000 100000");
  EXPECT_EQ(CpuMax(2500), "250000 100000");
  EXPECT_EQ(CpuMax(1), "1000 100000") << "the kernel's minimum quota";
}

TEST(CgroupTest, CreateInstanceCgroupWritesTheLimitsOfThePlan) {
  // A plain directory stands in for the cgroup filesystem: the files written are what matters.
  TempDir dir;
  const std::string cg = dir.Sub("7-hello");
  LimitPlan plan{true, LimitMechanism::kCgroupV2, LimitMechanism::kCgroupV2};
  ASSERT_TRUE(CreateInstanceCgroup(cg, Resources{128 << 20, 250}, plan).ok());
  EXPECT_EQ(ReadFile(cg + "/memory.max").value_or(""), std::to_string(128 << 20));
  EXPECT_EQ(ReadFile(cg + "/cpu.max").value_or(""), "25000 100000");

  const std::string cg2 = dir.Sub("8-hello");
  LimitPlan rl{true, LimitMechanism::kRlimit, LimitMechanism::kNotEnforced};
  ASSERT_TRUE(CreateInstanceCgroup(cg2, Resources{128 << 20, 250}, rl).ok());
  EXPECT_FALSE(ReadFile(cg2 + "/memory.max").has_value());
  EXPECT_FALSE(ReadFile(cg2 + "/cpu.max").has_value());
}

TEST(CgroupTest, NoCgroup2MountMeansNoCgroups) {
  TempDir dir;
  CgroupSetupOptions opts;
  opts.mounts = {dir.path()};  // a tmpfs/ext4 directory, not cgroup2
  CgroupSupport s = SetUpCgroups(opts);
  EXPECT_TRUE(s.base.empty());
  EXPECT_NE(s.note.find("no cgroup2"), std::string::npos) << s.note;

  ASSERT_TRUE(ofn::testing::WriteFile(dir.Sub("cgroup"), "1:cpu:/\n").ok());
  opts.proc_self_cgroup = dir.Sub("cgroup");
  s = SetUpCgroups(opts);
  EXPECT_TRUE(s.base.empty());
  EXPECT_NE(s.note.find("no cgroup v2 entry"), std::string::npos) << s.note;
}

// What this host offers: runs on whatever is there and reports it.
TEST(CgroupTest, SetUpOnThisHost) {
  CgroupSupport s = SetUpCgroups();
  std::cout << "[          ] cgroups here: base=" << (s.base.empty() ? "(none)" : s.base)
            << " memory=" << s.memory << " cpu=" << s.cpu << " note=" << s.note << "\n";
  if (s.base.empty()) GTEST_SKIP() << "no writable cgroup2 hierarchy: " << s.note;
  struct stat st {};
  EXPECT_EQ(::stat(s.base.c_str(), &st), 0);
  EXPECT_NE(s.base.find("/ofn/" + std::to_string(::getpid())), std::string::npos);
  TearDownCgroups(s);
  EXPECT_NE(::stat(s.base.c_str(), &st), 0) << "torn down";
}

}  // namespace
}  // namespace ofn::runtime

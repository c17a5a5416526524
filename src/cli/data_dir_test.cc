#include "cli/data_dir.h"

#include <gtest/gtest.h>

#include <map>

namespace ofn::cli {
namespace {

GetEnvFn Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(DataDir, FlagThenEnvThenXdgThenHome) {
  auto all = Env({{"OFN_DATA_DIR", "/srv/ofn"}, {"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/u"}});
  EXPECT_EQ(ResolveDataDir("/flag", all), "/flag");
  EXPECT_EQ(ResolveDataDir("", all), "/srv/ofn");
  EXPECT_EQ(DefaultDataDir(Env({{"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/u"}})), "/xdg/ofn");
  EXPECT_EQ(DefaultDataDir(Env({{"HOME", "/home/u"}})), "/home/u/.local/share/ofn");
  // Empty values count as unset; a relative XDG_DATA_HOME is ignored (XDG spec).
  EXPECT_EQ(DefaultDataDir(Env({{"OFN_DATA_DIR", ""}, {"XDG_DATA_HOME", "rel"}, {"HOME", "/h"}})),
            "/h/.local/share/ofn");
  EXPECT_EQ(DefaultDataDir(Env({})), "./.local/share/ofn");
}

TEST(DataDir, SocketPath) {
  EXPECT_EQ(ControlSocketPath("/srv/ofn"), "/srv/ofn/ofn.sock");
  EXPECT_EQ(ControlSocketPath("/srv/ofn/"), "/srv/ofn/ofn.sock");
  EXPECT_EQ(ControlSocketPath("/"), "/ofn.sock");
}

}  // namespace
}  // namespace ofn::cli

#include "common/flags.h"

#include <gtest/gtest.h>

namespace ofn::flags {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"filename", 'f', FlagType::kList, "FILE", "files", ""},
    {"namespace", 'n', FlagType::kValue, "NS", "ns", "default"},
    {"all-namespaces", 'A', FlagType::kBool, "", "all", ""},
    {"verbose", 'v', FlagType::kBool, "", "verbose", ""},
    {"dry-run", 0, FlagType::kBool, "", "dry", ""},
};

ParsedArgs Parse(std::vector<std::string> args) {
  Result<ParsedArgs> r = ParseFlags(args, kSpecs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : ParsedArgs{};
}

std::string Error(std::vector<std::string> args) {
  Result<ParsedArgs> r = ParseFlags(args, kSpecs);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(ParseFlags, Spellings) {
  ParsedArgs a = Parse({"fn", "-n", "prod", "hello", "--dry-run", "-f", "a.yaml", "--filename=b.yaml", "-fc.yaml"});
  EXPECT_EQ(a.positionals, (std::vector<std::string>{"fn", "hello"}));
  EXPECT_EQ(a.Get("namespace"), "prod");
  EXPECT_TRUE(a.GetBool("dry-run"));
  EXPECT_EQ(a.GetAll("filename"), (std::vector<std::string>{"a.yaml", "b.yaml", "c.yaml"}));
  EXPECT_FALSE(a.Has("verbose"));
  EXPECT_EQ(a.Get("verbose", "x"), "x");

  ParsedArgs b = Parse({"--namespace=dev", "-nlast", "-Av", "--dry-run=false", "-", "--", "-n", "--x"});
  EXPECT_EQ(b.Get("namespace"), "last");  // the last one wins
  EXPECT_TRUE(b.GetBool("all-namespaces"));
  EXPECT_TRUE(b.GetBool("verbose"));
  EXPECT_TRUE(b.Has("dry-run"));
  EXPECT_FALSE(b.GetBool("dry-run"));
  EXPECT_EQ(b.positionals, (std::vector<std::string>{"-", "-n", "--x"}));  // "-" is stdin; "--" ends flags

  ParsedArgs c = Parse({"-An", "x", "-n=y"});  // a value flag at the end of a group takes the next word
  EXPECT_TRUE(c.GetBool("all-namespaces"));
  EXPECT_EQ(c.GetAll("namespace"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Parse({"--namespace", ""}).Get("namespace", "unset"), "");
}

TEST(ParseFlags, ErrorsInPflagWording) {
  EXPECT_EQ(Error({"--nope"}), "unknown flag: --nope");
  EXPECT_EQ(Error({"--nope=1"}), "unknown flag: --nope");
  EXPECT_EQ(Error({"-x"}), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(Error({"-Ax"}), "unknown shorthand flag: 'x' in -Ax");
  EXPECT_EQ(Error({"get", "-n"}), "flag needs an argument: 'n' in -n");
  EXPECT_EQ(Error({"--namespace"}), "flag needs an argument: --namespace");
  EXPECT_EQ(Error({"--dry-run=maybe"}),
            "invalid argument \"maybe\" for \"--dry-run\" flag: expected true or false");
}

TEST(FlagsHelp, AlignedWithDefaults) {
  std::string help = FlagsHelp({{"namespace", 'n', FlagType::kValue, "NS", "the namespace", "default"},
                                {"dry-run", 0, FlagType::kBool, "", "validate only", ""}});
  EXPECT_EQ(help,
            "  -n, --namespace NS   the namespace (default \"default\")\n"
            "      --dry-run        validate only\n");
}

}  // namespace
}  // namespace ofn::flags

// Command-line flags the way kubectl (pflag) reads them: --name=value,
// --name value, -n value, -nvalue, combined short booleans (-Av), flags before
// or after positional arguments, "--" ending the flags, and a lone "-" as an
// ordinary argument (stdin). Errors carry pflag's wording ("unknown flag:
// --foo", "flag needs an argument: 'n' in -n").
//
// Hand-rolled rather than CLI11: the whole CLI is a handful of flags and this
// keeps the build light. Pure functions over values; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"

namespace ofn::flags {

enum class FlagType {
  kBool,   // --x, --x=true|false
  kValue,  // the last one given wins
  kList,   // may repeat; every value kept in order
};

struct FlagSpec {
  std::string name;          // long name without dashes: "namespace"
  char shorthand = 0;        // 'n', or 0
  FlagType type = FlagType::kBool;
  std::string value_name;    // for help: "NS"
  std::string help;
  std::string default_value; // shown in help when not empty
};

class ParsedArgs {
 public:
  std::vector<std::string> positionals;

  bool Has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  // The last value given, or `def`.
  std::string Get(std::string_view name, std::string def = "") const;
  // Every value given, in order (empty if none).
  const std::vector<std::string>& GetAll(std::string_view name) const;
  bool GetBool(std::string_view name) const { return Get(name, "false") == "true"; }

  void Add(const std::string& name, std::string value) { values_[name].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// Parses `args` (no program name, no verb). INVALID_ARGUMENT with pflag's
// message on an unknown flag, a missing value or a bad boolean.
Result<ParsedArgs> ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

// One line per flag, aligned, for --help.
std::string FlagsHelp(const std::vector<FlagSpec>& specs);

}  // namespace ofn::flags

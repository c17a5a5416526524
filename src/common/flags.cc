#include "common/flags.h"

#include <algorithm>

#include "common/go_bool.h"

namespace ofn::flags {

std::string ParsedArgs::Get(std::string_view name, std::string def) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return def;
  return it->second.back();
}

const std::vector<std::string>& ParsedArgs::GetAll(std::string_view name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(std::string(name));
  return it == values_.end() ? kNone : it->second;
}

namespace {

const FlagSpec* FindLong(const std::vector<FlagSpec>& specs, std::string_view name) {
  for (const FlagSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const FlagSpec* FindShort(const std::vector<FlagSpec>& specs, char c) {
  for (const FlagSpec& s : specs) {
    if (s.shorthand == c) return &s;
  }
  return nullptr;
}

Status AddBool(ParsedArgs& out, const FlagSpec& spec, std::string_view value, std::string_view shown) {
  // pflag reads booleans with Go's strconv.ParseBool.
  if (auto b = ParseGoBool(value)) {
    out.Add(spec.name, *b ? "true" : "false");
    return Status::Ok();
  }
  return Status::InvalidArgument("invalid argument \"" + std::string(value) + "\" for \"" + std::string(shown) +
                                 "\" flag: expected true or false");
}

}  // namespace

Result<ParsedArgs> ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positionals.insert(out.positionals.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      out.positionals.push_back(a);  // includes "-" (stdin)
      continue;
    }
    if (a[1] == '-') {
      std::string_view body = std::string_view(a).substr(2);
      size_t eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      const FlagSpec* spec = FindLong(specs, name);
      if (!spec) return Status::InvalidArgument("unknown flag: --" + std::string(name));
      std::string shown = "--" + std::string(name);
      if (spec->type == FlagType::kBool) {
        Status s = AddBool(out, *spec, eq == std::string_view::npos ? "true" : body.substr(eq + 1), shown);
        if (!s.ok()) return s;
        continue;
      }
      if (eq != std::string_view::npos) {
        out.Add(spec->name, std::string(body.substr(eq + 1)));
      } else if (i + 1 < args.size()) {
        out.Add(spec->name, args[++i]);
      } else {
        return Status::InvalidArgument("flag needs an argument: " + shown);
      }
      continue;
    }
    // Short flags: booleans may be combined (-Av); the first one taking a value
    // takes the rest of the word (-nprod, -n=prod) or the next argument.
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      const FlagSpec* spec = FindShort(specs, c);
      if (!spec) return Status::InvalidArgument(std::string("unknown shorthand flag: '") + c + "' in " + a);
      if (spec->type == FlagType::kBool) {
        if (j + 1 < a.size() && a[j + 1] == '=') {
          Status s = AddBool(out, *spec, std::string_view(a).substr(j + 2), std::string("-") + c);
          if (!s.ok()) return s;
          break;
        }
        out.Add(spec->name, "true");
        continue;
      }
      std::string_view rest = std::string_view(a).substr(j + 1);
      if (!rest.empty() && rest[0] == '=') rest.remove_prefix(1);
      if (!rest.empty() || j + 1 < a.size()) {
        out.Add(spec->name, std::string(rest));
      } else if (i + 1 < args.size()) {
        out.Add(spec->name, args[++i]);
      } else {
        return Status::InvalidArgument(std::string("flag needs an argument: '") + c + "' in " + a);
      }
      break;
    }
  }
  return out;
}

std::string FlagsHelp(const std::vector<FlagSpec>& specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const FlagSpec& s : specs) {
    std::string left = s.shorthand ? std::string("  -") + s.shorthand + ", --" + s.name : "      --" + s.name;
    if (s.type != FlagType::kBool) left += " " + (s.value_name.empty() ? std::string("VALUE") : s.value_name);
    std::string right = s.help;
    if (!s.default_value.empty()) right += " (default \"" + s.default_value + "\")";
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), std::move(right));
  }
  std::string out;
  for (auto& [left, right] : rows) {
    out += left + std::string(width - left.size() + 3, ' ') + right + "\n";
  }
  return out;
}

}  // namespace ofn::flags

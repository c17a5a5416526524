// TriggerCondition: a Trigger subscriber's `condition` (events.openfunction.io/
// v1alpha1), parsed once and evaluated for each event.
//
// OpenFunction's language is boolean logic over the Trigger's input names:
// `eventA && eventB`, `eventA || !eventB`, `(a || b) && c`. An input is true
// while it is "active" (an event from it arrived within the trigger's window);
// the caller decides that and answers through a callback. Ofn adds
// comparisons on the CloudEvent being processed:
//
//   eventA && data.level == "error"
//   type.startsWith("com.github.") && extensions.partitionkey != "test"
//
// Grammar, loosest binding first:
//   or      := and ("||" and)*
//   and     := cmp ("&&" cmp)*
//   cmp     := unary [("==" | "!=" | "<" | "<=" | ">" | ">=") unary]   (no chains)
//   unary   := "!"* postfix
//   postfix := primary ("." NAME | "." METHOD "(" or ")" | "[" STRING "]" | "[" INDEX "]")*
//   primary := IDENT | STRING | NUMBER | true | false | null | "(" or ")"
// IDENT and NAME are [A-Za-z_][A-Za-z0-9_-]* (input names are map keys such
// as `input-demo`, so `a-b` is one identifier; there is no arithmetic).
// Strings are "double" or 'single' quoted with \" \' \\ \/ \n \t \r \b \f and
// \uXXXX escapes; numbers are integers or decimals, optionally negative.
// `!` binds tighter than comparisons, as in C: `!x == y` is `(!x) == y`.
//
// Identifiers:
//  - an input name standing alone is that input's activity (a bool). It wins
//    over an attribute of the same spelling: with an input named `type`, bare
//    `type` is the input, while `type.startsWith(..)` (followed by "." or "[")
//    still reads the attribute, since an input has no fields.
//  - id, source, type, subject, time, specversion, datacontenttype,
//    dataschema: the event's context attribute (top-level member of the
//    event JSON).
//  - `extensions.NAME` / `extensions["NAME"]`: top-level attribute NAME.
//  - `data`, `data.a.b`, `data["key with-dash"]`, `data.items[0]`: a path
//    into the event's JSON data.
//  - true, false, null are literals (an input cannot be called that).
//  Anything else is an error naming the Trigger's inputs.
//
// Values: a path that leads nowhere (missing member, index out of range, a
// field of a non-object) is "missing"; missing is not null. In a boolean
// position (operand of && || ! or the whole condition) a non-input value is
// true only if it is JSON true. Comparisons: string with string (bytewise
// lexicographic, so RFC 3339 `time`s in one format order by time), number
// with number (as double), and ==/!= on bools, nulls, arrays and objects
// (deep equality); anything else (missing, mixed types, ordering of bools)
// makes == false, != true and the orderings false. The methods startsWith,
// endsWith and contains take one argument and are false unless the value
// and the argument are both strings.
//
// Errors are InvalidArgument "column N: <what>", N the 1-based byte column
// of the offending token (past the last token at the end of the text).
// Limits: 4096 bytes of text, 64 levels of nested parentheses or method
// arguments; evaluation recursion is bounded by the nesting, so hostile text
// cannot exhaust the stack.
//
// Thread-safety: a parsed TriggerCondition is immutable; any number of threads may
// Evaluate it at once. Copies share the parsed tree.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"

namespace ofn::api {

class TriggerCondition {
 public:
  static constexpr size_t kMaxLength = 4096;
  static constexpr int kMaxNesting = 64;

  // `inputs`: the Trigger's input names (the keys of spec.inputs).
  static Result<TriggerCondition> Parse(std::string_view text, const std::set<std::string, std::less<>>& inputs);

  // `active(name)` tells whether input `name` is active now; it is called
  // only for inputs the evaluation reaches (&& and || short-circuit).
  // `event` is the CloudEvent in structured JSON: attributes at the top
  // level, `data` as a JSON value when the event carries JSON data.
  bool Evaluate(const std::function<bool(std::string_view)>& active, const nlohmann::json& event) const;

  const std::string& text() const;
  // The input names the condition mentions, sorted, each once.
  std::vector<std::string> Inputs() const;

  struct Tree;  // the parsed form (trigger_condition.cc)

 private:
  explicit TriggerCondition(std::shared_ptr<const Tree> tree) : tree_(std::move(tree)) {}
  std::shared_ptr<const Tree> tree_;
};

}  // namespace ofn::api

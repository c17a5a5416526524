#include "api/trigger_condition.h"

#include "common/encoding.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace ofn::api {

using nlohmann::json;

namespace {

// ---- Tokens ----

enum class Tok {
  kIdent, kString, kNumber, kLParen, kRParen, kLBracket, kRBracket, kDot,
  kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe,
  kEnd,
  kError,  // the lexer stopped here; `str` says why
};

struct Token {
  Tok kind;
  size_t pos = 0;   // byte offset of the token in the text
  size_t len = 0;
  std::string str;  // kString: the decoded value; kError: the message
  json number;      // kNumber
};

// Text for an error message: printable ASCII as is, other bytes as \xNN, so
// messages stay valid UTF-8 whatever the input (they end up in JSON status).
// Long text is cut short.
std::string Printable(std::string_view s, size_t max = 40) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string Quote(std::string_view s) { return "\"" + Printable(s) + "\""; }

bool IsIdentStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '-'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


// Splits the whole text into tokens up front (at most one per byte, and the
// text is bounded). A lexical error becomes a final kError token, so that the
// parser reports an earlier syntax error first, as a reader would meet them.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : t_(text) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    for (;;) {
      while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
      if (i_ >= t_.size()) {
        out.push_back(Token{Tok::kEnd, last_end_});
        return out;
      }
      Token tok = Next();
      bool stop = tok.kind == Tok::kError;
      last_end_ = tok.pos + tok.len;
      out.push_back(std::move(tok));
      if (stop) return out;
    }
  }

 private:
  Token Error(size_t pos, std::string what) {
    Token tok{Tok::kError, pos};
    tok.str = std::move(what);
    return tok;
  }
  Token Simple(Tok kind, size_t len) {
    Token tok{kind, i_, len};
    i_ += len;
    return tok;
  }
  char At(size_t j) const { return j < t_.size() ? t_[j] : '\0'; }

  Token Next() {
    char c = t_[i_];
    if (IsIdentStart(c)) {
      size_t j = i_ + 1;
      while (j < t_.size() && IsIdentChar(t_[j])) ++j;
      return Simple(Tok::kIdent, j - i_);
    }
    if (IsDigit(c) || (c == '-' && IsDigit(At(i_ + 1)))) return Number();
    if (c == '"' || c == '\'') return String();
    switch (c) {
      case '(': return Simple(Tok::kLParen, 1);
      case ')': return Simple(Tok::kRParen, 1);
      case '[': return Simple(Tok::kLBracket, 1);
      case ']': return Simple(Tok::kRBracket, 1);
      case '.': return Simple(Tok::kDot, 1);
      case '!': return At(i_ + 1) == '=' ? Simple(Tok::kNe, 2) : Simple(Tok::kNot, 1);
      case '<': return At(i_ + 1) == '=' ? Simple(Tok::kLe, 2) : Simple(Tok::kLt, 1);
      case '>': return At(i_ + 1) == '=' ? Simple(Tok::kGe, 2) : Simple(Tok::kGt, 1);
      case '&':
        if (At(i_ + 1) == '&') return Simple(Tok::kAnd, 2);
        return Error(i_, "unexpected \"&\" (did you mean \"&&\"?)");
      case '|':
        if (At(i_ + 1) == '|') return Simple(Tok::kOr, 2);
        return Error(i_, "unexpected \"|\" (did you mean \"||\"?)");
      case '=':
        if (At(i_ + 1) == '=') return Simple(Tok::kEq, 2);
        return Error(i_, "unexpected \"=\" (did you mean \"==\"?)");
      default:
        return Error(i_, "unexpected character " + Quote(t_.substr(i_, 1)));
    }
  }

  Token Number() {
    size_t start = i_, j = i_;
    if (t_[j] == '-') ++j;
    while (IsDigit(At(j))) ++j;
    bool decimal = false;
    if (At(j) == '.' && IsDigit(At(j + 1))) {
      decimal = true;
      ++j;
      while (IsDigit(At(j))) ++j;
    }
    if (IsIdentStart(At(j)) || IsDigit(At(j))) {
      size_t k = j;
      while (IsIdentChar(At(k))) ++k;
      return Error(start, "invalid number " + Quote(t_.substr(start, k - start)));
    }
    const char* first = t_.data() + start;
    const char* last = t_.data() + j;
    Token tok{Tok::kNumber, start, j - start};
    if (!decimal) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && p == last) {
        tok.number = v;
        i_ = j;
        return tok;
      }
    }
    double d = 0;
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || p != last) return Error(start, "number " + Quote(t_.substr(start, j - start)) + " out of range");
    tok.number = d;
    i_ = j;
    return tok;
  }

  Token String() {
    size_t start = i_;
    char quote = t_[i_];
    std::string value;
    size_t j = i_ + 1;
    for (;;) {
      if (j >= t_.size()) return Error(start, "unterminated string");
      char c = t_[j];
      if (c == quote) {
        ++j;
        break;
      }
      if (c != '\\') {
        value += c;
        ++j;
        continue;
      }
      if (j + 1 >= t_.size()) return Error(start, "unterminated string");
      char e = t_[j + 1];
      switch (e) {
        case '"': case '\'': case '\\': case '/': value += e; break;
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'u': {
          auto cp = Hex4(j + 2);
          if (!cp) return Error(j, "\"\\u\" needs four hex digits");
          size_t used = 6;
          if (*cp >= 0xD800 && *cp <= 0xDBFF) {
            // A UTF-16 surrogate pair spelled as two escapes, as in JSON.
            std::optional<uint32_t> low;
            if (At(j + 6) == '\\' && At(j + 7) == 'u') low = Hex4(j + 8);
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return Error(j, "unpaired surrogate in \"\\u\" escape");
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
            used = 12;
          } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
            return Error(j, "unpaired surrogate in \"\\u\" escape");
          }
          enc::AppendUtf8(value, *cp);
          j += used;
          continue;
        }
        default:
          return Error(j, "unknown escape " + Quote(t_.substr(j, 2)));
      }
      j += 2;
    }
    Token tok{Tok::kString, start, j - start};
    tok.str = std::move(value);
    i_ = j;
    return tok;
  }

  std::optional<uint32_t> Hex4(size_t j) const {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int h = HexValue(At(j + k));
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    return v;
  }

  std::string_view t_;
  size_t i_ = 0;
  size_t last_end_ = 0;
};

// ---- The tree ----

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
enum class Method { kStartsWith, kEndsWith, kContains };

struct Step {
  enum Kind { kMember, kIndex, kMethod } kind = kMember;
  std::string key;   // kMember
  size_t index = 0;  // kIndex
  Method method = Method::kContains;
  int arg = -1;      // kMethod: the argument's node
};

struct Node {
  enum Kind { kOr, kAnd, kNot, kCmp, kInput, kLiteral, kValue } kind;
  std::vector<int> children;  // kOr, kAnd: operands; kNot: {operand}; kCmp: {lhs, rhs}
  bool negate = false;        // kNot: an odd number of "!" (an even one still makes a bool)
  CmpOp op = CmpOp::kEq;      // kCmp
  std::string name;           // kInput: the input; kValue with base < 0: the event's top-level member
  json literal;               // kLiteral
  int base = -1;              // kValue: the node the steps start from, or -1
  std::vector<Step> steps;    // kValue
};

bool IsAttribute(std::string_view name) {
  static constexpr std::string_view kAttributes[] = {"id", "source", "type", "subject", "time",
                                                     "specversion", "datacontenttype", "dataschema"};
  return std::find(std::begin(kAttributes), std::end(kAttributes), name) != std::end(kAttributes);
}

std::optional<CmpOp> CmpOf(Tok kind) {
  switch (kind) {
    case Tok::kEq: return CmpOp::kEq;
    case Tok::kNe: return CmpOp::kNe;
    case Tok::kLt: return CmpOp::kLt;
    case Tok::kLe: return CmpOp::kLe;
    case Tok::kGt: return CmpOp::kGt;
    case Tok::kGe: return CmpOp::kGe;
    default: return std::nullopt;
  }
}

}  // namespace

struct TriggerCondition::Tree {
  std::string text;
  std::vector<Node> nodes;
  int root = -1;
  std::vector<std::string> inputs;  // mentioned, sorted, unique
};

namespace {

// Recursive descent over the token list. Each level of "(" (grouping or a
// method's argument) adds one to `depth`; binary chains and "!" runs are
// loops, so the recursion (here and in evaluation) is bounded by kMaxNesting.
class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens, const std::set<std::string, std::less<>>& inputs,
         TriggerCondition::Tree& tree)
      : text_(text), toks_(std::move(tokens)), inputs_(inputs), tree_(tree) {}

  Status Run() {
    if (Cur().kind == Tok::kEnd) return Fail(Cur(), "empty condition");
    auto root = ParseOr(0);
    if (!root.ok()) return root.status();
    if (Cur().kind == Tok::kRParen) return Fail(Cur(), "unmatched \")\"");
    if (Cur().kind != Tok::kEnd) return Fail(Cur(), "expected an operator before " + Describe(Cur()));
    tree_.root = *root;
    tree_.inputs.assign(mentioned_.begin(), mentioned_.end());
    return Status::Ok();
  }

 private:
  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t ahead = 1) const { return toks_[std::min(pos_ + ahead, toks_.size() - 1)]; }
  std::string_view TextOf(const Token& t) const { return text_.substr(t.pos, t.len); }
  std::string Describe(const Token& t) const { return t.kind == Tok::kEnd ? "the end" : Quote(TextOf(t)); }

  // An error at token `at`, unless `at` is where the lexer stopped: its
  // reason is then the better one.
  Status Fail(const Token& at, const std::string& what) const {
    const std::string& msg = at.kind == Tok::kError ? at.str : what;
    return Status::InvalidArgument("column " + std::to_string(at.pos + 1) + ": " + msg);
  }

  int Add(Node n) {
    tree_.nodes.push_back(std::move(n));
    return static_cast<int>(tree_.nodes.size() - 1);
  }

  Result<int> ParseOr(int depth) { return ParseChain(depth, Tok::kOr, Node::kOr); }
  Result<int> ParseAnd(int depth) { return ParseChain(depth, Tok::kAnd, Node::kAnd); }

  // `a op b op c` as one n-ary node: evaluation stays flat however long.
  Result<int> ParseChain(int depth, Tok op, Node::Kind kind) {
    auto first = kind == Node::kOr ? ParseAnd(depth) : ParseCmp(depth);
    if (!first.ok() || Cur().kind != op) return first;
    Node n{kind};
    n.children.push_back(*first);
    while (Cur().kind == op) {
      ++pos_;
      auto next = kind == Node::kOr ? ParseAnd(depth) : ParseCmp(depth);
      if (!next.ok()) return next;
      n.children.push_back(*next);
    }
    return Add(std::move(n));
  }

  Result<int> ParseCmp(int depth) {
    auto lhs = ParseUnary(depth);
    if (!lhs.ok()) return lhs;
    auto op = CmpOf(Cur().kind);
    if (!op) return lhs;
    ++pos_;
    auto rhs = ParseUnary(depth);
    if (!rhs.ok()) return rhs;
    if (CmpOf(Cur().kind)) return Fail(Cur(), "comparisons do not chain; join them with \"&&\"");
    Node n{Node::kCmp};
    n.op = *op;
    n.children = {*lhs, *rhs};
    return Add(std::move(n));
  }

  Result<int> ParseUnary(int depth) {
    int bangs = 0;
    while (Cur().kind == Tok::kNot) {
      ++bangs;
      ++pos_;
    }
    auto operand = ParsePostfix(depth);
    if (!operand.ok() || bangs == 0) return operand;
    Node n{Node::kNot};
    n.negate = bangs % 2 == 1;
    n.children = {*operand};
    return Add(std::move(n));
  }

  Result<int> ParsePostfix(int depth) {
    auto primary = ParsePrimary(depth);
    if (!primary.ok()) return primary;
    if (Cur().kind != Tok::kDot && Cur().kind != Tok::kLBracket) return primary;
    // Steps gather here: parsing a method's argument may grow the node vector.
    std::vector<Step> steps;
    while (Cur().kind == Tok::kDot || Cur().kind == Tok::kLBracket) {
      if (Cur().kind == Tok::kDot) {
        ++pos_;
        if (Cur().kind != Tok::kIdent) return Fail(Cur(), "expected a field or method name after \".\"");
        std::string name(TextOf(Cur()));
        if (Peek().kind != Tok::kLParen) {
          ++pos_;
          steps.push_back(Step{Step::kMember, std::move(name)});
          continue;
        }
        Step step{Step::kMethod};
        if (name == "startsWith") {
          step.method = Method::kStartsWith;
        } else if (name == "endsWith") {
          step.method = Method::kEndsWith;
        } else if (name == "contains") {
          step.method = Method::kContains;
        } else {
          return Fail(Cur(), "unknown method " + Quote(name) + " (methods: startsWith, endsWith, contains)");
        }
        const Token& open = Peek();
        if (depth + 1 > TriggerCondition::kMaxNesting) return Fail(open, TooDeep());
        pos_ += 2;
        auto arg = ParseOr(depth + 1);
        if (!arg.ok()) return arg;
        if (Cur().kind != Tok::kRParen) return Unclosed(open);
        ++pos_;
        step.arg = *arg;
        steps.push_back(std::move(step));
      } else {
        const Token& open = Cur();
        ++pos_;
        Step step;
        if (Cur().kind == Tok::kString) {
          step.kind = Step::kMember;
          step.key = Cur().str;
        } else if (Cur().kind == Tok::kNumber && Cur().number.is_number_integer() && Cur().number.get<int64_t>() >= 0) {
          step.kind = Step::kIndex;
          step.index = static_cast<size_t>(Cur().number.get<int64_t>());
        } else {
          return Fail(Cur(), "expected a quoted name or an array index after \"[\"");
        }
        ++pos_;
        if (Cur().kind == Tok::kEnd) return Fail(open, "unclosed \"[\"");
        if (Cur().kind != Tok::kRBracket) return Fail(Cur(), "expected \"]\" before " + Describe(Cur()));
        ++pos_;
        steps.push_back(std::move(step));
      }
    }
    // A path from the event continues; anything else becomes the base.
    if (tree_.nodes[*primary].kind == Node::kValue) {
      auto& existing = tree_.nodes[*primary].steps;
      existing.insert(existing.end(), std::make_move_iterator(steps.begin()), std::make_move_iterator(steps.end()));
      return primary;
    }
    Node n{Node::kValue};
    n.base = *primary;
    n.steps = std::move(steps);
    return Add(std::move(n));
  }

  Result<int> ParsePrimary(int depth) {
    const Token& t = Cur();
    switch (t.kind) {
      case Tok::kIdent: return ParseIdent();
      case Tok::kString: {
        Node n{Node::kLiteral};
        n.literal = t.str;
        ++pos_;
        return Add(std::move(n));
      }
      case Tok::kNumber: {
        Node n{Node::kLiteral};
        n.literal = t.number;
        ++pos_;
        return Add(std::move(n));
      }
      case Tok::kLParen: {
        if (depth + 1 > TriggerCondition::kMaxNesting) return Fail(t, TooDeep());
        ++pos_;
        auto inner = ParseOr(depth + 1);
        if (!inner.ok()) return inner;
        if (Cur().kind != Tok::kRParen) return Unclosed(t);
        ++pos_;
        return inner;
      }
      default:
        if (pos_ == 0) return Fail(t, "expected an operand before " + Describe(t));
        return Fail(t, "expected an operand after " + Quote(TextOf(toks_[pos_ - 1])));
    }
  }

  Result<int> ParseIdent() {
    const Token& t = Cur();
    std::string name(TextOf(t));
    if (name == "true" || name == "false" || name == "null") {
      Node n{Node::kLiteral};
      n.literal = name == "null" ? json(nullptr) : json(name == "true");
      ++pos_;
      return Add(std::move(n));
    }
    bool has_fields = Peek().kind == Tok::kDot || Peek().kind == Tok::kLBracket;
    if (!has_fields && inputs_.count(name)) {
      Node n{Node::kInput};
      n.name = name;
      mentioned_.insert(std::move(name));
      ++pos_;
      return Add(std::move(n));
    }
    Node n{Node::kValue};
    if (name == "data" || IsAttribute(name)) {
      n.name = std::move(name);
      ++pos_;
      return Add(std::move(n));
    }
    if (name == "extensions") {
      if (Peek().kind == Tok::kDot && Peek(2).kind == Tok::kIdent && Peek(3).kind != Tok::kLParen) {
        n.name = TextOf(Peek(2));
        pos_ += 3;
        return Add(std::move(n));
      }
      if (Peek().kind == Tok::kLBracket && Peek(2).kind == Tok::kString && Peek(3).kind == Tok::kRBracket) {
        n.name = Peek(2).str;
        pos_ += 4;
        return Add(std::move(n));
      }
      return Fail(t, "expected \".NAME\" after \"extensions\"");
    }
    if (inputs_.count(name)) return Fail(t, "input " + Quote(name) + " is a boolean and has no fields");
    std::string known;
    size_t listed = 0;
    for (const auto& input : inputs_) {
      if (listed == 20) {
        known += ", ...";
        break;
      }
      known += (listed++ ? ", " : "") + Printable(input);
    }
    return Fail(t, "unknown input " + Quote(name) + " (inputs: " + (known.empty() ? "none" : known) + ")");
  }

  Status Unclosed(const Token& open) const {
    if (Cur().kind == Tok::kEnd) return Fail(open, "unclosed \"(\"");
    return Fail(Cur(), "expected \")\" before " + Describe(Cur()));
  }

  static std::string TooDeep() {
    return "nested deeper than " + std::to_string(TriggerCondition::kMaxNesting) + " levels";
  }

  std::string_view text_;
  std::vector<Token> toks_;  // ends with kEnd or kError
  size_t pos_ = 0;
  const std::set<std::string, std::less<>>& inputs_;
  TriggerCondition::Tree& tree_;
  std::set<std::string> mentioned_;
};

// ---- Evaluation ----

using Active = std::function<bool(std::string_view)>;

const json* BoolValue(bool b) {
  static const json kTrue(true), kFalse(false);
  return b ? &kTrue : &kFalse;
}

bool Ordered(CmpOp op, int c) {
  switch (op) {
    case CmpOp::kEq: return c == 0;
    case CmpOp::kNe: return c != 0;
    case CmpOp::kLt: return c < 0;
    case CmpOp::kLe: return c <= 0;
    case CmpOp::kGt: return c > 0;
    case CmpOp::kGe: return c >= 0;
  }
  return false;
}

bool Compare(CmpOp op, const json* a, const json* b) {
  if (!a || !b) return op == CmpOp::kNe;
  if (a->is_string() && b->is_string()) {
    int c = a->get_ref<const std::string&>().compare(b->get_ref<const std::string&>());
    return Ordered(op, c);
  }
  if (a->is_number() && b->is_number()) {
    double x = a->get<double>(), y = b->get<double>();
    return Ordered(op, x < y ? -1 : (x > y ? 1 : 0));
  }
  if (a->type() == b->type() && (op == CmpOp::kEq || op == CmpOp::kNe)) {
    return (*a == *b) == (op == CmpOp::kEq);
  }
  return op == CmpOp::kNe;
}

bool CallMethod(Method m, const json* value, const json* arg) {
  if (!value || !arg || !value->is_string() || !arg->is_string()) return false;
  std::string_view s = value->get_ref<const std::string&>();
  std::string_view x = arg->get_ref<const std::string&>();
  switch (m) {
    case Method::kStartsWith: return s.starts_with(x);
    case Method::kEndsWith: return s.ends_with(x);
    case Method::kContains: return s.find(x) != std::string_view::npos;
  }
  return false;
}

class Evaluator {
 public:
  Evaluator(const std::vector<Node>& nodes, const Active& active, const json& event)
      : nodes_(nodes), active_(active), event_(event) {}

  bool Truth(int id) const {
    const Node& n = nodes_[id];
    switch (n.kind) {
      case Node::kOr:
        return std::any_of(n.children.begin(), n.children.end(), [this](int c) { return Truth(c); });
      case Node::kAnd:
        return std::all_of(n.children.begin(), n.children.end(), [this](int c) { return Truth(c); });
      case Node::kNot:
        return Truth(n.children[0]) != n.negate;
      case Node::kCmp:
        return Compare(n.op, Value(n.children[0]), Value(n.children[1]));
      case Node::kInput:
        return active_(n.name);
      case Node::kLiteral:
      case Node::kValue: {
        const json* v = Value(id);
        return v && v->is_boolean() && v->get<bool>();
      }
    }
    return false;
  }

  // The node's value; nullptr when missing.
  const json* Value(int id) const {
    const Node& n = nodes_[id];
    if (n.kind == Node::kLiteral) return &n.literal;
    if (n.kind != Node::kValue) return BoolValue(Truth(id));
    const json* v = n.base >= 0 ? Value(n.base) : Member(&event_, n.name);
    for (const Step& step : n.steps) {
      switch (step.kind) {
        case Step::kMember:
          v = Member(v, step.key);
          break;
        case Step::kIndex:
          v = v && v->is_array() && step.index < v->size() ? &(*v)[step.index] : nullptr;
          break;
        case Step::kMethod:
          v = BoolValue(CallMethod(step.method, v, Value(step.arg)));
          break;
      }
    }
    return v;
  }

 private:
  static const json* Member(const json* v, const std::string& key) {
    if (!v || !v->is_object()) return nullptr;
    auto it = v->find(key);
    return it == v->end() ? nullptr : &*it;
  }

  const std::vector<Node>& nodes_;
  const Active& active_;
  const json& event_;
};

}  // namespace

Result<TriggerCondition> TriggerCondition::Parse(std::string_view text, const std::set<std::string, std::less<>>& inputs) {
  if (text.size() > kMaxLength) {
    return Status::InvalidArgument("column " + std::to_string(kMaxLength + 1) + ": condition longer than " +
                                   std::to_string(kMaxLength) + " bytes");
  }
  Tree tree;
  tree.text = std::string(text);
  Parser parser(text, Lexer(text).Run(), inputs, tree);
  if (Status s = parser.Run(); !s.ok()) return s;
  return TriggerCondition(std::make_shared<const Tree>(std::move(tree)));
}

bool TriggerCondition::Evaluate(const std::function<bool(std::string_view)>& active, const nlohmann::json& event) const {
  return Evaluator(tree_->nodes, active, event).Truth(tree_->root);
}

const std::string& TriggerCondition::text() const { return tree_->text; }

std::vector<std::string> TriggerCondition::Inputs() const { return tree_->inputs; }

}  // namespace ofn::api

#include "common/json_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "common/encoding.h"

namespace ofn::jsontext {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Bytes a string may hold as they are, needing no further look: not '"',
// not '\\', not a control character, ASCII.
constexpr auto kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

#ifdef __SSE2__
// SSE2 is x86-64's baseline, so no runtime dispatch. Loads stay inside the
// view: what is too short for one is left to the callers' scalar loops.
inline __m128i Load16(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline unsigned Mask(__m128i m) { return static_cast<unsigned>(_mm_movemask_epi8(m)); }

// '"', '\\', a control byte or (signed compare) a byte >= 0x80: every byte
// kPlain rejects.
inline unsigned NotPlain(__m128i v) {
  return Mask(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                           _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
}

// The first index from `i` whose byte is not kPlain, or a point < 16 bytes
// before the end.
size_t SkipPlain(std::string_view s, size_t i) {
  for (; i + 16 <= s.size(); i += 16) {
    if (unsigned m = NotPlain(Load16(s.data() + i))) return i + static_cast<size_t>(__builtin_ctz(m));
  }
  return i;
}

// '"', '\\' or a control byte (unsigned <= 0x1F): what stops a string's scan.
inline __m128i StringStop(__m128i v) {
  __m128i ctrl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
  return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))), ctrl);
}

// The StringStop bytes among the 16 at p, less the first `skip`; sets *high
// if a byte >= 0x80 comes before the first of them.
inline unsigned Stop16(const char* p, bool* high, unsigned skip = 0) {
  __m128i v = Load16(p);
  unsigned stop = Mask(StringStop(v)) >> skip;
  if ((Mask(v) >> skip) & ((stop & (0u - stop)) - 1)) *high = true;
  return stop;
}

// As SkipPlain, but also passes bytes >= 0x80 (setting *high): a string's
// UTF-8 is validated once, at its end, so non-ASCII text need not stop the
// scan byte by byte.
size_t SkipStringBody(std::string_view s, size_t i, bool* high) {
  const char* p = s.data();
  // The first 16 alone (most strings are short), then 64 a step while
  // nothing stops the scan, then 16 a step to find what does.
  if (i + 16 <= s.size()) {
    if (unsigned stop = Stop16(p + i, high)) return i + static_cast<size_t>(__builtin_ctz(stop));
    for (i += 16; i + 64 <= s.size(); i += 64) {
      __m128i a = Load16(p + i), b = Load16(p + i + 16), c = Load16(p + i + 32), d = Load16(p + i + 48);
      __m128i stop = _mm_or_si128(_mm_or_si128(StringStop(a), StringStop(b)), _mm_or_si128(StringStop(c), StringStop(d)));
      if (Mask(stop)) break;
      if (Mask(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)))) *high = true;
    }
  }
  for (; i + 16 <= s.size(); i += 16) {
    if (unsigned stop = Stop16(p + i, high)) return i + static_cast<size_t>(__builtin_ctz(stop));
  }
  if (i < s.size() && s.size() >= 16) {
    // The last < 16 bytes (a document often ends in a long string): the 16
    // that end the view, less those before i.
    unsigned stop = Stop16(p + s.size() - 16, high, static_cast<unsigned>(i - (s.size() - 16)));
    return stop ? i + static_cast<size_t>(__builtin_ctz(stop)) : s.size();
  }
  return i;
}

// Bit k set where p[k] == c, for 64 bytes.
inline uint64_t Eq64(const char* p, char c) {
  __m128i n = _mm_set1_epi8(c);
  uint64_t m = 0;
  for (int k = 0; k < 4; ++k) m |= uint64_t{Mask(_mm_cmpeq_epi8(Load16(p + 16 * k), n))} << (16 * k);
  return m;
}
// '[' and ']' are '{' and '}' with bit 5 clear, and no other byte maps to
// those two when it is set: bits of '{' '[' (c = '{') or '}' ']' (c = '}').
inline uint64_t Bracket64(const char* p, char c) {
  __m128i n = _mm_set1_epi8(c), b5 = _mm_set1_epi8(0x20);
  uint64_t m = 0;
  for (int k = 0; k < 4; ++k) {
    m |= uint64_t{Mask(_mm_cmpeq_epi8(_mm_or_si128(Load16(p + 16 * k), b5), n))} << (16 * k);
  }
  return m;
}
// Bit k: the parity of the bits 0..k (set from an opening quote up to, not
// including, its closing quote).
inline uint64_t PrefixXor(uint64_t x) {
  for (int sh = 1; sh < 64; sh *= 2) x ^= x << sh;
  return x;
}
#else
size_t SkipPlain(std::string_view, size_t i) { return i; }
size_t SkipStringBody(std::string_view, size_t i, bool*) { return i; }
#endif

// Recursive descent; recursion is bounded by max_depth.
class Validator {
 public:
  Validator(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  bool Run() {
    SkipWs();
    if (!Value(0)) return false;
    SkipWs();
    return i_ == s_.size();
  }

 private:
  void SkipWs() {
    while (i_ < s_.size() && IsWs(s_[i_])) ++i_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool Value(int depth) {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': return String();
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }
  bool Object(int depth) {
    if (depth > max_depth_) return false;
    ++i_;  // {
    SkipWs();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
    while (true) {
      if (i_ >= s_.size() || s_[i_] != '"' || !String()) return false;
      SkipWs();
      if (i_ >= s_.size() || s_[i_] != ':') return false;
      ++i_;
      SkipWs();
      if (!Value(depth)) return false;
      SkipWs();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == '}') return ++i_, true;
      if (s_[i_] != ',') return false;
      ++i_;
      SkipWs();
    }
  }
  bool Array(int depth) {
    if (depth > max_depth_) return false;
    ++i_;  // [
    SkipWs();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
    while (true) {
      if (!Value(depth)) return false;
      SkipWs();
      if (i_ >= s_.size()) return false;
      if (s_[i_] == ']') return ++i_, true;
      if (s_[i_] != ',') return false;
      ++i_;
      SkipWs();
    }
  }
  bool String() {
    size_t start = ++i_;  // after the opening quote
    bool high = false;
    while (i_ < s_.size()) {
      // Plain bytes in bulk: most of a payload. The scalar loop covers a
      // text under 16 bytes.
      i_ = SkipStringBody(s_, i_, &high);
      while (i_ < s_.size() && kPlain[static_cast<unsigned char>(s_[i_])]) ++i_;
      if (i_ >= s_.size()) break;
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        bool ok = !high || enc::IsValidUtf8(s_.substr(start, i_ - start));
        ++i_;
        return ok;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) high = true;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        char e = s_[i_];
        if (e == 'u') {
          // Surrogates must pair up (as nlohmann requires): the text then
          // always denotes UTF-8.
          uint32_t cp = 0;
          if (!Hex(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i_ + 2 >= s_.size() || s_[i_ + 1] != '\\' || s_[i_ + 2] != 'u') return false;
            i_ += 2;
            if (!Hex(&cp) || cp < 0xDC00 || cp > 0xDFFF) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
      }
      ++i_;
    }
    return false;
  }

  // At the 'u' of \uXXXX: reads the four digits, leaves i_ on the last.
  bool Hex(uint32_t* cp) {
    *cp = 0;
    for (int k = 1; k <= 4; ++k) {
      if (i_ + k >= s_.size() || !IsHex(s_[i_ + k])) return false;
      char c = s_[i_ + k];
      *cp = (*cp << 4) | static_cast<uint32_t>(IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    i_ += 4;
    return true;
  }
  bool Digits() {
    size_t start = i_;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    return i_ > start;
  }
  bool Number() {
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!Digits()) return false;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  int max_depth_;
};

// Scanning valid text: where the value starting at `i` ends.
size_t StringEnd(std::string_view s, size_t i) {  // i at the opening quote
#ifdef __SSE2__
  // Most strings are short: one 16-byte look finds the end of one without
  // an escape, sparing memchr's call.
  if (i + 17 <= s.size()) {
    __m128i v = Load16(s.data() + i + 1);
    unsigned q = Mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    unsigned m = q | Mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    if (m & q & (0u - m)) return i + 2 + static_cast<size_t>(__builtin_ctz(m));  // a '"' comes first
  }
#endif
  // In valid text a string ends at the first '"' not escaped, i.e. not after
  // an odd run of backslashes: memchr (AVX2 in glibc) finds candidates at
  // memory speed.
  for (++i; i < s.size();) {
    const void* q = std::memchr(s.data() + i, '"', s.size() - i);
    if (!q) return s.size();
    size_t at = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t slashes = 0;
    while (at - slashes > i && s[at - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return at + 1;
    i = at + 1;
  }
  return s.size();
}

// Scans bytes [from, to) of s outside or inside strings (a '\\' in a string
// escapes the next byte) and counts brackets outside them: where the
// container closes (depth back to 0), or 0 if not in this range.
size_t ScanBytes(std::string_view s, size_t from, size_t to, bool* in_string, bool* escape, int* depth) {
  for (size_t k = from; k < to; ++k) {
    char c = s[k];
    if (*in_string) {
      if (*escape) {
        *escape = false;
      } else if (c == '\\') {
        *escape = true;
      } else if (c == '"') {
        *in_string = false;
      }
    } else if (c == '"') {
      *in_string = true;
    } else if (c == '{' || c == '[') {
      ++*depth;
    } else if ((c == '}' || c == ']') && --*depth == 0) {
      return k + 1;
    }
  }
  return 0;
}

// Where the object or array at s[i] ends. The same walk as ScanBytes (and
// so as StringEnd), 64 bytes a step: objects are dense with short strings,
// where jumping from one '"' to the next is a chain of dependent loads.
size_t ContainerEnd(std::string_view s, size_t i) {
  bool in_string = false, escape = false;
  int depth = 0;
#ifdef __SSE2__
  char tail[64];
  while (i < s.size()) {
    const char* p = s.data() + i;
    size_t n = std::min<size_t>(s.size() - i, 64);
    if (n < 64) {  // never read past the view: pad with inert spaces
      std::memset(tail, ' ', sizeof tail);
      std::memcpy(tail, p, n);
      p = tail;
    }
    uint64_t quote = Eq64(p, '"');
    if (escape || Eq64(p, '\\')) {  // escapes are rare: this block byte by byte
      if (size_t end = ScanBytes(s, i, i + n, &in_string, &escape, &depth)) return end;
      i += n;
      continue;
    }
    if (in_string && !quote) {
      // Deep in a long string (a payload): memchr (AVX2 in glibc) finds its
      // end faster, and that is the end if no '\\' comes before it.
      size_t from = i + n;
      const char* q = static_cast<const char*>(std::memchr(s.data() + from, '"', s.size() - from));
      if (!q) break;
      size_t at = static_cast<size_t>(q - s.data());
      if (const void* b = std::memchr(s.data() + from, '\\', at - from)) {
        i = static_cast<size_t>(static_cast<const char*>(b) - s.data());  // still in the string
      } else {
        i = at + 1;
        in_string = false;
      }
      continue;
    }
    // No escapes, so every quote delimits a string: its bytes are the bits
    // between pairs.
    uint64_t inside = PrefixXor(quote) ^ (in_string ? ~uint64_t{0} : 0);
    in_string = inside >> 63;
    uint64_t open = Bracket64(p, '{') & ~inside;
    uint64_t close = Bracket64(p, '}') & ~inside;
    for (uint64_t m = open | close; m; m &= m - 1) {
      int k = __builtin_ctzll(m);
      if (open >> k & 1) {
        ++depth;
      } else if (--depth == 0) {
        return i + static_cast<size_t>(k) + 1;
      }
    }
    i += n;
  }
  return s.size();
#else
  size_t end = ScanBytes(s, i, s.size(), &in_string, &escape, &depth);
  return end ? end : s.size();
#endif
}


uint32_t Hex4(std::string_view s) {
  uint32_t v = 0;
  for (char c : s.substr(0, 4)) {
    v <<= 4;
    if (IsDigit(c)) {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    }
  }
  return v;
}

}  // namespace

size_t ValueEnd(std::string_view s, size_t i) {
  char c = s[i];
  if (c == '"') return StringEnd(s, i);
  if (c == '{' || c == '[') return ContainerEnd(s, i);
  while (i < s.size() && !IsWs(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

size_t SkipWs(std::string_view s, size_t i) {
  while (i < s.size() && IsWs(s[i])) ++i;
  return i;
}

bool Valid(std::string_view text, int max_depth) { return Validator(text, max_depth).Run(); }

bool NestingWithin(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Kind KindOf(std::string_view value) {
  switch (value.empty() ? 'n' : value.front()) {
    case '{': return Kind::kObject;
    case '[': return Kind::kArray;
    case '"': return Kind::kString;
    case 't': return Kind::kTrue;
    case 'f': return Kind::kFalse;
    case 'n': return Kind::kNull;
    default: return Kind::kNumber;
  }
}

std::vector<Member> Members(std::string_view object) {
  std::vector<Member> out;
  size_t i = SkipWs(object, 0);
  if (i >= object.size() || object[i] != '{') return out;
  i = SkipWs(object, i + 1);
  // Grown one by one, a CloudEvent's ~8 members cost 4 allocations: reserve
  // enough for a typical object, bounded by what the text can hold (a member
  // takes >= 6 bytes).
  if (i < object.size() && object[i] == '"') out.reserve(std::min<size_t>(16, object.size() / 6 + 1));
  while (i < object.size() && object[i] == '"') {
    size_t key_end = StringEnd(object, i);
    std::string_view key = object.substr(i, key_end - i);
    i = SkipWs(object, SkipWs(object, key_end) + 1);  // past ':'
    if (i >= object.size()) break;
    size_t value_end = ValueEnd(object, i);
    out.push_back(Member{key, object.substr(i, value_end - i)});
    i = SkipWs(object, value_end);
    if (i < object.size() && object[i] == ',') i = SkipWs(object, i + 1);
  }
  return out;
}

std::vector<std::string_view> Elements(std::string_view array) {
  std::vector<std::string_view> out;
  size_t i = SkipWs(array, 0);
  if (i >= array.size() || array[i] != '[') return out;
  i = SkipWs(array, i + 1);
  // As in Members; 32 covers a typical bulk body (an element takes >= 2 bytes).
  if (i < array.size() && array[i] != ']') out.reserve(std::min<size_t>(32, array.size() / 2 + 1));
  while (i < array.size() && array[i] != ']') {
    size_t end = ValueEnd(array, i);
    out.push_back(array.substr(i, end - i));
    i = SkipWs(array, end);
    if (i < array.size() && array[i] == ',') i = SkipWs(array, i + 1);
  }
  return out;
}

std::string Unquote(std::string_view literal) {
  if (literal.size() < 2) return {};
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (body.find('\\') == std::string_view::npos) return std::string(body);
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = Hex4(body.substr(i + 1));
        i += 4;
        // A surrogate pair is one code point (Valid text pairs them; other
        // text gets U+FFFD, so the result is always UTF-8).
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u') {
          uint32_t lo = Hex4(body.substr(i + 3));
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        enc::AppendUtf8(out, cp);
        break;
      }
      default: out += e;  // " \ /
    }
  }
  return out;
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t run = SkipPlain(s, i);
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    if (run >= s.size()) break;
    i = run;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (len > 1 && i + len <= s.size() && enc::IsValidUtf8(s.substr(i, len))) {
        out.append(s.data() + i, len);
        i += len;
      } else {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
      }
      continue;
    }
    out += '\\';
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\n': out += 'n'; break;
      case '\r': out += 'r'; break;
      case '\t': out += 't'; break;
      case '\b': out += 'b'; break;
      case '\f': out += 'f'; break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++i;
  }
  out += '"';
}

bool Equals(std::string_view literal, std::string_view s) {
  if (literal.size() < 2) return false;
  std::string_view body = literal.substr(1, literal.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body == s;
  return Unquote(literal) == s;
}

}  // namespace ofn::jsontext

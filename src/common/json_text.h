// JSON text without a DOM: a validator and a scanner over validated text.
//
// For hot paths that carry JSON through (event payloads, bulk bodies): a
// tree parser (nlohmann) costs ~10 ns per byte and allocates per member;
// these run at memory speed and hand out views into the text. Use them to
// check a document once and find its parts; parse only the small parts that
// need a value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ofn::jsontext {

// True when `text` is exactly one JSON value (RFC 8259) with optional
// whitespace around it: strings are valid UTF-8 without raw control
// characters, and arrays and objects nest at most `max_depth` deep.
bool Valid(std::string_view text, int max_depth = 512);

// True when brackets outside strings nest at most `max_depth` deep, in any
// text (valid or not): tells a too-deep document from a malformed one
// without recursing.
bool NestingWithin(std::string_view text, int max_depth);

enum class Kind { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };
// The kind of a value; `value` is a Valid value's text starting at its first byte.
Kind KindOf(std::string_view value);

struct Member {
  std::string_view key;    // the string literal, quotes included (Unquote it)
  std::string_view value;  // the value's text, no surrounding whitespace
};
// The members of a Valid object, in document order (duplicates included).
// `object` may have surrounding whitespace. Not an object: empty.
std::vector<Member> Members(std::string_view object);
// The elements of a Valid array, in order. Not an array: empty.
std::vector<std::string_view> Elements(std::string_view array);

// For walks of a Valid text that Members and Elements do not cover (one
// pass into nested parts): the index after the value whose first byte is at
// `i`, and the first index from `i` that is not whitespace.
size_t ValueEnd(std::string_view text, size_t i);
size_t SkipWs(std::string_view text, size_t i);

// The string a valid string literal (quotes included) denotes, UTF-8.
std::string Unquote(std::string_view literal);
// Appends `s` as a string literal (quotes included): '"', '\\' and control
// characters escaped, a byte that is not part of valid UTF-8 replaced by
// U+FFFD, so the result is always valid JSON.
void AppendQuoted(std::string& out, std::string_view s);
// True when the literal (quotes included) denotes exactly `s`; no allocation
// unless the literal has escapes.
bool Equals(std::string_view literal, std::string_view s);

}  // namespace ofn::jsontext

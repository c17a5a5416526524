// Small text encodings shared by the codecs: percent-encoding, Base64, UTF-8
// validation, ASCII case folding. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <cstdint>
#include <string>
#include <string_view>

namespace ofn::enc {

// Decodes %XX escapes (either hex case); with plus_as_space, '+' becomes ' '
// (query strings). nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space = false);
// Escapes everything outside RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view s);

// Strict UTF-8: rejects overlong forms, surrogates and code points past U+10FFFF.
bool IsValidUtf8(std::string_view s);

std::string Base64Encode(std::string_view bytes);
// Appends code point `cp` (at most 0x10FFFF) encoded in UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);
// Standard alphabet with padding; whitespace is not allowed. nullopt if invalid.
std::optional<std::string> Base64Decode(std::string_view text);

std::string ToLower(std::string_view s);
std::string_view Trim(std::string_view s);  // spaces and tabs
// Untrusted text for an error message: in double quotes, at most 200 bytes
// (then "..."), control characters as '?'.
std::string QuoteForMessage(std::string_view s);

}  // namespace ofn::enc

#include "net/http_parser.h"

#include <charconv>
#include <cstring>

namespace ofn::net {
namespace {

// RFC 9110 tchar.
bool IsTokenChar(unsigned char c) {
  static const bool* table = [] {
    static bool t[256] = {};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
  }();
  return table[c];
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token.
template <typename F>
void ForEachToken(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tok = TrimOws(list.substr(0, comma));
    if (!tok.empty()) f(tok);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Splits off one line ending in LF (CR before it dropped); false if no LF.
bool NextLine(std::string_view& rest, std::string_view& line) {
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return false;
  line = rest.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  rest.remove_prefix(nl + 1);
  return true;
}

}  // namespace

void RequestParser::Reset() {
  stage_ = Stage::kHead;
  started_ = false;
  scan_ = head_start_ = body_start_ = content_length_ = pos_ = chunk_left_ = consumed_ = 0;
  expect_continue_ = false;
  keep_alive_ = true;
  is_head_ = false;
  error_status_ = 0;
  error_message_.clear();
  chunked_body_.clear();
  header_spans_.clear();
  request_.clear_headers();
  request_.set_path_params({});
  request_.set_body({});
}

RequestParser::State RequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  keep_alive_ = false;
  return State::kError;
}

RequestParser::State RequestParser::Parse(std::string_view input) {
  if (error_status_) return State::kError;
  if (stage_ == Stage::kHead) {
    State s = ParseHead(input);
    if (s != State::kComplete) return s;  // kComplete here means "head done"
  }
  switch (stage_) {
    case Stage::kFixedBody:
      if (input.size() - body_start_ < content_length_) return State::kNeedMore;
      request_.set_body(input.substr(body_start_, content_length_));
      return Complete(input, body_start_ + content_length_);
    case Stage::kDone:
      request_.set_body({});
      return Complete(input, body_start_);
    default:
      return ParseChunked(input);
  }
}

RequestParser::State RequestParser::ParseHead(std::string_view input) {
  // RFC 9112 §2.2: ignore empty lines before the request line.
  while (head_start_ < input.size() && (input[head_start_] == '\r' || input[head_start_] == '\n')) {
    if (++head_start_ > 1024) return Fail(400, "too many empty lines before the request line");
  }
  if (head_start_ < input.size()) started_ = true;

  // Find the empty line that ends the head; LF alone is accepted as a line end.
  size_t end = 0;
  size_t i = scan_ > head_start_ ? scan_ : head_start_;
  const char* data = input.data();
  while (i < input.size()) {
    const void* nl = std::memchr(data + i, '\n', input.size() - i);
    if (!nl) {
      i = input.size();
      break;
    }
    size_t p = static_cast<const char*>(nl) - data;
    if (p + 1 < input.size() && data[p + 1] == '\n') {
      end = p + 2;
      break;
    }
    if (p + 2 < input.size() && data[p + 1] == '\r' && data[p + 2] == '\n') {
      end = p + 3;
      break;
    }
    if (p + 1 >= input.size() || (p + 2 >= input.size() && data[p + 1] == '\r')) {
      i = p;  // the head may end right here once more bytes arrive
      break;
    }
    i = p + 1;
  }
  if (end == 0) {
    scan_ = i;
    if (input.size() - head_start_ > limits_.max_header_bytes) {
      return Fail(431, "request header fields too large");
    }
    return State::kNeedMore;
  }
  if (end - head_start_ > limits_.max_header_bytes) return Fail(431, "request header fields too large");

  std::string_view rest = input.substr(head_start_, end - head_start_);
  std::string_view line;
  NextLine(rest, line);
  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Fail(400, "malformed request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "malformed method");
  if (target.empty()) return Fail(400, "empty request target");
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return Fail(400, "invalid character in request target");
  }
  // HTTP/1.x with x > 1 is served as 1.1 (RFC 9112 §2.6). Other versions
  // are the client's error: a 4xx, never a 5xx, for anything a client sends.
  int minor;
  bool digits = version.size() == 8 && version[5] >= '0' && version[5] <= '9' && version[7] >= '0' &&
                version[7] <= '9';
  if (!digits || version.substr(0, 5) != "HTTP/" || version[6] != '.') return Fail(400, "malformed HTTP version");
  if (version[5] != '1') return Fail(400, "HTTP version not supported (only HTTP/1.x)");
  minor = version[7] == '0' ? 0 : 1;
  auto span = [&](std::string_view s) {
    return Span{static_cast<uint32_t>(s.data() - input.data()), static_cast<uint32_t>(s.size())};
  };
  method_ = span(method);
  target_ = span(target);
  request_.set_http_minor(minor);
  keep_alive_ = minor == 1;

  bool chunked = false, has_te = false, has_cl = false;
  size_t content_length = 0;
  while (NextLine(rest, line)) {
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return Fail(400, "obsolete header line folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail(400, "header line without a colon");
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return Fail(400, "malformed header name");
    std::string_view value = TrimOws(line.substr(colon + 1));
    for (unsigned char c : value) {
      if (c == 0 || c == '\r' || c == '\n') return Fail(400, "invalid character in header value");
    }
    if (header_spans_.size() >= limits_.max_headers) return Fail(431, "too many header fields");
    header_spans_.push_back({span(name), span(value)});

    if (EqualsIgnoreCase(name, "content-length")) {
      size_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
        return Fail(400, "malformed Content-Length");
      }
      if (has_cl && v != content_length) return Fail(400, "conflicting Content-Length headers");
      has_cl = true;
      content_length = v;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      has_te = true;
      chunked = false;
      ForEachToken(value, [&](std::string_view tok) { chunked = EqualsIgnoreCase(tok, "chunked"); });
      if (!chunked) return Fail(400, "unsupported transfer coding (only chunked)");
    } else if (EqualsIgnoreCase(name, "connection")) {
      ForEachToken(value, [&](std::string_view tok) {
        if (EqualsIgnoreCase(tok, "close")) keep_alive_ = false;
        if (EqualsIgnoreCase(tok, "keep-alive") && minor == 0) keep_alive_ = true;
      });
    } else if (EqualsIgnoreCase(name, "expect")) {
      if (EqualsIgnoreCase(value, "100-continue")) expect_continue_ = minor == 1;
    }
  }
  // A request with both framings is a smuggling vector: refuse it.
  if (has_te && has_cl) return Fail(400, "both Transfer-Encoding and Content-Length");
  if (has_te && minor == 0) return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (content_length > limits_.max_body_bytes) return Fail(413, "request body too large");

  body_start_ = end;
  if (chunked) {
    stage_ = Stage::kChunkSize;
    pos_ = end;
  } else if (content_length > 0) {
    stage_ = Stage::kFixedBody;
    content_length_ = content_length;
  } else {
    stage_ = Stage::kDone;
  }
  return State::kComplete;
}

RequestParser::State RequestParser::ParseChunked(std::string_view input) {
  for (;;) {
    switch (stage_) {
      case Stage::kChunkSize: {
        std::string_view rest = input.substr(pos_), line;
        if (!NextLine(rest, line)) {
          if (rest.size() > 4096) return Fail(400, "malformed chunk size line");
          return State::kNeedMore;
        }
        size_t semi = line.find(';');  // chunk extensions are ignored
        std::string_view hex = TrimOws(line.substr(0, semi));
        size_t size = 0;
        auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
        if (hex.empty() || hex.size() > 15 || ec != std::errc() || p != hex.data() + hex.size()) {
          return Fail(400, "malformed chunk size");
        }
        pos_ = input.size() - rest.size();
        if (size == 0) {
          stage_ = Stage::kTrailers;
          break;
        }
        if (chunked_body_.size() + size > limits_.max_body_bytes) return Fail(413, "request body too large");
        chunk_left_ = size;
        stage_ = Stage::kChunkData;
        break;
      }
      case Stage::kChunkData: {
        size_t take = std::min(chunk_left_, input.size() - pos_);
        chunked_body_.append(input.data() + pos_, take);
        pos_ += take;
        chunk_left_ -= take;
        if (chunk_left_ > 0) return State::kNeedMore;
        stage_ = Stage::kChunkDataEnd;
        break;
      }
      case Stage::kChunkDataEnd: {
        if (input.size() - pos_ < 1) return State::kNeedMore;
        if (input[pos_] == '\n') {
          pos_ += 1;
        } else if (input[pos_] == '\r') {
          if (input.size() - pos_ < 2) return State::kNeedMore;
          if (input[pos_ + 1] != '\n') return Fail(400, "malformed chunk terminator");
          pos_ += 2;
        } else {
          return Fail(400, "malformed chunk terminator");
        }
        stage_ = Stage::kChunkSize;
        break;
      }
      case Stage::kTrailers: {
        std::string_view rest = input.substr(pos_), line;
        if (!NextLine(rest, line)) {
          if (pos_ - body_start_ + rest.size() > limits_.max_body_bytes + limits_.max_header_bytes) {
            return Fail(431, "trailer fields too large");
          }
          return State::kNeedMore;
        }
        pos_ = input.size() - rest.size();
        if (line.empty()) {
          request_.set_body(chunked_body_);
          return Complete(input, pos_);
        }
        break;  // trailer fields are read and dropped
      }
      default:
        return Fail(500, "parser in an impossible state");
    }
  }
}

RequestParser::State RequestParser::Complete(std::string_view input, size_t end) {
  auto view = [&](Span s) { return input.substr(s.off, s.len); };
  request_.set_method(view(method_));
  request_.set_target(view(target_));
  request_.clear_headers();
  for (const auto& [n, v] : header_spans_) request_.add_header(view(n), view(v));
  is_head_ = view(method_) == "HEAD";
  consumed_ = end;
  stage_ = Stage::kDone;
  return State::kComplete;
}

}  // namespace ofn::net

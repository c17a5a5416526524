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

// The offset just past the empty line that ends a message head, or 0 when it
// has not arrived; *resume is where to search from next time. LF alone is
// accepted as a line end (RFC 9112 §2.2).
size_t FindHeadEnd(std::string_view input, size_t from, size_t* resume) {
  const char* data = input.data();
  size_t i = from;
  while (i < input.size()) {
    const void* nl = std::memchr(data + i, '\n', input.size() - i);
    if (!nl) {
      i = input.size();
      break;
    }
    size_t p = static_cast<const char*>(nl) - data;
    if (p + 1 < input.size() && data[p + 1] == '\n') return p + 2;
    if (p + 2 < input.size() && data[p + 1] == '\r' && data[p + 2] == '\n') return p + 3;
    if (p + 1 >= input.size() || (p + 2 >= input.size() && data[p + 1] == '\r')) {
      i = p;  // the head may end right here once more bytes arrive
      break;
    }
    i = p + 1;
  }
  *resume = i;
  return 0;
}

}  // namespace

void RequestParser::Reset() {
  stage_ = Stage::kHead;
  started_ = false;
  scan_ = head_start_ = body_start_ = content_length_ = consumed_ = 0;
  expect_continue_ = false;
  keep_alive_ = true;
  is_head_ = false;
  error_status_ = 0;
  error_message_.clear();
  chunked_.Reset(0);
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

  size_t end = FindHeadEnd(input, scan_ > head_start_ ? scan_ : head_start_, &scan_);
  if (end == 0) {
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
    stage_ = Stage::kChunked;
    chunked_.Reset(end);
  } else if (content_length > 0) {
    stage_ = Stage::kFixedBody;
    content_length_ = content_length;
  } else {
    stage_ = Stage::kDone;
  }
  return State::kComplete;
}

RequestParser::State RequestParser::ParseChunked(std::string_view input) {
  switch (chunked_.Feed(input, limits_.max_body_bytes)) {
    case ChunkedDecoder::State::kNeedMore:
      return State::kNeedMore;
    case ChunkedDecoder::State::kError:
      return Fail(chunked_.error_status(), chunked_.error_message());
    case ChunkedDecoder::State::kDone:
      break;
  }
  request_.set_body(chunked_.body());
  return Complete(input, chunked_.end());
}

void ChunkedDecoder::Reset(size_t start) {
  stage_ = Stage::kSize;
  pos_ = start;
  left_ = 0;
  trailer_bytes_ = 0;
  body_.clear();
  error_status_ = 0;
  error_message_.clear();
}

ChunkedDecoder::State ChunkedDecoder::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return State::kError;
}

ChunkedDecoder::State ChunkedDecoder::Feed(std::string_view input, size_t max_body) {
  if (error_status_) return State::kError;
  for (;;) {
    switch (stage_) {
      case Stage::kSize: {
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
        if (body_.size() + size > max_body) return Fail(413, "body too large");
        left_ = size;
        stage_ = Stage::kData;
        break;
      }
      case Stage::kData: {
        size_t take = std::min(left_, input.size() - pos_);
        body_.append(input.data() + pos_, take);
        pos_ += take;
        left_ -= take;
        if (left_ > 0) return State::kNeedMore;
        stage_ = Stage::kDataEnd;
        break;
      }
      case Stage::kDataEnd: {
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
        stage_ = Stage::kSize;
        break;
      }
      case Stage::kTrailers: {
        std::string_view rest = input.substr(pos_), line;
        if (!NextLine(rest, line)) {
          if (trailer_bytes_ + rest.size() > kMaxTrailerBytes) return Fail(431, "trailer fields too large");
          return State::kNeedMore;
        }
        size_t used = input.size() - rest.size() - pos_;
        trailer_bytes_ += used;
        pos_ += used;
        if (line.empty()) {
          stage_ = Stage::kDone;
          return State::kDone;
        }
        if (trailer_bytes_ > kMaxTrailerBytes) return Fail(431, "trailer fields too large");
        break;  // trailer fields are read and dropped
      }
      case Stage::kDone:
        return State::kDone;
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

void ResponseParser::Reset(bool head_request) {
  head_request_ = head_request;
  stage_ = Stage::kHead;
  head_start_ = scan_ = body_start_ = content_length_ = consumed_ = 0;
  status_ = 0;
  keep_alive_ = true;
  headers_.clear();
  body_.clear();
  error_.clear();
}

ResponseParser::State ResponseParser::Fail(std::string message) {
  error_ = std::move(message);
  keep_alive_ = false;
  return State::kError;
}

ResponseParser::State ResponseParser::ParseHead(std::string_view input, bool eof) {
  constexpr size_t kMaxHead = 1 << 20;
  for (;;) {
    size_t end = FindHeadEnd(input, std::max(scan_, head_start_), &scan_);
    if (end == 0) {
      if (input.size() - head_start_ > kMaxHead) return Fail("response head too large");
      if (eof) return Fail("connection closed before a complete response head");
      return State::kNeedMore;
    }
    std::string_view rest = input.substr(head_start_, end - head_start_), line;
    NextLine(rest, line);
    // status-line = HTTP-version SP status-code SP [reason-phrase]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return Fail("malformed status line");
    int status = 0;
    auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
    if (ec != std::errc() || p != line.data() + 12 || status < 100 || (line.size() > 12 && line[12] != ' ')) {
      return Fail("malformed status code");
    }
    bool http10 = line[7] == '0';
    headers_.clear();
    bool chunked = false, has_cl = false;
    size_t content_length = 0;
    keep_alive_ = !http10;
    while (NextLine(rest, line)) {
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Fail("malformed header line");
      std::string_view name = line.substr(0, colon), value = TrimOws(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "content-length")) {
        auto [q, e2] = std::from_chars(value.data(), value.data() + value.size(), content_length);
        if (value.empty() || e2 != std::errc() || q != value.data() + value.size()) return Fail("malformed Content-Length");
        has_cl = true;
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = false;
        ForEachToken(value, [&](std::string_view tok) { chunked = EqualsIgnoreCase(tok, "chunked"); });
      } else if (EqualsIgnoreCase(name, "connection")) {
        ForEachToken(value, [&](std::string_view tok) {
          if (EqualsIgnoreCase(tok, "close")) keep_alive_ = false;
          if (EqualsIgnoreCase(tok, "keep-alive") && http10) keep_alive_ = true;
        });
      }
      headers_.emplace_back(std::string(name), std::string(value));
    }
    if (status >= 100 && status < 200 && status != 101) {
      head_start_ = end;  // interim response: the real one follows
      continue;
    }
    status_ = status;
    body_start_ = end;
    if (head_request_ || status == 204 || status == 304 || status == 101) {
      stage_ = Stage::kDone;
    } else if (chunked) {
      stage_ = Stage::kChunked;
      chunked_.Reset(end);
    } else if (has_cl) {
      if (content_length > max_body_) return Fail("response body too large");
      content_length_ = content_length;
      stage_ = Stage::kFixedBody;
    } else {
      stage_ = Stage::kUntilClose;
      keep_alive_ = false;
    }
    return State::kComplete;
  }
}

ResponseParser::State ResponseParser::Parse(std::string_view input, bool eof) {
  if (!error_.empty()) return State::kError;
  if (stage_ == Stage::kHead) {
    State s = ParseHead(input, eof);
    if (s != State::kComplete) return s;
  }
  switch (stage_) {
    case Stage::kFixedBody:
      if (input.size() - body_start_ < content_length_) {
        if (eof) return Fail("connection closed in the middle of the body");
        return State::kNeedMore;
      }
      body_.assign(input.data() + body_start_, content_length_);
      consumed_ = body_start_ + content_length_;
      break;
    case Stage::kChunked:
      switch (chunked_.Feed(input, max_body_)) {
        case ChunkedDecoder::State::kNeedMore:
          if (eof) return Fail("connection closed in the middle of a chunked body");
          return State::kNeedMore;
        case ChunkedDecoder::State::kError:
          return Fail(chunked_.error_message());
        case ChunkedDecoder::State::kDone:
          break;
      }
      body_ = std::move(chunked_.mutable_body());
      consumed_ = chunked_.end();
      break;
    case Stage::kUntilClose:
      if (input.size() - body_start_ > max_body_) return Fail("response body too large");
      if (!eof) return State::kNeedMore;
      body_.assign(input.data() + body_start_, input.size() - body_start_);
      consumed_ = input.size();
      break;
    case Stage::kDone:
      consumed_ = std::max(consumed_, body_start_);
      break;
    case Stage::kHead:
      break;
  }
  stage_ = Stage::kDone;
  return State::kComplete;
}

}  // namespace ofn::net

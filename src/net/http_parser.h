// RequestParser: an incremental HTTP/1.x request parser.
//
// Feed it the connection's unconsumed input (the same bytes plus whatever
// arrived since) until it says kComplete; request() then views that input
// (headers) and the parser's own storage (de-chunked bodies), valid until
// Reset() or until the input buffer changes. Limits turn into the status a
// server should answer (400, 413, 431). One parser per connection;
// not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/http_request.h"

namespace ofn::net {

struct ParseLimits {
  size_t max_header_bytes = 1 << 20;  // request line + headers
  size_t max_body_bytes = 64 << 20;
  size_t max_headers = 1000;
};

// Decodes a chunked body (RFC 9112 §7.1) out of a growing input buffer:
// chunk extensions and trailer fields are read and dropped. Shared by the
// request and response parsers.
class ChunkedDecoder {
 public:
  enum class State { kNeedMore, kDone, kError };
  // Starts decoding at offset `start` of the input.
  void Reset(size_t start);
  State Feed(std::string_view input, size_t max_body);
  size_t end() const { return pos_; }  // after kDone: the first byte after the body
  const std::string& body() const { return body_; }
  std::string& mutable_body() { return body_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  static constexpr size_t kMaxTrailerBytes = 64 * 1024;
  enum class Stage { kSize, kData, kDataEnd, kTrailers, kDone };
  State Fail(int status, std::string message);
  Stage stage_ = Stage::kSize;
  size_t pos_ = 0, left_ = 0, trailer_bytes_ = 0;
  std::string body_;
  int error_status_ = 0;
  std::string error_message_;
};

class RequestParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  explicit RequestParser(ParseLimits limits = {}) : limits_(limits) {}

  // `input` starts at the first unconsumed byte and is the same prefix every
  // call until the request completes (more bytes may be appended).
  State Parse(std::string_view input);

  HttpRequest& request() { return request_; }
  // Bytes of input the complete request used.
  size_t consumed() const { return consumed_; }
  // True once the request line and headers are in.
  bool headers_done() const { return stage_ != Stage::kHead; }
  bool expects_continue() const { return expect_continue_; }
  // Whether the connection may stay open after this request.
  bool keep_alive() const { return keep_alive_; }
  bool is_head() const { return is_head_; }
  // Whether any byte of a request has been seen (for read timeouts).
  bool started() const { return started_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

  void Reset();

 private:
  enum class Stage { kHead, kFixedBody, kChunked, kDone };
  State Fail(int status, std::string message);
  State ParseHead(std::string_view input);
  State ParseChunked(std::string_view input);
  State Complete(std::string_view input, size_t end);

  ParseLimits limits_;
  HttpRequest request_;
  Stage stage_ = Stage::kHead;
  bool started_ = false;
  size_t scan_ = 0;         // where to resume looking for the end of the head
  size_t head_start_ = 0;   // skips empty lines before the request line
  size_t body_start_ = 0;
  size_t content_length_ = 0;
  bool expect_continue_ = false;
  bool keep_alive_ = true;
  bool is_head_ = false;
  size_t consumed_ = 0;
  int error_status_ = 0;
  std::string error_message_;
  ChunkedDecoder chunked_;
  // Offsets of the head's parts, turned into views once the request is complete.
  struct Span {
    uint32_t off, len;
  };
  Span method_{}, target_{};
  std::vector<std::pair<Span, Span>> header_spans_;
};

// ResponseParser: an incremental HTTP/1.x response parser for clients and
// proxies. Interim 1xx responses are skipped. Headers and body are copied out
// (owned), so the input may change after kComplete. Not thread-safe.
class ResponseParser {
 public:
  enum class State { kNeedMore, kComplete, kError };
  explicit ResponseParser(size_t max_body = 64 << 20) : max_body_(max_body) {}

  // Before each response; `head_request`: the request was HEAD (no body follows).
  void Reset(bool head_request);
  // `input` holds the response bytes received so far (the same prefix every
  // call); `eof`: the peer closed, which ends a body without framing.
  State Parse(std::string_view input, bool eof);

  int status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  std::string& body() { return body_; }
  size_t consumed() const { return consumed_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  enum class Stage { kHead, kFixedBody, kChunked, kUntilClose, kDone };
  State Fail(std::string message);
  State ParseHead(std::string_view input, bool eof);

  size_t max_body_;
  bool head_request_ = false;
  Stage stage_ = Stage::kHead;
  size_t head_start_ = 0, scan_ = 0, body_start_ = 0, content_length_ = 0, consumed_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  ChunkedDecoder chunked_;
  std::string error_;
};

}  // namespace ofn::net

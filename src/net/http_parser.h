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
  enum class Stage { kHead, kFixedBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };
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
  size_t pos_ = 0;          // chunked: next unparsed byte
  size_t chunk_left_ = 0;
  bool expect_continue_ = false;
  bool keep_alive_ = true;
  bool is_head_ = false;
  size_t consumed_ = 0;
  int error_status_ = 0;
  std::string error_message_;
  std::string chunked_body_;
  // Offsets of the head's parts, turned into views once the request is complete.
  struct Span {
    uint32_t off, len;
  };
  Span method_{}, target_{};
  std::vector<std::pair<Span, Span>> header_spans_;
};

}  // namespace ofn::net

// A raw HTTP/1.1 client for integration tests.
//
// RawConnection is a TCP connection to 127.0.0.1:port that sends arbitrary
// bytes (at once, or in pieces with pauses, to play a slow client) and reads
// complete HTTP/1.1 responses: status line, headers, and a body framed by
// Content-Length, chunked encoding or the end of the connection. Interim 1xx
// responses are skipped and recorded. Every call takes a deadline. Nothing is
// checked or fixed up in what is sent, so malformed requests can be written
// too. A RawConnection is used from one thread at a time.
//
// RawRequest builds well-formed requests.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ofn/status.h"
#include "support/process.h"

namespace ofn::testing {

struct RawResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;           // the body came chunked
  std::vector<int> interim;       // 1xx statuses received before this response, in order
  std::string head;               // the raw status line and headers

  // First value of the header (name compared case-insensitively).
  std::optional<std::string> Header(std::string_view name) const;
  std::size_t HeaderCount(std::string_view name) const;
  // "HTTP/1.1 200 OK (12 bytes body)" plus the head, for failure messages.
  std::string Describe() const;
};

struct RawRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string version = "HTTP/1.1";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Adds "Host: 127.0.0.1" first when no Host header is given (HTTP/1.1 only).
  bool add_host = true;
  // Adds Content-Length when no Content-Length / Transfer-Encoding header is
  // given and the body is not empty or the method is not GET or HEAD.
  bool add_content_length = true;

  RawRequest& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // The request as bytes. The body is sent as is (see Chunked() to encode it).
  std::string Serialize() const;
  // The headers the server receives, in order (Host and Content-Length included).
  std::vector<std::pair<std::string, std::string>> EffectiveHeaders() const;
};

// Request helpers.
RawRequest Get(std::string target);
RawRequest Post(std::string target, std::string body, std::string content_type = "");
// `body` in chunked transfer coding, `chunk_size` bytes per chunk, with the last chunk.
std::string Chunked(std::string_view body, std::size_t chunk_size);

class RawConnection {
 public:
  static Result<RawConnection> Connect(int port, Deadline deadline);
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  ~RawConnection();

  int fd() const { return fd_; }
  // Writes all bytes; while the socket is full, reads what the server sends
  // into the buffer so that neither side can block the other.
  Status Send(std::string_view bytes, Deadline deadline);
  // Writes `piece` bytes at a time with a pause after each piece.
  Status SendSlowly(std::string_view bytes, std::size_t piece, std::chrono::milliseconds pause, Deadline deadline);
  // Reads one final response, skipping (and recording) 1xx ones. With
  // `no_body` (answer to HEAD) the response has no body whatever its headers say.
  Result<RawResponse> ReadResponse(Deadline deadline, bool no_body = false);
  Result<std::vector<RawResponse>> ReadResponses(std::size_t n, Deadline deadline);
  // Reads an interim (1xx) or final response head if one arrives before the
  // deadline, without consuming it; returns its status, or nullopt.
  std::optional<int> PeekStatus(Deadline deadline);
  // Waits until the server closes the connection (EOF or reset); false at the
  // deadline. Bytes received meanwhile stay buffered.
  bool WaitForClose(Deadline deadline);
  // True if the server has closed its side (as far as we have read).
  bool closed_by_peer() const { return eof_; }
  void ShutdownWrite();
  // Closes with a TCP reset (SO_LINGER 0).
  void Reset();
  // Bytes received and not yet consumed by ReadResponse.
  const std::string& buffered() const { return buf_; }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  // Receives more bytes into buf_; error at the deadline or at EOF.
  Status Fill(Deadline deadline);
  // Reads until buf_ holds at least n bytes after `from`.
  Status Need(std::size_t end, Deadline deadline);
  Status ReadHead(std::string& head, Deadline deadline);

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
  int error_ = 0;  // errno of a failed recv (e.g. ECONNRESET)
};

// Connects, sends the request, reads one response.
Result<RawResponse> RoundTrip(int port, const RawRequest& request, Deadline deadline);
Result<RawResponse> RoundTripBytes(int port, std::string_view bytes, Deadline deadline, bool no_body = false);

}  // namespace ofn::testing

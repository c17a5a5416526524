// Helpers shared by the conformance test functions (examples/conformance).
//
// WriteOutputFile() writes the whole content to $FUNCTION_OUTPUT_FILE, or to
// function_output.json in the working directory when it is unset, as the
// functions conformance contract asks. The content goes to a uniquely named
// temporary file beside the target, which is then renamed over it, so a reader
// sees either the old file or the complete new one, never a torn write.
// Safe to call from several threads at once.
//
// EchoRequest() is the body of the HTTP and sleep functions: it writes the raw
// request body to the output file and answers 200 with the same bytes. The
// response also carries X-Echo-* headers describing the request the function
// saw (method, target, path, header count and digest), so that tests can check
// the framework passes them through unmodified. The contract does not check
// response headers, so these are extra information only.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ofn/http_request.h"
#include "ofn/http_response.h"

namespace conformance {

inline std::string OutputFilePath() {
  const char* env = std::getenv("FUNCTION_OUTPUT_FILE");
  if (env != nullptr && *env != '\0') return env;
  return "function_output.json";
}

// Returns false (and reports on stderr) when the file cannot be written.
inline bool WriteOutputFile(std::string_view content) {
  static std::atomic<std::uint64_t> counter{0};
  const std::string path = OutputFilePath();
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(("conformance: open " + tmp).c_str());
    return false;
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::perror(("conformance: write " + tmp).c_str());
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::perror(("conformance: write " + path).c_str());
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

// FNV-1a 64 over "lower(name):value\n" for each header, in order. The
// conformance test computes the same digest over the headers it sent.
inline std::uint64_t HeaderDigest(const ofn::HttpRequest& req) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  };
  for (const ofn::Header& header : req.headers()) {
    for (char c : header.name) mix((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    mix(':');
    for (char c : header.value) mix(c);
    mix('\n');
  }
  return h;
}

inline ofn::HttpResponse EchoRequest(const ofn::HttpRequest& req) {
  if (!WriteOutputFile(req.body())) return ofn::HttpResponse(500, "cannot write the output file\n");
  ofn::HttpResponse resp(200, std::string(req.body()), "application/octet-stream");
  resp.add_header("X-Echo-Method", std::string(req.method()));
  resp.add_header("X-Echo-Target", std::string(req.target()));
  resp.add_header("X-Echo-Path", std::string(req.path()));
  resp.add_header("X-Echo-Header-Count", std::to_string(req.headers().size()));
  resp.add_header("X-Echo-Header-Digest", std::to_string(HeaderDigest(req)));
  return resp;
}

}  // namespace conformance

// Fuzzes the HTTP/1.x request parser, whole and split at every position the
// input's first byte chooses, checking both give the same answer.
#include <cstdint>
#include <string>
#include <string_view>

#include "net/http_parser.h"

namespace {

struct Outcome {
  ofn::net::RequestParser::State state;
  int status;
  std::string body;
  size_t consumed;
};

Outcome ParseAll(std::string_view input, size_t split) {
  ofn::net::ParseLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 1 << 16;
  ofn::net::RequestParser p(limits);
  auto st = p.Parse(input.substr(0, split));
  if (st == ofn::net::RequestParser::State::kNeedMore) st = p.Parse(input);
  Outcome o{st, p.error_status(), "", 0};
  if (st == ofn::net::RequestParser::State::kComplete) {
    o.body = std::string(p.request().body());
    o.consumed = p.consumed();
    (void)p.request().header("host");
    (void)p.request().query("x");
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);
  Outcome whole = ParseAll(input, input.size());
  Outcome pieces = ParseAll(input, split);
  if (whole.state != pieces.state || whole.status != pieces.status || whole.body != pieces.body ||
      whole.consumed != pieces.consumed) {
    __builtin_trap();
  }
  return 0;
}

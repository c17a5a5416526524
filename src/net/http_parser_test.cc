#include "net/http_parser.h"

#include <gtest/gtest.h>

namespace ofn::net {
namespace {

using State = RequestParser::State;

TEST(RequestParser, ParsesSimpleGet) {
  RequestParser p;
  std::string in = "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Two:  spaced value \r\n\r\n";
  ASSERT_EQ(p.Parse(in), State::kComplete);
  EXPECT_EQ(p.request().method(), "GET");
  EXPECT_EQ(p.request().target(), "/a/b?x=1");
  EXPECT_EQ(p.request().path(), "/a/b");
  EXPECT_EQ(p.request().query_string(), "x=1");
  EXPECT_EQ(p.request().header("x-two"), "spaced value");
  EXPECT_EQ(p.request().headers().size(), 2u);
  EXPECT_EQ(p.consumed(), in.size());
  EXPECT_TRUE(p.keep_alive());
}

TEST(RequestParser, NeedsMoreUntilHeadEndsEvenByteByByte) {
  RequestParser p;
  std::string in = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t n = 1; n < in.size(); ++n) {
    ASSERT_EQ(p.Parse(std::string_view(in).substr(0, n)), State::kNeedMore) << n;
  }
  ASSERT_EQ(p.Parse(in), State::kComplete);
  EXPECT_EQ(p.request().body(), "hello");
}

TEST(RequestParser, AcceptsBareLineFeeds) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET / HTTP/1.1\nHost: a\n\n"), State::kComplete);
  EXPECT_EQ(p.request().header("host"), "a");
}

TEST(RequestParser, DecodesChunkedBodyWithExtensionsAndTrailers) {
  RequestParser p;
  std::string in =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  ASSERT_EQ(p.Parse(in), State::kComplete);
  EXPECT_EQ(p.request().body(), "hello world");
  EXPECT_EQ(p.consumed(), in.size());
}

TEST(RequestParser, ChunkedInPieces) {
  RequestParser p;
  std::string in = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n";
  State last = State::kNeedMore;
  for (size_t n = 1; n <= in.size(); ++n) {
    last = p.Parse(std::string_view(in).substr(0, n));
    if (n < in.size()) {
      ASSERT_EQ(last, State::kNeedMore) << n;
    }
  }
  ASSERT_EQ(last, State::kComplete);
  EXPECT_EQ(p.request().body(), "0123456789");
}

TEST(RequestParser, Http10ClosesUnlessKeepAlive) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET / HTTP/1.0\r\n\r\n"), State::kComplete);
  EXPECT_FALSE(p.keep_alive());
  EXPECT_EQ(p.request().http_minor(), 0);
  p.Reset();
  ASSERT_EQ(p.Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), State::kComplete);
  EXPECT_TRUE(p.keep_alive());
}

TEST(RequestParser, ConnectionCloseEndsKeepAlive) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n"), State::kComplete);
  EXPECT_FALSE(p.keep_alive());
}

TEST(RequestParser, ExpectContinue) {
  RequestParser p;
  ASSERT_EQ(p.Parse("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), State::kNeedMore);
  EXPECT_TRUE(p.headers_done());
  EXPECT_TRUE(p.expects_continue());
}

TEST(RequestParser, LaterHttp1MinorVersionsAreServedAs11) {
  RequestParser p;
  ASSERT_EQ(p.Parse("GET / HTTP/1.2\r\n\r\n"), State::kComplete);
  EXPECT_EQ(p.request().http_minor(), 1);
}

TEST(RequestParser, SkipsLeadingEmptyLines) {
  RequestParser p;
  ASSERT_EQ(p.Parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), State::kComplete);
  EXPECT_EQ(p.request().method(), "GET");
}

struct BadCase {
  std::string input;
  int status;
};

class RequestParserErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(RequestParserErrors, AnswersTheRightStatus) {
  ParseLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  RequestParser p(limits);
  ASSERT_EQ(p.Parse(GetParam().input), State::kError) << GetParam().input;
  EXPECT_EQ(p.error_status(), GetParam().status);
  EXPECT_FALSE(p.error_message().empty());
  EXPECT_FALSE(p.keep_alive());
}

INSTANTIATE_TEST_SUITE_P(
    All, RequestParserErrors,
    ::testing::Values(BadCase{"GARBAGE\r\n\r\n", 400}, BadCase{"GET  HTTP/1.1\r\n\r\n", 400},
                      BadCase{"GET / HTTP/2.0\r\n\r\n", 400}, BadCase{"GET / HTTQ/1.1\r\n\r\n", 400},
                      BadCase{"G(T / HTTP/1.1\r\n\r\n", 400}, BadCase{"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
                      BadCase{"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
                      BadCase{"GET / HTTP/1.1\r\nBad Name: b\r\n\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
                      BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
                      BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 413},
                      BadCase{"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431},
                      BadCase{"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a'), 431}));

}  // namespace
}  // namespace ofn::net

namespace ofn::net {
namespace {

using RState = ResponseParser::State;

TEST(ResponseParser, ContentLengthBodyInPieces) {
  ResponseParser p;
  p.Reset(false);
  std::string in = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  for (size_t n = 0; n < in.size(); ++n) ASSERT_EQ(p.Parse(std::string_view(in).substr(0, n), false), RState::kNeedMore);
  ASSERT_EQ(p.Parse(in, false), RState::kComplete);
  EXPECT_EQ(p.status(), 201);
  EXPECT_EQ(p.body(), "hello");
  EXPECT_EQ(p.consumed(), in.size());
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(p.headers().size(), 2u);
}

TEST(ResponseParser, SkipsInterimAndDecodesChunked) {
  ResponseParser p;
  p.Reset(false);
  std::string in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nNEXT";
  ASSERT_EQ(p.Parse(in, false), RState::kComplete);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "abc");
  EXPECT_EQ(in.substr(p.consumed()), "NEXT");
}

TEST(ResponseParser, BodyUntilCloseAndHead) {
  ResponseParser p;
  p.Reset(false);
  std::string in = "HTTP/1.0 200 OK\r\n\r\nall of it";
  EXPECT_EQ(p.Parse(in, false), RState::kNeedMore);
  ASSERT_EQ(p.Parse(in, true), RState::kComplete);
  EXPECT_EQ(p.body(), "all of it");
  EXPECT_FALSE(p.keep_alive());
  ResponseParser h;
  h.Reset(true);
  ASSERT_EQ(h.Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false), RState::kComplete);
  EXPECT_EQ(h.body(), "");
}

TEST(ResponseParser, Errors) {
  for (std::string bad : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"}) {
    ResponseParser p;
    p.Reset(false);
    EXPECT_EQ(p.Parse(bad, false), RState::kError) << bad;
    EXPECT_FALSE(p.error().empty());
  }
  ResponseParser cut;
  cut.Reset(false);
  EXPECT_EQ(cut.Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true), RState::kError);
}

}  // namespace
}  // namespace ofn::net

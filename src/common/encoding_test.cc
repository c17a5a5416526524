#include "common/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace ofn::enc {
namespace {

TEST(EncodingTest, PercentDecodeAcceptsEitherHexCase) {
  EXPECT_EQ(PercentDecode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(PercentDecode("%E2%82%ac"), "\xE2\x82\xAC");
}

TEST(EncodingTest, PercentDecodeAcceptsUnnecessaryEscapes) {
  EXPECT_EQ(PercentDecode("%61%62c"), "abc");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("plain"), "plain");
}

TEST(EncodingTest, PercentDecodeDecodesOnce) { EXPECT_EQ(PercentDecode("%2541"), "%41"); }

TEST(EncodingTest, PercentDecodePlusOnlyInQueryMode) {
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
}

TEST(EncodingTest, PercentDecodeRejectsBadEscapes) {
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("ab%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("%G1"), std::nullopt);
  EXPECT_EQ(PercentDecode("%1g"), std::nullopt);
  EXPECT_EQ(PercentDecode("%%41"), std::nullopt);
}

TEST(EncodingTest, PercentDecodeKeepsNulBytes) { EXPECT_EQ(PercentDecode("a%00b"), std::string("a\0b", 3)); }

TEST(EncodingTest, PercentEncodeKeepsUnreservedOnly) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/%\""), "a%20b%2F%25%22");
  EXPECT_EQ(PercentEncode("\xE2\x82\xAC"), "%E2%82%AC");
  EXPECT_EQ(PercentEncode(std::string("\0\xff", 2)), "%00%FF");
}

TEST(EncodingTest, PercentRoundTripAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(PercentDecode(PercentEncode(all)), all);
}

TEST(EncodingTest, Utf8AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("\0", 1)));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));           // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));           // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));       // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("Euro \xE2\x82\xAC"));  // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));       // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));       // U+E000, just above
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));   // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
}

TEST(EncodingTest, Utf8RejectsOverlongForms) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xA0"));  // U+0020 in two bytes (binding spec example)
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xA0"));      // U+0020 in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xA0"));  // four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(EncodingTest, Utf8RejectsSurrogatesAndOutOfRange) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
}

TEST(EncodingTest, Utf8RejectsBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\x80"));          // lone continuation
  EXPECT_FALSE(IsValidUtf8("a\xC3"));         // truncated 2-byte
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));      // truncated 3-byte
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));  // truncated 4-byte
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));      // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x28\x80"));
}

TEST(EncodingTest, Base64KnownVectors) {
  // RFC 4648 §10.
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64Encode("\xFB\xFF"), "+/8=");
  EXPECT_EQ(Base64Decode("+/8="), "\xFB\xFF");
}

TEST(EncodingTest, Base64RoundTripsBinary) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(255 - i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string s = all.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s) << n;
  }
}

TEST(EncodingTest, Base64RejectsInvalidText) {
  EXPECT_EQ(Base64Decode("Zg"), std::nullopt);    // no padding
  EXPECT_EQ(Base64Decode("Zg="), std::nullopt);   // short
  EXPECT_EQ(Base64Decode("Z==="), std::nullopt);  // padding too early
  EXPECT_EQ(Base64Decode("===="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg==Zm9v"), std::nullopt);  // padding mid-text
  EXPECT_EQ(Base64Decode("Zm=v"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9v\n"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm 9v"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9-"), std::nullopt);  // URL alphabet
  EXPECT_EQ(Base64Decode("Zm9_"), std::nullopt);
  EXPECT_EQ(Base64Decode("!!!!"), std::nullopt);
}

TEST(EncodingTest, ToLowerIsAsciiOnly) {
  EXPECT_EQ(ToLower("Content-TYPE"), "content-type");
  EXPECT_EQ(ToLower("\xC3\x84"), "\xC3\x84");
  EXPECT_EQ(ToLower("09@[`{"), "09@[`{");
}

TEST(EncodingTest, TrimSpacesAndTabs) {
  EXPECT_EQ(Trim("  a b\t "), "a b");
  EXPECT_EQ(Trim("\t\t"), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("\na\n"), "\na\n");
}

TEST(EncodingTest, QuoteForMessageBoundsAndNeutralizesText) {
  EXPECT_EQ(QuoteForMessage("a b"), "\"a b\"");
  EXPECT_EQ(QuoteForMessage("x\r\ny\x7f"), "\"x??y?\"") << "no line breaks reach a log line";
  std::string long_text(300, 'z');
  EXPECT_EQ(QuoteForMessage(long_text), "\"" + std::string(200, 'z') + "...\"");
}

}  // namespace
}  // namespace ofn::enc

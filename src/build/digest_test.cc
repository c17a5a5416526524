#include "build/digest.h"

#include <gtest/gtest.h>

#include <string>

namespace ofn::build {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Digest::Of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Digest::Of("abc").str(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Digest::Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").str(),
            "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Digest::Of(std::string(1000000, 'a')).str(),
            "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>((i * 7919) & 0xff));
  const Digest whole = Digest::Of(data);
  for (size_t step : {1u, 63u, 64u, 65u, 4096u, 99999u}) {
    Sha256 h;
    for (size_t i = 0; i < data.size(); i += step) h.Update(std::string_view(data).substr(i, step));
    EXPECT_EQ(h.Finish(), whole) << "step " << step;
  }
  // Finish starts over.
  Sha256 h;
  h.Update("junk");
  (void)h.Finish();
  h.Update("abc");
  EXPECT_EQ(h.Finish(), Digest::Of("abc"));
}

TEST(Digest, ParsesExactlyTheCanonicalShape) {
  const std::string hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto d = Digest::Parse("sha256:" + hex);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->hex(), hex);
  EXPECT_EQ(d->str(), "sha256:" + hex);
  EXPECT_EQ(*d, Digest::Of("abc"));

  std::string upper = hex;
  upper[0] = 'B';
  const std::string bad[] = {
      "",
      "sha256:",
      "sha256:" + upper,
      "sha256:" + hex.substr(1),           // 63
      "sha256:" + hex + "0",               // 65
      "sha512:" + hex,
      "SHA256:" + hex,
      " sha256:" + hex,
      "sha256:" + hex + "\n",
      "sha256:../" + hex.substr(3),
      "../sha256:" + hex.substr(3),
      "sha256:" + hex.substr(0, 63) + "g",
      "sha256:" + hex.substr(0, 63) + "/",
      std::string("sha256:") + hex.substr(0, 63) + std::string(1, '\0'),
      hex,
  };
  for (const auto& b : bad) {
    auto r = Digest::Parse(b);
    EXPECT_FALSE(r.ok()) << "accepted \"" << b << "\"";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace ofn::build

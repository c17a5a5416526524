#include "build/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace ofn::build {

namespace {

constexpr std::string_view kPrefix = "sha256:";
constexpr size_t kHexLen = 64;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "ofn: libcrypto: %s failed\n", what);
  std::abort();
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  if (text.size() != kPrefix.size() + kHexLen || text.substr(0, kPrefix.size()) != kPrefix) {
    return Status::InvalidArgument("not a sha256 digest (want sha256:<64 lowercase hex>): \"" +
                                   std::string(text.substr(0, 100)) + "\"");
  }
  for (char c : text.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Status::InvalidArgument("not a sha256 digest (want lowercase hex): \"" + std::string(text) + "\"");
    }
  }
  return Digest(std::string(text));
}

Digest Digest::FromSha256(const std::array<uint8_t, 32>& raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(kPrefix);
  s.reserve(kPrefix.size() + kHexLen);
  for (uint8_t b : raw) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return Digest(std::move(s));
}

Digest Digest::Of(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.Finish();
}

struct Sha256::Ctx {
  EVP_MD_CTX* md;
};

Sha256::Sha256() : ctx_(new Ctx{EVP_MD_CTX_new()}) {
  if (ctx_->md == nullptr) Die("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) Die("EVP_DigestInit_ex");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_->md);
  delete ctx_;
}

void Sha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  if (EVP_DigestUpdate(ctx_->md, data, size) != 1) Die("EVP_DigestUpdate");
}

Digest Sha256::Finish() {
  std::array<uint8_t, 32> raw{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, raw.data(), &len) != 1 || len != raw.size()) Die("EVP_DigestFinal_ex");
  if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) Die("EVP_DigestInit_ex");
  return Digest::FromSha256(raw);
}

}  // namespace ofn::build

// Digest: a content address, "sha256:<64 lowercase hex>", and Sha256, the
// incremental hasher that makes one (OpenSSL's EVP API, libcrypto).
//
// A Digest can only be made by hashing or by Digest::Parse, whose grammar is
// exactly that shape: digests from outside (index.json, a registry) become
// file paths under blobs/, so anything else ("../", upper-case hex,
// "sha512:") is rejected rather than normalised.
//
// Thread-safety: Digest is an immutable value. A Sha256 is used by one thread
// at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ofn/status.h"

namespace ofn::build {

class Digest {
 public:
  // Parses "sha256:" followed by exactly 64 characters of [0-9a-f].
  static Result<Digest> Parse(std::string_view text);
  // The digest of these bytes.
  static Digest Of(std::string_view bytes);
  static Digest FromSha256(const std::array<uint8_t, 32>& raw);

  const std::string& str() const { return text_; }           // "sha256:..."
  std::string_view hex() const { return std::string_view(text_).substr(7); }
  std::string_view algorithm() const { return "sha256"; }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.text_ < b.text_; }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

class Sha256 {
 public:
  // Aborts when libcrypto cannot allocate or initialise a context: like
  // operator new failing, there is nothing sensible to return to.
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }
  // Ends this hash; the hasher starts over afterwards.
  Digest Finish();

 private:
  struct Ctx;
  Ctx* ctx_;
};

}  // namespace ofn::build

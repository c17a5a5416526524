// Registry client: pushes images from an OciLayout to a registry and pulls
// them back, over the OCI distribution API (v2), plain HTTP only — TLS is out
// of scope, so a registry is reached as http://HOST[:PORT] (a loopback or
// otherwise trusted network).
//
// Push: each blob (config, layers) is skipped when the registry has it (HEAD),
// else mounted from `mount_from` on the same registry when given, else
// uploaded monolithically (POST + PUT ?digest=) up to `chunked_threshold`
// bytes, or in chunks (POST, PATCH with Content-Range read from the blob file,
// PUT ?digest=) above. Then the manifest is PUT by tag, and the digest the
// registry reports (Docker-Content-Digest) must equal the local one.
// Pull: the manifest (OCI or Docker schema 2; from an index or manifest list,
// the linux/<this architecture> entry) is verified against its digest, each
// missing blob is downloaded in ranged pieces into a temp file in the layout,
// checked for size and digest as it streams, and adopted; the manifest is
// then tagged locally.
//
// Integrity: a rejected upload (400 DIGEST_INVALID, BLOB_UPLOAD_INVALID,
// BLOB_UPLOAD_UNKNOWN) or a connection that breaks during an upload restarts
// that blob's upload from the start; a download whose digest or size is
// wrong is discarded and fetched again; both at most `max_attempts` times,
// with a doubling backoff, then an error.
//
// Auth: on 401, `Basic` challenges get the credentials; `Bearer` challenges
// get a token from the realm (registry_auth.h). Errors name the registry, the
// repository and the step, e.g. "registry 127.0.0.1:5000: repository demo:
// uploading blob sha256:ab12cd34ef56: 400 DIGEST_INVALID: ..."; an
// authentication failure reads "registry 127.0.0.1:5000: authentication
// failed for user alice (401 UNAUTHORIZED: ...) [repository demo: checking
// blob ...]". Passwords and tokens never appear in errors or log lines.
//
// Thread-safety: Push and Pull may run concurrently (each call has its own
// connections and auth state); the layout rules are those of oci_layout.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "build/descriptor.h"
#include "build/digest.h"
#include "build/oci_layout.h"
#include "build/registry_auth.h"
#include "ofn/status.h"

namespace ofn::build {

inline constexpr char kMediaTypeDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kMediaTypeDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";

// "HOST[:PORT]/REPO[/...][:TAG][@sha256:...]". The host is always explicit
// (no docker.io default): a domain ([A-Za-z0-9-] labels joined by '.'), or
// "[IPv6]", with an optional port. Repository path components follow the
// distribution grammar [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, 255 characters in
// all; a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; a digest as Digest::Parse.
// With neither tag nor digest, the tag is "latest".
struct Reference {
  std::string registry;    // "host[:port]" as written
  std::string repository;  // "team/app"
  std::string tag;         // may be empty when digest is set
  std::optional<Digest> digest;

  // The tag or digest to address the manifest with (digest wins).
  std::string ManifestRef() const { return digest ? digest->str() : tag; }
  std::string ToString() const;
};

// InvalidArgument naming the bad part ("invalid reference \"x\": repository
// component \"Foo\" ...").
Result<Reference> ParseReference(std::string_view text);

struct RegistryOptions {
  std::chrono::milliseconds timeout{120000};      // per HTTP exchange
  int max_attempts = 3;                           // per blob upload / download
  std::chrono::milliseconds retry_backoff{100};   // doubled after each failed attempt
  // Progress lines ("pushed blob sha256:... (123 bytes)"); never credentials.
  std::function<void(std::string_view line)> log;
};

struct PushOptions : RegistryOptions {
  // A repository on the same registry to mount blobs from when missing.
  std::string mount_from;
  int64_t chunked_threshold = 8 << 20;  // blobs larger than this are uploaded in chunks
  int64_t chunk_size = 8 << 20;         // bytes per PATCH
};

struct PushResult {
  Digest manifest_digest;  // as reported by the registry, equal to the local one
  int blobs_uploaded = 0;
  int blobs_skipped = 0;   // already in the repository (HEAD hit)
  int blobs_mounted = 0;   // mounted from mount_from
  int chunked_uploads = 0; // of blobs_uploaded, how many went in chunks
  int upload_retries = 0;  // upload attempts restarted after a rejection or broken connection
  int64_t bytes_uploaded = 0;
};

struct PullOptions : RegistryOptions {
  int64_t range_size = 8 << 20;  // bytes per ranged GET (bounds memory per blob)
};

struct PullResult {
  Descriptor manifest;     // as tagged locally
  int blobs_fetched = 0;
  int blobs_present = 0;   // already in the layout
  int refetches = 0;       // downloads discarded (bad digest or size) and fetched again
  int64_t bytes_fetched = 0;
};

// Pushes the image tagged `local_tag` in `layout` (an image manifest) to
// `remote`; the manifest is PUT by remote's tag (or digest).
// `credentials` may be empty (anonymous).
Result<PushResult> Push(const OciLayout& layout, std::string_view local_tag, const Reference& remote,
                        const Credentials& credentials, const PushOptions& options = {});

// Pulls `remote` into `layout` and tags its manifest `local_tag`.
Result<PullResult> Pull(const Reference& remote, OciLayout& layout, std::string_view local_tag,
                        const Credentials& credentials, const PullOptions& options = {});

}  // namespace ofn::build

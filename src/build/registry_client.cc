#include "build/registry_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "build/image.h"
#include "common/encoding.h"
#include "common/unique_fd.h"
#include "net/http_client.h"

namespace ofn::build {
namespace {

using net::ClientRequest;
using net::ClientResponse;

constexpr int kMaxRedirects = 5;

std::string Short(const Digest& d) { return d.str().substr(0, 7 + 12); }

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool ValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              std::all_of(sep.begin(), sep.end(), [](char x) { return x == '-'; });
    if (!ok) return false;
    i = j;
  }
  return true;
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !(IsAlnum(t[0]) || t[0] == '_')) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool ValidPort(std::string_view p) {
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int v = std::stoi(std::string(p));
  return v >= 1 && v <= 65535;
}

// domain labels [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? joined by '.', or [IPv6]; then :port.
bool ValidHost(std::string_view h) {
  std::string_view host = h, port;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view ip = h.substr(1, close - 1);
    if (!std::all_of(ip.begin(), ip.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'; })) {
      return false;
    }
    std::string_view after = h.substr(close + 1);
    if (after.empty()) return true;
    return after.front() == ':' && ValidPort(after.substr(1));
  }
  size_t colon = h.find(':');
  if (colon != std::string_view::npos) {
    host = h.substr(0, colon);
    port = h.substr(colon + 1);
    if (!ValidPort(port)) return false;
  }
  if (host.empty()) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool HasErrorCode(const ClientResponse& r, std::string_view code) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return false;
  for (const auto& e : j["errors"]) {
    if (e.is_object() && e.contains("code") && e["code"].is_string() && e["code"].get<std::string>() == code) {
      return true;
    }
  }
  return false;
}

Status HttpError(const ClientResponse& r) {
  std::string what = DescribeHttpError(r);
  switch (r.status) {
    case 401: return Status::Unauthenticated(what);
    case 403: return Status::PermissionDenied(what);
    case 404: return Status::NotFound(what);
    case 429: return Status::Unavailable(what);
    default: break;
  }
  if (r.status >= 500) return Status::Unavailable(what);
  return Status::FailedPrecondition(what);
}

// The media type without parameters ("; charset=...").
std::string MediaTypeOf(const ClientResponse& r) {
  const std::string* ct = r.header("Content-Type");
  if (ct == nullptr) return "";
  return std::string(enc::Trim(std::string_view(*ct).substr(0, ct->find(';'))));
}

std::string WithQuery(const std::string& url, std::string_view param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(param);
}

struct ImageParts {
  Descriptor config;
  std::vector<Descriptor> layers;
};

Result<ImageParts> ParseManifest(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("manifest is not a JSON object");
  if (!j.contains("config") || !j.contains("layers") || !j["layers"].is_array()) {
    return Status::InvalidArgument("manifest has no config or layers");
  }
  auto config = DescriptorFromJson(j["config"]);
  if (!config.ok()) return Status::InvalidArgument("manifest config: " + config.status().message());
  ImageParts parts{*config, {}};
  for (const auto& l : j["layers"]) {
    auto d = DescriptorFromJson(l);
    if (!d.ok()) return Status::InvalidArgument("manifest layer: " + d.status().message());
    parts.layers.push_back(*d);
  }
  return parts;
}

bool IsManifestType(std::string_view t) { return t == kMediaTypeManifest || t == kMediaTypeDockerManifest; }
bool IsIndexType(std::string_view t) { return t == kMediaTypeIndex || t == kMediaTypeDockerManifestList; }

// One push or pull: the connections, the auth state, and how errors and log
// lines name the registry and repository.
class Session {
 public:
  Session(const Reference& ref, const Credentials& credentials, const RegistryOptions& options, size_t max_response)
      : ref_(ref),
        options_(options),
        http_(HttpOptions(max_response)),
        auth_(http_, credentials, options.timeout),
        base_("http://" + ref.registry) {
    if (auto u = net::ParseUrl(base_ + "/"); u.ok()) authority_ = u->host + ":" + std::to_string(u->port);
  }

  const Reference& ref() const { return ref_; }
  const RegistryOptions& options() const { return options_; }
  std::string Url(std::string_view path) const { return base_ + "/v2/" + ref_.repository + std::string(path); }

  Status Fail(std::string_view step, const Status& s) const {
    if (s.code() == StatusCode::kUnauthenticated) {
      return Status(s.code(), "registry " + ref_.registry + ": " + s.message() + " [repository " + ref_.repository +
                                  ": " + std::string(step) + "]");
    }
    return Status(s.code(),
                  "registry " + ref_.registry + ": repository " + ref_.repository + ": " + std::string(step) + ": " +
                      s.message());
  }

  void Log(const std::string& line) const {
    if (options_.log) options_.log("registry " + ref_.registry + ": repository " + ref_.repository + ": " + line);
  }

  // Sends `req` with the current Authorization (only to the registry itself),
  // answering 401 challenges. Transport errors come back as they are; any
  // HTTP status other than an unanswerable 401 is a response.
  Result<ClientResponse> Send(ClientRequest req, const std::vector<std::string>& extra_scopes = {}) {
    req.timeout = options_.timeout;
    const bool to_registry = SameAuthority(req.url);
    for (int round = 0;; ++round) {
      ClientRequest r = req;
      if (to_registry && auth_.authorization()) r.headers.emplace_back("Authorization", *auth_.authorization());
      auto resp = http_.Do(r);
      if (!resp.ok() || resp->status != 401 || !to_registry) return resp;
      if (r.method == "HEAD" && resp->body.empty()) {
        // A HEAD's 401 has no error body; the same GET has one (and the same
        // challenge), for a message that says what the registry said.
        r.method = "GET";
        if (auto probe = http_.Do(r); probe.ok() && probe->status == 401 && !probe->body.empty()) resp = probe;
      }
      if (round >= 3) return Status::Unauthenticated("still 401 after authenticating (" + DescribeHttpError(*resp) + ")");
      if (Status s = auth_.Answer(*resp, extra_scopes); !s.ok()) return s;
    }
  }

  // GET following redirects (blob storage may live elsewhere); credentials
  // go only to the registry.
  Result<ClientResponse> Get(std::string url, std::vector<std::pair<std::string, std::string>> headers) {
    for (int hop = 0;; ++hop) {
      ClientRequest req;
      req.method = "GET";
      req.url = url;
      req.headers = headers;
      auto resp = Send(req);
      if (!resp.ok()) return resp;
      int st = resp->status;
      if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) return resp;
      if (hop >= kMaxRedirects) return Status::FailedPrecondition("too many redirects");
      const std::string* loc = resp->header("Location");
      if (loc == nullptr) return Status::FailedPrecondition("redirect without a Location");
      auto next = ResolveLocation(*loc);
      if (!next.ok()) return next.status();
      url = *next;
    }
  }

  // A Location header as an absolute http:// URL.
  Result<std::string> ResolveLocation(std::string_view location) const {
    if (location.size() >= 8 && enc::ToLower(location.substr(0, 8)) == "https://") {
      return Status::Unimplemented("the registry redirects to https (" + enc::QuoteForMessage(location) +
                                   "): TLS is not supported by this client");
    }
    if (location.size() >= 7 && enc::ToLower(location.substr(0, 7)) == "http://") return std::string(location);
    if (!location.empty() && location.front() == '/' && (location.size() < 2 || location[1] != '/')) {
      return base_ + std::string(location);
    }
    return Status::FailedPrecondition("unsupported Location " + enc::QuoteForMessage(location));
  }

 private:
  static net::HttpClient::Options HttpOptions(size_t max_response) {
    net::HttpClient::Options o;
    o.max_response_bytes = max_response;
    return o;
  }

  bool SameAuthority(const std::string& url) const {
    auto u = net::ParseUrl(url);
    return u.ok() && u->host + ":" + std::to_string(u->port) == authority_;
  }

  const Reference& ref_;
  const RegistryOptions& options_;
  net::HttpClient http_;
  RegistryAuth auth_;
  const std::string base_;
  std::string authority_;
};

// Blocks until `fd` has given `n` bytes at `offset` (pread loops on short reads).
Status ReadAt(int fd, int64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::Internal(std::string("reading the local blob: ") + std::strerror(errno));
    if (r == 0) return Status::Internal("the local blob is shorter than its descriptor says");
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Push

// One upload attempt's outcome: whether starting over could help.
struct Attempt {
  Status status;
  bool retryable = false;
};

Attempt Retryable(Status s) { return {std::move(s), true}; }
Attempt Final(Status s) { return {std::move(s), false}; }

bool TransportRetryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
         s.code() == StatusCode::kInternal;  // a malformed or cut-off response
}

// A rejected upload that starting over may fix.
bool UploadRejected(const ClientResponse& r) {
  return (r.status == 400 || r.status == 404 || r.status == 416) &&
         (HasErrorCode(r, "DIGEST_INVALID") || HasErrorCode(r, "BLOB_UPLOAD_INVALID") ||
          HasErrorCode(r, "BLOB_UPLOAD_UNKNOWN") || HasErrorCode(r, "SIZE_INVALID") || r.status == 416);
}

class Pusher {
 public:
  Pusher(Session& s, const OciLayout& layout, const PushOptions& options, PushResult& result)
      : s_(s), layout_(layout), options_(options), result_(result) {}

  Status PushBlob(const Descriptor& d) {
    const std::string shown = Short(d.digest);
    {
      ClientRequest head;
      head.method = "HEAD";
      head.url = s_.Url("/blobs/" + d.digest.str());
      auto r = s_.Send(head);
      if (!r.ok()) return s_.Fail("checking blob " + shown, r.status());
      if (r->status == 200) {
        ++result_.blobs_skipped;
        s_.Log("blob " + shown + " already present");
        return Status::Ok();
      }
      if (r->status != 404) return s_.Fail("checking blob " + shown, HttpError(*r));
    }

    std::optional<std::string> location;  // an upload session the mount attempt opened
    if (!options_.mount_from.empty() && options_.mount_from != s_.ref().repository) {
      const std::string step = "mounting blob " + shown + " from " + options_.mount_from;
      ClientRequest post;
      post.method = "POST";
      post.url = s_.Url("/blobs/uploads/?mount=" + enc::PercentEncode(d.digest.str()) +
                        "&from=" + enc::PercentEncode(options_.mount_from));
      auto r = s_.Send(post, {"repository:" + options_.mount_from + ":pull"});
      if (!r.ok()) return s_.Fail(step, r.status());
      if (r->status == 201) {
        ++result_.blobs_mounted;
        s_.Log("blob " + shown + " mounted from " + options_.mount_from);
        return Status::Ok();
      }
      if (r->status != 202) return s_.Fail(step, HttpError(*r));
      // Not mountable (absent there, or no access): the registry opened a plain upload instead.
      if (const std::string* loc = r->header("Location")) location = *loc;
    }

    const std::string step = "uploading blob " + shown;
    std::chrono::milliseconds backoff = options_.retry_backoff;
    for (int attempt = 1;; ++attempt) {
      Attempt a = UploadOnce(d, location);
      location.reset();
      if (a.status.ok()) {
        ++result_.blobs_uploaded;
        result_.bytes_uploaded += d.size;
        return Status::Ok();
      }
      if (!a.retryable || attempt >= options_.max_attempts) {
        std::string why = a.status.message();
        if (a.retryable) why += " (gave up after " + std::to_string(attempt) + " attempts)";
        return s_.Fail(step, Status(a.status.code(), why));
      }
      ++result_.upload_retries;
      s_.Log("blob " + shown + ": upload attempt " + std::to_string(attempt) + " failed (" + a.status.message() +
             "); starting over");
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }

 private:
  // POST, then PUT (monolithic) or PATCH... PUT (chunked), from the start.
  Attempt UploadOnce(const Descriptor& d, std::optional<std::string> location) {
    if (!location) {
      ClientRequest post;
      post.method = "POST";
      post.url = s_.Url("/blobs/uploads/");
      auto r = s_.Send(post);
      if (!r.ok()) return TransportRetryable(r.status()) ? Retryable(r.status()) : Final(r.status());
      if (r->status != 202) {
        Status e = HttpError(*r);
        return r->status >= 500 ? Retryable(e) : Final(e);
      }
      const std::string* loc = r->header("Location");
      if (loc == nullptr) return Final(Status::FailedPrecondition("202 without a Location for the upload"));
      location = *loc;
    }
    auto url = s_.ResolveLocation(*location);
    if (!url.ok()) return Final(url.status());

    const bool chunked = d.size > options_.chunked_threshold;
    UniqueFd fd(::open(layout_.BlobPath(d.digest).c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      return Final(Status::NotFound("opening local blob " + d.digest.str() + ": " + std::strerror(errno)));
    }
    // Hashed as read, so a corrupt local blob is reported as such rather than
    // retried against the registry's (correct) rejection.
    Sha256 hash;
    std::string final_body;
    std::string current = *url;
    if (!chunked) {
      if (Status s = ReadAt(fd.get(), 0, static_cast<size_t>(d.size), &final_body); !s.ok()) return Final(s);
      hash.Update(final_body);
    } else {
      const int64_t chunk = std::max<int64_t>(1, options_.chunk_size);
      std::string buf;
      for (int64_t off = 0; off < d.size; off += chunk) {
        const int64_t n = std::min(chunk, d.size - off);
        if (Status s = ReadAt(fd.get(), off, static_cast<size_t>(n), &buf); !s.ok()) return Final(s);
        hash.Update(buf);
        ClientRequest patch;
        patch.method = "PATCH";
        patch.url = current;
        patch.headers = {{"Content-Type", "application/octet-stream"},
                         {"Content-Range", std::to_string(off) + "-" + std::to_string(off + n - 1)}};
        patch.body = std::move(buf);
        auto r = s_.Send(std::move(patch));
        if (!r.ok()) return TransportRetryable(r.status()) ? Retryable(r.status()) : Final(r.status());
        if (r->status != 202) {
          Status e = HttpError(*r);
          return UploadRejected(*r) || r->status >= 500 ? Retryable(e) : Final(e);
        }
        const std::string* loc = r->header("Location");
        if (loc == nullptr) return Final(Status::FailedPrecondition("PATCH answered without a Location"));
        auto next = s_.ResolveLocation(*loc);
        if (!next.ok()) return Final(next.status());
        current = *next;
        buf = std::string();
      }
    }
    if (Digest got = hash.Finish(); !(got == d.digest)) {
      return Final(Status::Internal("local blob " + d.digest.str() + " is corrupt (its content hashes to " +
                                    got.str() + ")"));
    }
    ClientRequest put;
    put.method = "PUT";
    put.url = WithQuery(current, "digest=" + enc::PercentEncode(d.digest.str()));
    put.headers = {{"Content-Type", "application/octet-stream"}};
    put.body = std::move(final_body);
    auto r = s_.Send(std::move(put));
    if (!r.ok()) return TransportRetryable(r.status()) ? Retryable(r.status()) : Final(r.status());
    if (r->status != 201) {
      Status e = HttpError(*r);
      return UploadRejected(*r) || r->status >= 500 ? Retryable(e) : Final(e);
    }
    if (const std::string* reported = r->header("Docker-Content-Digest"); reported && *reported != d.digest.str()) {
      return Final(Status::Internal("the registry stored the blob as " + enc::QuoteForMessage(*reported)));
    }
    if (chunked) ++result_.chunked_uploads;
    s_.Log("pushed blob " + Short(d.digest) + " (" + std::to_string(d.size) + " bytes" +
           (chunked ? ", chunked" : "") + ")");
    return {};
  }

  Session& s_;
  const OciLayout& layout_;
  const PushOptions& options_;
  PushResult& result_;
};

// ---------------------------------------------------------------------------
// Pull

struct PullCounters {
  int blobs_fetched = 0;
  int blobs_present = 0;
  int refetches = 0;
  int64_t bytes_fetched = 0;
};

class Puller {
 public:
  Puller(Session& s, OciLayout& layout, const PullOptions& options, PullCounters& result)
      : s_(s), layout_(layout), options_(options), result_(result) {}

  // The manifest addressed by `ref` (tag or digest), verified.
  Result<std::pair<std::string, std::string>> FetchManifest(const std::string& ref,
                                                            const std::optional<Digest>& expected) {
    const std::string step = "fetching manifest " + ref;
    const std::string accept = std::string(kMediaTypeManifest) + ", " + kMediaTypeIndex + ", " +
                               kMediaTypeDockerManifest + ", " + kMediaTypeDockerManifestList;
    auto r = s_.Get(s_.Url("/manifests/" + ref), {{"Accept", accept}});
    if (!r.ok()) return s_.Fail(step, r.status());
    if (r->status != 200) return s_.Fail(step, HttpError(*r));
    const Digest got = Digest::Of(r->body);
    if (expected && !(got == *expected)) {
      return s_.Fail(step, Status::Internal("the manifest's content hashes to " + got.str() + ", not " +
                                            expected->str()));
    }
    if (const std::string* reported = r->header("Docker-Content-Digest"); reported && *reported != got.str()) {
      return s_.Fail(step, Status::Internal("the registry reports digest " + enc::QuoteForMessage(*reported) +
                                            " but the content hashes to " + got.str()));
    }
    std::string type = MediaTypeOf(*r);
    if (!IsManifestType(type) && !IsIndexType(type)) {
      // Some registries answer application/json: trust the document's own mediaType.
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("mediaType") && j["mediaType"].is_string()) {
        type = j["mediaType"].get<std::string>();
      }
    }
    if (!IsManifestType(type) && !IsIndexType(type)) {
      return s_.Fail(step, Status::Unimplemented("unsupported manifest type " + enc::QuoteForMessage(type)));
    }
    return std::make_pair(type, std::move(r->body));
  }

  Status FetchBlob(const Descriptor& d) {
    const std::string step = "downloading blob " + Short(d.digest);
    std::chrono::milliseconds backoff = options_.retry_backoff;
    for (int attempt = 1;; ++attempt) {
      Attempt a = FetchOnce(d);
      if (a.status.ok()) {
        ++result_.blobs_fetched;
        result_.bytes_fetched += d.size;
        s_.Log("pulled blob " + Short(d.digest) + " (" + std::to_string(d.size) + " bytes)");
        return Status::Ok();
      }
      if (!a.retryable || attempt >= options_.max_attempts) {
        std::string why = a.status.message();
        if (a.retryable) why += " (gave up after " + std::to_string(attempt) + " attempts)";
        return s_.Fail(step, Status(a.status.code(), why));
      }
      ++result_.refetches;
      s_.Log("blob " + Short(d.digest) + ": download attempt " + std::to_string(attempt) + " failed (" +
             a.status.message() + "); fetching again");
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }

 private:
  Attempt FetchOnce(const Descriptor& d) {
    auto temp = layout_.CreateTemp();
    if (!temp.ok()) return Final(temp.status());
    Sha256 hash;
    int64_t got = 0;
    const int64_t range = std::max<int64_t>(1, options_.range_size);
    while (got < d.size) {
      const int64_t end = std::min(d.size, got + range) - 1;
      auto r = s_.Get(s_.Url("/blobs/" + d.digest.str()),
                      {{"Range", "bytes=" + std::to_string(got) + "-" + std::to_string(end)}});
      if (!r.ok()) return TransportRetryable(r.status()) ? Retryable(r.status()) : Final(r.status());
      if (r->status == 200 && got == 0) {
        // The registry ignored Range: this is the whole blob.
        if (static_cast<int64_t>(r->body.size()) != d.size) {
          return Retryable(Status::Internal("got " + std::to_string(r->body.size()) + " bytes, expected " +
                                            std::to_string(d.size)));
        }
      } else if (r->status == 206) {
        const int64_t want = end - got + 1;
        const std::string* cr = r->header("Content-Range");
        const std::string expect_cr = "bytes " + std::to_string(got) + "-" + std::to_string(end) + "/";
        if (static_cast<int64_t>(r->body.size()) != want || (cr && cr->rfind(expect_cr, 0) != 0)) {
          return Retryable(Status::Internal("range " + std::to_string(got) + "-" + std::to_string(end) +
                                            " answered with " + std::to_string(r->body.size()) + " bytes" +
                                            (cr ? " (Content-Range " + enc::QuoteForMessage(*cr) + ")" : "")));
        }
      } else {
        Status e = HttpError(*r);
        return r->status >= 500 ? Retryable(e) : Final(e);
      }
      hash.Update(r->body);
      if (Status s = temp->Write(r->body); !s.ok()) return Final(s);
      got += static_cast<int64_t>(r->body.size());
    }
    if (Digest h = hash.Finish(); !(h == d.digest)) {
      return Retryable(Status::Internal("downloaded content hashes to " + h.str() + ", not " + d.digest.str()));
    }
    if (Status s = temp->Close(); !s.ok()) return Final(s);
    Status adopted = layout_.AdoptBlob(temp->path(), d.digest);
    temp->Disown();  // AdoptBlob moved or removed it
    if (!adopted.ok()) return Final(adopted);
    return {};
  }

  Session& s_;
  OciLayout& layout_;
  const PullOptions& options_;
  PullCounters& result_;
};

Status CheckOptions(const RegistryOptions& o) {
  if (o.max_attempts < 1) return Status::InvalidArgument("max_attempts must be at least 1");
  if (o.timeout.count() <= 0) return Status::InvalidArgument("timeout must be positive");
  return Status::Ok();
}

}  // namespace

std::string Reference::ToString() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

Result<Reference> ParseReference(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid reference " + enc::QuoteForMessage(text) + ": " + why);
  };
  if (text.empty()) return bad("empty");
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    auto d = Digest::Parse(rest.substr(at + 1));
    if (!d.ok()) return bad("digest " + enc::QuoteForMessage(rest.substr(at + 1)) + " is not sha256: and 64 lowercase hex digits");
    ref.digest = *d;
    rest = rest.substr(0, at);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("expected HOST[:PORT]/REPOSITORY[:TAG] (the registry host is required)");
  std::string_view host = rest.substr(0, slash);
  if (!ValidHost(host)) {
    return bad("registry host " + enc::QuoteForMessage(host) + " must be a domain name or [IPv6] with an optional :port");
  }
  ref.registry = std::string(host);
  std::string_view name = rest.substr(slash + 1);
  // The tag follows the last ':' after the last '/': repository names have no ':'.
  if (size_t colon = name.rfind(':'); colon != std::string_view::npos && name.find('/', colon) == std::string_view::npos) {
    std::string_view tag = name.substr(colon + 1);
    if (!ValidTag(tag)) return bad("tag " + enc::QuoteForMessage(tag) + " must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    ref.tag = std::string(tag);
    name = name.substr(0, colon);
  }
  if (name.empty()) return bad("no repository");
  for (size_t start = 0;;) {
    size_t next = name.find('/', start);
    std::string_view component = name.substr(start, next == std::string_view::npos ? next : next - start);
    if (!ValidPathComponent(component)) {
      return bad("repository component " + enc::QuoteForMessage(component) +
                 " must be lowercase [a-z0-9] runs separated by '.', '_', '__' or '-'");
    }
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  if (host.size() + 1 + name.size() > 255) return bad("the name is longer than 255 characters");
  ref.repository = std::string(name);
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

Result<PushResult> Push(const OciLayout& layout, std::string_view local_tag, const Reference& remote,
                        const Credentials& credentials, const PushOptions& options) {
  if (Status s = CheckOptions(options); !s.ok()) return s;
  if (options.chunk_size < 1) return Status::InvalidArgument("chunk_size must be at least 1");
  auto local = layout.Resolve(local_tag);
  if (!local.ok()) return Status(local.status().code(), "local image " + enc::QuoteForMessage(local_tag) + ": " + local.status().message());
  if (!IsManifestType(local->media_type)) {
    return Status::Unimplemented("local image " + enc::QuoteForMessage(local_tag) + " is a " + local->media_type +
                                 "; only image manifests can be pushed");
  }
  if (remote.digest && !(*remote.digest == local->digest)) {
    return Status::InvalidArgument("pushing to " + remote.ToString() + ": the local manifest is " +
                                   local->digest.str());
  }
  auto manifest = layout.ReadBlob(local->digest);
  if (!manifest.ok()) return manifest.status();
  auto parts = ParseManifest(*manifest);
  if (!parts.ok()) return Status(parts.status().code(), "local image " + enc::QuoteForMessage(local_tag) + ": " + parts.status().message());

  Session session(remote, credentials, options, 1u << 20);
  PushResult result{local->digest};
  Pusher pusher(session, layout, options, result);
  std::set<std::string> seen;
  std::vector<Descriptor> blobs = parts->layers;
  blobs.push_back(parts->config);  // config last: the layers are the big ones, and skopeo does the same
  for (const auto& d : blobs) {
    if (!seen.insert(d.digest.str()).second) continue;
    if (Status s = pusher.PushBlob(d); !s.ok()) return s;
  }

  const std::string ref = remote.ManifestRef();
  const std::string step = "putting manifest " + ref;
  ClientRequest put;
  put.method = "PUT";
  put.url = session.Url("/manifests/" + ref);
  put.headers = {{"Content-Type", local->media_type}};
  put.body = std::move(manifest).value();
  auto r = session.Send(std::move(put));
  if (!r.ok()) return session.Fail(step, r.status());
  if (r->status != 201 && r->status != 200) return session.Fail(step, HttpError(*r));
  // Registries SHOULD report the digest; when one does not, the local digest stands.
  if (const std::string* reported = r->header("Docker-Content-Digest")) {
    auto d = Digest::Parse(*reported);
    if (!d.ok() || !(*d == local->digest)) {
      return session.Fail(step, Status::Internal("the registry reports manifest digest " + enc::QuoteForMessage(*reported) +
                                                 ", the local one is " + local->digest.str()));
    }
    result.manifest_digest = *d;
  }
  session.Log("pushed manifest " + Short(result.manifest_digest) + " as " + ref);
  return result;
}

Result<PullResult> Pull(const Reference& remote, OciLayout& layout, std::string_view local_tag,
                        const Credentials& credentials, const PullOptions& options) {
  if (Status s = CheckOptions(options); !s.ok()) return s;
  if (!ValidTagName(local_tag)) return Status::InvalidArgument("invalid local tag " + enc::QuoteForMessage(local_tag));
  const size_t max_response = std::max<size_t>(64u << 20, static_cast<size_t>(std::max<int64_t>(1, options.range_size)) + (1u << 20));
  Session session(remote, credentials, options, max_response);
  PullCounters result;
  Puller puller(session, layout, options, result);

  auto fetched = puller.FetchManifest(remote.ManifestRef(), remote.digest);
  if (!fetched.ok()) return fetched.status();
  auto [type, body] = std::move(fetched).value();
  if (IsIndexType(type)) {
    const std::string step = "choosing from index " + remote.ManifestRef();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("manifests") || !j["manifests"].is_array()) {
      return session.Fail(step, Status::InvalidArgument("index has no manifests array"));
    }
    const std::string arch = HostArchitecture();
    std::optional<Descriptor> chosen;
    for (const auto& m : j["manifests"]) {
      auto d = DescriptorFromJson(m);
      if (!d.ok()) return session.Fail(step, d.status());
      if (d->platform && d->platform->os == "linux" && d->platform->architecture == arch &&
          IsManifestType(d->media_type)) {
        chosen = *d;
        break;
      }
    }
    if (!chosen) return session.Fail(step, Status::NotFound("no image for linux/" + arch));
    fetched = puller.FetchManifest(chosen->digest.str(), chosen->digest);
    if (!fetched.ok()) return fetched.status();
    std::tie(type, body) = std::move(fetched).value();
    if (!IsManifestType(type)) {
      return session.Fail(step, Status::Unimplemented("linux/" + arch + " entry is a " + type + ", not a manifest"));
    }
  }
  auto parts = ParseManifest(body);
  if (!parts.ok()) return session.Fail("reading manifest " + remote.ManifestRef(), parts.status());

  std::set<std::string> seen;
  std::vector<Descriptor> blobs = parts->layers;
  blobs.push_back(parts->config);
  for (const auto& d : blobs) {
    if (!seen.insert(d.digest.str()).second) continue;
    if (layout.HasBlob(d.digest)) {
      ++result.blobs_present;
      continue;
    }
    if (Status s = puller.FetchBlob(d); !s.ok()) return s;
  }
  const std::string step = "storing manifest " + remote.ManifestRef();
  auto stored = layout.PutBlob(body);
  if (!stored.ok()) return session.Fail(step, stored.status());
  Descriptor desc{type, *stored, static_cast<int64_t>(body.size()), {}, std::nullopt};
  auto tagged = layout.Tag(local_tag, desc);
  if (!tagged.ok()) return session.Fail(step, tagged.status());
  session.Log("pulled manifest " + Short(desc.digest) + " as " + std::string(local_tag));
  return PullResult{*tagged, result.blobs_fetched, result.blobs_present, result.refetches, result.bytes_fetched};
}

}  // namespace ofn::build

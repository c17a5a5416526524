// Registry authentication for the OCI distribution client (registry_client.h):
// parsing `WWW-Authenticate` challenges and answering them with HTTP basic
// auth or a bearer token fetched from the challenge's realm (the Docker token
// protocol: GET realm?service=...&scope=..., JSON {"token"} or
// {"access_token"}).
//
// Secrets stay in here: the password and tokens only ever go into
// Authorization headers, never into a Status message or a log line.
//
// Thread-safety: ParseChallenges and BasicAuthorization are pure. A
// RegistryAuth belongs to one push or pull and is used by one thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_client.h"
#include "ofn/status.h"

namespace ofn::build {

struct Credentials {
  std::string username;  // empty: anonymous (no credentials)
  std::string password;
  bool empty() const { return username.empty() && password.empty(); }
};

struct AuthChallenge {
  std::string scheme;                         // lower-cased: "basic", "bearer"
  std::map<std::string, std::string> params;  // names lower-cased: realm, service, scope, error...
};

// Parses a WWW-Authenticate value (RFC 9110 §11.6.1): one or more challenges,
// auth-params as token=token or token="quoted \"string\"". InvalidArgument on
// malformed input.
Result<std::vector<AuthChallenge>> ParseChallenges(std::string_view header);

// "Basic base64(user:password)".
std::string BasicAuthorization(const Credentials& credentials);

// "400 DIGEST_INVALID: provided digest did not match uploaded content" from a
// registry's error body ({"errors":[{"code","message"}]}), or "HTTP 500:
// <start of body>" when the body is not that.
std::string DescribeHttpError(const net::ClientResponse& response);

class RegistryAuth {
 public:
  RegistryAuth(net::HttpClient& http, Credentials credentials, std::chrono::milliseconds timeout);

  // The Authorization header value to send now, if any.
  const std::optional<std::string>& authorization() const { return authorization_; }

  // Answers a 401: picks the Bearer (preferred) or Basic challenge, and
  // fetches a token (for the challenge's scope plus `extra_scopes`) or
  // prepares basic auth. A 401 for what was already answered means the
  // credentials were refused. Errors (Unauthenticated; PermissionDenied for
  // insufficient_scope on a scope already asked for) leave the registry's name to the caller and read
  // "authentication failed for user U (401 CODE: message)" or "authentication
  // required and no credentials were given (401 ...)".
  Status Answer(const net::ClientResponse& unauthorized, const std::vector<std::string>& extra_scopes);

 private:
  Status Refused(const net::ClientResponse& response, std::string_view where) const;
  // Scopes are sent as repeated scope= parameters.
  Status FetchToken(const AuthChallenge& challenge, const net::ClientResponse& unauthorized,
                    const std::vector<std::string>& extra_scopes);

  net::HttpClient& http_;
  const Credentials credentials_;
  const std::chrono::milliseconds timeout_;
  std::optional<std::string> authorization_;
  // What was already answered, to tell "refused" from "needs a new scope".
  std::map<std::string, int> token_fetches_;  // joined scopes -> tokens fetched for them
};

}  // namespace ofn::build

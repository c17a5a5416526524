#include "build/registry_auth.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace ofn::build {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view s) : s_(s) {}

  Result<std::vector<AuthChallenge>> Parse() {
    std::vector<AuthChallenge> out;
    for (;;) {
      SkipSeparators();
      if (pos_ >= s_.size()) break;
      std::string scheme = Token();
      if (scheme.empty()) return Bad("expected an auth scheme");
      AuthChallenge c;
      c.scheme = enc::ToLower(scheme);
      SkipSpaces();
      // auth-params until a token not followed by '=' (the next challenge) or the end.
      for (;;) {
        SkipSpaces();
        const size_t start = pos_;
        std::string name = Token();
        if (name.empty()) break;
        SkipSpaces();
        if (pos_ >= s_.size() || s_[pos_] != '=') {
          pos_ = start;  // a new challenge's scheme
          break;
        }
        ++pos_;
        SkipSpaces();
        std::string value;
        if (pos_ < s_.size() && s_[pos_] == '"') {
          auto q = Quoted();
          if (!q.ok()) return q.status();
          value = std::move(q).value();
        } else {
          value = Token();
          if (value.empty()) return Bad("expected a value for parameter " + name);
        }
        c.params[enc::ToLower(name)] = std::move(value);
        SkipSpaces();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size()) return Bad("expected ',' after parameter " + name);
        break;
      }
      out.push_back(std::move(c));
    }
    if (out.empty()) return Bad("no challenge");
    return out;
  }

 private:
  Status Bad(const std::string& why) const {
    return Status::InvalidArgument("malformed WWW-Authenticate header: " + why);
  }
  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void SkipSeparators() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) ++pos_;
  }
  std::string Token() {
    size_t start = pos_;
    while (pos_ < s_.size() && IsTokenChar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  Result<std::string> Quoted() {
    ++pos_;  // opening quote
    std::string v;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return v;
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        c = s_[pos_++];
      }
      v.push_back(c);
    }
    return Bad("unterminated quoted string");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Bounded and without control characters: bodies come from the network.
std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7F ? ' ' : static_cast<char>(c));
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

Result<std::vector<AuthChallenge>> ParseChallenges(std::string_view header) {
  return ChallengeParser(header).Parse();
}

std::string BasicAuthorization(const Credentials& credentials) {
  return "Basic " + enc::Base64Encode(credentials.username + ":" + credentials.password);
}

std::string DescribeHttpError(const net::ClientResponse& response) {
  std::string out = std::to_string(response.status);
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("errors") && j["errors"].is_array() &&
      !j["errors"].empty()) {
    bool first = true;
    for (const auto& e : j["errors"]) {
      if (!e.is_object()) continue;
      out += first ? " " : "; ";
      first = false;
      if (e.contains("code") && e["code"].is_string()) out += Printable(e["code"].get<std::string>(), 64);
      if (e.contains("message") && e["message"].is_string()) {
        out += ": " + Printable(e["message"].get<std::string>(), 200);
      }
    }
    return out;
  }
  if (response.body.empty()) return "HTTP " + out;
  return "HTTP " + out + ": " + Printable(response.body, 200);
}

RegistryAuth::RegistryAuth(net::HttpClient& http, Credentials credentials, std::chrono::milliseconds timeout)
    : http_(http), credentials_(std::move(credentials)), timeout_(timeout) {}

Status RegistryAuth::Refused(const net::ClientResponse& response, std::string_view where) const {
  std::string what = credentials_.empty()
                         ? "authentication required and no credentials were given"
                         : "authentication failed for user " + Printable(credentials_.username, 64);
  return Status::Unauthenticated(what + std::string(where) + " (" + DescribeHttpError(response) + ")");
}

Status RegistryAuth::Answer(const net::ClientResponse& unauthorized, const std::vector<std::string>& extra_scopes) {
  const std::string* header = unauthorized.header("WWW-Authenticate");
  if (header == nullptr) {
    return Status::Unauthenticated("401 without a WWW-Authenticate challenge (" + DescribeHttpError(unauthorized) +
                                   ")");
  }
  auto challenges = ParseChallenges(*header);
  if (!challenges.ok()) return challenges.status();
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic = nullptr;
  for (const auto& c : *challenges) {
    if (c.scheme == "bearer" && bearer == nullptr) bearer = &c;
    if (c.scheme == "basic" && basic == nullptr) basic = &c;
  }
  if (bearer != nullptr) return FetchToken(*bearer, unauthorized, extra_scopes);
  if (basic != nullptr) {
    // Already sent and refused: the password is wrong (or the user unknown).
    if (credentials_.empty() || authorization_.has_value()) return Refused(unauthorized, "");
    authorization_ = BasicAuthorization(credentials_);
    return Status::Ok();
  }
  return Status::Unimplemented("unsupported authentication scheme in WWW-Authenticate: " + Printable(*header, 100));
}

Status RegistryAuth::FetchToken(const AuthChallenge& challenge, const net::ClientResponse& unauthorized,
                                const std::vector<std::string>& extra_scopes) {
  auto param = [&](const char* name) -> std::string {
    auto it = challenge.params.find(name);
    return it == challenge.params.end() ? "" : it->second;
  };
  const std::string realm = param("realm");
  if (realm.empty()) return Status::Unauthenticated("Bearer challenge without a realm");
  std::vector<std::string> scopes;
  if (!param("scope").empty()) scopes.push_back(param("scope"));
  for (const auto& s : extra_scopes) {
    if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(s);
  }
  std::string key;
  for (const auto& s : scopes) key += (key.empty() ? "" : " ") + s;
  // A token for exactly this scope was refused: no point asking again.
  // (insufficient_scope on a first ask just means a new scope is needed.)
  if (token_fetches_[key]++ > 0) {
    if (param("error") == "insufficient_scope") {
      return Status::PermissionDenied("access denied: the token service does not grant scope \"" +
                                      Printable(key, 200) + "\"" +
                                      (credentials_.empty() ? "" : " to user " + Printable(credentials_.username, 64)));
    }
    return Refused(unauthorized, ": the registry refused its token for scope \"" + Printable(key, 200) + "\"");
  }

  std::string url = realm;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (!param("service").empty()) {
    url += sep + std::string("service=") + enc::PercentEncode(param("service"));
    sep = '&';
  }
  for (const auto& s : scopes) {
    url += sep + std::string("scope=") + enc::PercentEncode(s);
    sep = '&';
  }
  net::ClientRequest req;
  req.method = "GET";
  req.url = url;
  req.timeout = timeout_;
  if (!credentials_.empty()) req.headers.emplace_back("Authorization", BasicAuthorization(credentials_));
  const std::string where = " at token service " + Printable(realm, 200);
  auto resp = http_.Do(req);
  if (!resp.ok()) {
    return Status(resp.status().code(), "fetching a token" + where + ": " + resp.status().message());
  }
  if (resp->status == 401 || resp->status == 403) return Refused(*resp, where);
  if (resp->status != 200) {
    return Status::Unauthenticated("fetching a token" + where + ": " + DescribeHttpError(*resp));
  }
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  std::string token;
  if (!j.is_discarded() && j.is_object()) {
    for (const char* name : {"token", "access_token"}) {
      if (j.contains(name) && j[name].is_string() && !j[name].get<std::string>().empty()) {
        token = j[name].get<std::string>();
        break;
      }
    }
  }
  if (token.empty() || !net::IsSendableHeader("Authorization", "Bearer " + token)) {
    return Status::Unauthenticated("the token service" + where + " answered without a usable token or access_token");
  }
  authorization_ = "Bearer " + token;
  return Status::Ok();
}

}  // namespace ofn::build

#include "ofn_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace bench {

int OfnApi::Apply(const std::string& manifest, std::string* body) { return Exchange("POST", "/v1/apply", manifest, body); }

int OfnApi::Delete(const std::string& kind, const std::string& name) {
  return Exchange("DELETE", "/v1/objects/" + kind + "/default/" + name, "", nullptr);
}

int OfnApi::Get(const std::string& kind, const std::string& name) {
  return Exchange("GET", "/v1/objects/" + kind + "/default/" + name, "", nullptr);
}

double OfnApi::Metric(const std::string& metric, const std::string& label) {
  std::string text;
  if (Exchange("GET", "/metrics", "", &text) != 200) return -1;
  for (size_t at = 0; (at = text.find(metric + "{", at)) != std::string::npos; ++at) {
    if (at > 0 && text[at - 1] != '\n') continue;
    size_t end = text.find('}', at);
    if (end == std::string::npos) break;
    if (text.substr(at, end - at).find(label) != std::string::npos) {
      return std::strtod(text.c_str() + end + 1, nullptr);
    }
  }
  return -1;
}

// Connection: close, so the answer ends when the server closes.
int OfnApi::Exchange(const std::string& method, const std::string& path, const std::string& body, std::string* answer) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port_));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: ofn\r\nConnection: close\r\nAuthorization: Bearer " +
                    token_ + "\r\nContent-Type: application/yaml\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = write(fd, req.data() + off, req.size() - off);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  std::string in;
  char buf[8192];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) in.append(buf, static_cast<size_t>(n));
  close(fd);
  if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) return -1;
  if (answer) {
    size_t head = in.find("\r\n\r\n");
    *answer = head == std::string::npos ? "" : in.substr(head + 4);
  }
  return std::atoi(in.c_str() + 9);
}

}  // namespace bench

// What the benchmark clients share: one HTTP/1.1 exchange on a fresh
// loopback connection, and a request to Ofn's control API. Kept tiny and
// synchronous so that what is timed is the server, not the client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace ofn::bench {

// Sends `request` (with Connection: close, so the answer ends at EOF or
// Content-Length) and returns the status, or -1. A server that hangs fails
// the exchange after 10 s instead of the benchmark.
inline int Exchange(int port, const std::string& request, std::string* body = nullptr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval limit{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return -1;
  }
  std::string in;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    size_t head = in.find("\r\n\r\n");
    if (head == std::string::npos) continue;
    size_t cl = in.find("Content-Length: ");
    if (cl != std::string::npos && cl < head &&
        in.size() >= head + 4 + std::strtoul(in.c_str() + cl + 16, nullptr, 10)) {
      break;
    }
  }
  close(fd);
  if (in.size() < 12) return -1;
  if (body) *body = in.substr(std::min(in.size(), in.find("\r\n\r\n") + 4));
  return std::atoi(in.c_str() + 9);
}

// A control API request with the bearer token.
inline std::string ApiRequest(const std::string& method, const std::string& path, const std::string& token,
                              const std::string& body = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: api\r\nConnection: close\r\nAuthorization: Bearer " + token +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace ofn::bench

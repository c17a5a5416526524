// What the benchmark clients share: one HTTP/1.1 exchange on a fresh
// loopback connection, requests to Ofn's control API, its metrics, and
// waiting until functions are at zero instances. Kept tiny and synchronous
// so that what is timed is the server, not the client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <vector>
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

// metric name -> function name -> value, for the default namespace.
using Gauges = std::map<std::string, std::map<std::string, double>>;

inline Gauges ReadMetrics(int api, const std::string& token) {
  std::string body;
  Gauges g;
  if (Exchange(api, ApiRequest("GET", "/metrics", token), &body) != 200) return g;
  const std::string marker = "{namespace=\"default\",function=\"";
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find('\n', at);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(at, end - at);
    at = end + 1;
    size_t m = line.find(marker);
    if (m == std::string::npos || line[0] == '#') continue;
    size_t q = line.find('"', m + marker.size());
    if (q == std::string::npos || line.compare(q, 3, "\"} ") != 0) continue;  // only {namespace,function} series
    g[line.substr(0, m)][line.substr(m + marker.size(), q - m - marker.size())] = std::atof(line.c_str() + q + 3);
  }
  return g;
}

// A new Function starts one instance (Knative's initial scale of 1): a cold
// start is only measured once each of `names` has been seen ready and then
// at zero again. "" when they are, else why not (5 minutes at most).
inline std::string WaitUntilAllAtZero(int api, const std::string& token, const std::vector<std::string>& names) {
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, bool> was_up;
  for (;;) {
    Gauges g = ReadMetrics(api, token);
    int waiting = 0;
    for (const auto& name : names) {
      double wanted = g["ofn_replicas"].count(name) ? g["ofn_replicas"][name] : -1;
      double ready = g["ofn_ready_replicas"].count(name) ? g["ofn_ready_replicas"][name] : -1;
      if (ready >= 1) was_up[name] = true;
      waiting += !was_up[name] || wanted != 0 || ready != 0;
    }
    if (waiting == 0) return "";
    if (std::chrono::steady_clock::now() - start > std::chrono::minutes(5)) {
      return std::to_string(waiting) + " functions did not start and go back to zero within 5 minutes";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace ofn::bench

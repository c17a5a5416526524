// The events benchmark's driver (bench/events/run.sh): POSTs `count`
// benchmark events (bench/async/event.h: each carries its send time) one at a
// time to 127.0.0.1:PORT/PATH, `interval_us` apart, each on a fresh
// connection, and fails if any is not answered 2xx. The receiving function
// (bench-sink) records send -> arrival per run; run.sh compares the runs.
//
//   chainbench PORT PATH RUN COUNT INTERVAL_US SIZE
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "async/event.h"
#include "loopback_http.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: chainbench PORT PATH RUN COUNT INTERVAL_US SIZE\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string path = argv[2], run = argv[3];
  const int count = std::atoi(argv[4]);
  const auto interval = std::chrono::microseconds(std::atoi(argv[5]));
  const size_t size = static_cast<size_t>(std::atoi(argv[6]));
  for (int n = 0; n < count; ++n) {
    // The data of a benchmark event: what the function's Recorder reads.
    std::string head = R"({"run":")" + run + R"(","n":)" + std::to_string(n) + R"(,"of":)" + std::to_string(count) +
                       R"(,"t":)" + std::to_string(bench::NowNs()) + R"(,"pad":")";
    std::string body = head + std::string(size > head.size() + 2 ? size - head.size() - 2 : 0, 'x') + "\"}";
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    int status = ofn::bench::Exchange(port, req);
    if (status < 200 || status >= 300) {
      std::fprintf(stderr, "chainbench: %s answered %d for event %d of run %s\n", path.c_str(), status, n, run.c_str());
      return 1;
    }
    std::this_thread::sleep_for(interval);
  }
  return 0;
}

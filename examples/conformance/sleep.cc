// conformance-sleep: sleeps one second, then behaves like conformance-http
// (functions conformance contract, section 1.5).
#include <chrono>
#include <thread>

#include "ofn/function.h"
#include "output_file.h"

OFN_REGISTER(ofn::HttpFunction("conformance-sleep", [](const ofn::HttpRequest& req) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return conformance::EchoRequest(req);
}));

#include <ofn/ofn.h>

OFN_REGISTER(ofn::HttpFunction("greet", [](const ofn::HttpRequest& req) {
  return ofn::HttpResponse(200, "hi " + std::string(req.path_param("who").value_or("?")) + "\n");
}).WithPath("/greet/{who}"));

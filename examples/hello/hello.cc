// The smallest function: answers every request with a short text. Every
// benchmark of the platform runs it.
#include <ofn/ofn.h>

OFN_REGISTER(ofn::HttpFunction("hello", [](const ofn::HttpRequest&) {
  return ofn::HttpResponse(200, "Hello, World!\n");
}));

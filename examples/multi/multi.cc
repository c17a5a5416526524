// Several functions in one binary. Without FUNCTION_TARGET all are served,
// each on its own path; with it, only the one named.
#include <nlohmann/json.hpp>
#include <ofn/ofn.h>
#include <ofn/typed_function.h>

namespace {

struct Sum {
  std::vector<double> numbers;
};
void from_json(const nlohmann::json& j, Sum& s) { j.at("numbers").get_to(s.numbers); }

struct Total {
  double total = 0;
};
void to_json(nlohmann::json& j, const Total& t) { j = nlohmann::json{{"total", t.total}}; }

}  // namespace

// GET /hello/{name} -> "Hello, NAME!"
OFN_REGISTER(ofn::HttpFunction("greet", [](const ofn::HttpRequest& req) {
  return ofn::HttpResponse(200, "Hello, " + std::string(req.path_param("name").value_or("stranger")) + "!\n");
}).WithPath("/hello/{name}").WithMethods({"GET", "HEAD"}));

// GET /files/{path...} -> echoes the rest of the path
OFN_REGISTER(ofn::HttpFunction("files", [](const ofn::HttpRequest& req) {
  return ofn::HttpResponse(200, "file: " + std::string(req.path_param("path").value_or("")) + "\n");
}).WithPath("/files/{path...}").WithMethods({"GET"}));

// POST /sum {"numbers": [...]} -> {"total": N}; a typed function.
OFN_REGISTER(ofn::TypedFunction<Sum, Total>("sum", [](const Sum& s) {
  Total t;
  for (double n : s.numbers) t.total += n;
  return t;
}).WithPath("/sum").WithMethods({"POST"}));

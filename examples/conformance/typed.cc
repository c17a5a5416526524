// conformance-typed: takes a JSON object and answers {"payload": <the object>}
// (functions conformance contract, section 1.4). A body that is not a JSON
// object does not decode, so the framework answers 400 without calling it.
// The answer is also written to the output file, which shows whether the
// function was called.
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "ofn/typed_function.h"
#include "output_file.h"

namespace {

struct ObjectRequest {
  nlohmann::json value;
};

void from_json(const nlohmann::json& j, ObjectRequest& r) {
  if (!j.is_object()) throw std::invalid_argument(std::string("expected a JSON object, got ") + j.type_name());
  r.value = j;
}

}  // namespace

OFN_REGISTER(ofn::TypedFunction<ObjectRequest, nlohmann::json>("conformance-typed", [](const ObjectRequest& req) {
  nlohmann::json answer = {{"payload", req.value}};
  conformance::WriteOutputFile(answer.dump());
  return answer;
}));

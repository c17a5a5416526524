// A CloudEvent function: takes a "com.example.person" event whose JSON data
// has a name, and answers with a "com.example.greeting" event.
#include <nlohmann/json.hpp>
#include <ofn/ofn.h>

namespace {

ofn::Result<std::optional<ofn::CloudEvent>> Greet(const ofn::CloudEvent& in) {
  if (in.type() != "com.example.person") {
    return ofn::Status::InvalidArgument("expected an event of type com.example.person, got " + in.type());
  }
  auto data = nlohmann::json::parse(in.data().value_or(""), nullptr, /*allow_exceptions=*/false);
  if (!data.is_object() || !data.contains("name") || !data["name"].is_string()) {
    return ofn::Status::InvalidArgument("data must be a JSON object with a string \"name\"");
  }
  ofn::CloudEvent out("greeting-" + in.id(), "/examples/greeter", "com.example.greeting");
  out.set_data_content_type("application/json");
  out.set_subject(data["name"].get<std::string>());
  out.set_data(nlohmann::json{{"greeting", "Hello, " + data["name"].get<std::string>() + "!"}}.dump());
  return std::optional<ofn::CloudEvent>(std::move(out));
}

}  // namespace

OFN_REGISTER(ofn::CloudEventFunction("greeter", Greet));

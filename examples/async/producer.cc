// OpenFunction's pub/sub producer sample, as an HTTP function: each call
// publishes `count` events (query parameter, default 1) to each of its
// outputs, the way the sample's publishers do through Dapr.
#include <charconv>

#include <ofn/ofn.h>

OFN_REGISTER(ofn::OpenFunction("producer", [](ofn::Context& ctx, std::string_view body) {
  int count = 1;
  if (const ofn::HttpRequest* req = ctx.http_request()) {
    if (auto c = req->query("count")) std::from_chars(c->data(), c->data() + c->size(), count);
  }
  std::string text = body.empty() ? std::string("hello") : std::string(body);
  for (const auto& [output, component] : ctx.function_context().outputs) {
    for (int i = 0; i < count; ++i) {
      auto sent = ctx.Send(output, R"({"n":)" + std::to_string(i) + R"(,"text":")" + text + R"("})");
      if (!sent.ok()) return ctx.ReturnOnInternalError().WithData(output + ": " + sent.status().message() + "\n");
    }
  }
  return ctx.ReturnOnSuccess().WithData("published " + std::to_string(count) + "\n");
}));

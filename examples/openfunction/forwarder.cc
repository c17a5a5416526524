// An OpenFunction-style function with an output: it upper-cases its input
// (the CloudEvent's data, or the raw body) and sends the result to the output
// named "sink" in FUNC_CONTEXT, then answers with what the sink replied.
#include <cctype>

#include <ofn/ofn.h>

OFN_REGISTER(ofn::OpenFunction("forwarder", [](ofn::Context& ctx, std::string_view input) {
  std::string upper(input);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto reply = ctx.Send("sink", upper);
  if (!reply.ok()) return ctx.ReturnOnInternalError().WithData("sink: " + reply.status().message() + "\n");
  return ctx.ReturnOnSuccess().WithData("forwarded " + std::to_string(upper.size()) + " bytes; sink said: " + *reply);
}));

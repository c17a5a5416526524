// The async function of the event-delivery benchmark: records each event's
// publish -> handled latency (event.h) and writes a run's figures to the
// directory BENCH_OUT (set through the Function's serving.params) once the
// run is complete. Served by `ofn server --local-images DIR` as image
// ".../bench-sink".
#include <cstdlib>

#include <ofn/ofn.h>

#include "event.h"

namespace {

bench::Recorder& Sink() {
  static bench::Recorder recorder(std::getenv("BENCH_OUT") ? std::getenv("BENCH_OUT") : ".");
  return recorder;
}

}  // namespace

OFN_REGISTER(ofn::OpenFunction("bench-sink", [](ofn::Context& ctx, std::string_view input) {
  if (!Sink().Record(input)) return ctx.ReturnOnInternalError().WithData("not a benchmark event");
  return ctx.ReturnOnSuccess();
}));

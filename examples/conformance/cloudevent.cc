// conformance-cloudevent: writes the event it receives to the output file in
// the CloudEvents JSON format (functions conformance contract, section 1.3).
#include "ofn/function.h"
#include "output_file.h"

OFN_REGISTER(ofn::CloudEventFunction("conformance-cloudevent", [](const ofn::CloudEvent& event) -> ofn::Status {
  if (!conformance::WriteOutputFile(event.ToJson())) return ofn::Status::Internal("cannot write the output file");
  return ofn::Status::Ok();
}));

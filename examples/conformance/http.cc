// conformance-http: writes the raw request body to the output file and answers
// 200 with the same bytes (functions conformance contract, section 1.2).
#include "ofn/function.h"
#include "output_file.h"

OFN_REGISTER(ofn::HttpFunction("conformance-http", conformance::EchoRequest));

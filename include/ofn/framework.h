// Run: the function server's entry point.
//
// Serves the registered functions (ofn/function.h) on $PORT (default 8080),
// configured by the environment (FUNCTION_TARGET, FUNC_CONTEXT, PORT,
// OFN_LOG_FORMAT) and flags (--target, --port, --log-format; --help lists
// them). Returns the process exit code: 0 after a clean SIGTERM drain.
// libofn_main provides a main() that calls it.
#pragma once

namespace ofn {

int Run(int argc, char** argv);

}  // namespace ofn

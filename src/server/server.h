// `ofn server`: the platform in one process.
//
// Wires the store (SQLite in the data dir), the process runtime, the gateway
// (with the activator), the function manager (reconciling and autoscaling)
// and the control API (Unix socket in the data dir; TCP only with a token).
// SIGTERM/SIGINT drain the gateway and stop every instance before exit 0.
#pragma once

namespace ofn::server {

// The `ofn server` verb: flags in argv (argv[0] is "server").
int ServerMain(int argc, char** argv);

}  // namespace ofn::server

// The `ofn` binary: every verb is a client of the API, except `ofn server`.
#include "cli/cli.h"
#include "server/server.h"

int main(int argc, char** argv) { return ofn::cli::Main(argc, argv, ofn::server::ServerMain); }

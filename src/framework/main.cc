// main() for function binaries built with ofn_add_function().
#include "ofn/framework.h"

int main(int argc, char** argv) { return ofn::Run(argc, argv); }

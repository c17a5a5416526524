// Random (version 4) UUIDs for object uids, CloudEvent ids and Dapr's {uuid}.
// Thread-safe: each thread has its own generator, seeded from the OS.
#pragma once

#include <string>

namespace ofn {

// "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx", lower-case hex.
std::string NewUuid();

}  // namespace ofn

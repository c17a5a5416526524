// StopSignals: SIGTERM and SIGINT taken synchronously by one thread.
//
// Construct it before starting any thread: it blocks both signals (threads
// inherit the mask, so none of them is interrupted) and ignores SIGPIPE
// (a peer that closed is an error value, not a death). Wait() returns the
// signal that arrived. Use from the main thread.
#pragma once

#include <signal.h>

namespace ofn {

class StopSignals {
 public:
  StopSignals();
  int Wait();  // SIGTERM or SIGINT
  static const char* Name(int sig) { return sig == SIGTERM ? "SIGTERM" : "SIGINT"; }

 private:
  sigset_t set_;
};

}  // namespace ofn

// Dispatcher: turns one HTTP request into a call of the right user function.
//
// It owns the catch point for user code (an exception becomes a 500 and a log
// line), CloudEvent decoding for CloudEvent and OpenFunction-style functions,
// the routes, and the plugin hooks. Immutable after Create(); Handle() is
// called concurrently from the server's threads. With FUNC_CONTEXT runtime
// "Async" it serves Dapr's app callbacks instead (framework/async_callbacks.h).
#pragma once

#include <memory>
#include <vector>

#include "framework/async_callbacks.h"
#include "framework/cloudevent_http.h"
#include "framework/router.h"
#include "ofn/context.h"
#include "ofn/function.h"
#include "ofn/function_context.h"
#include "ofn/plugin.h"

namespace ofn {

struct DispatcherOptions {
  std::vector<Function> functions;  // the ones to serve
  FunctionContext context;
  OutputSender* sender = nullptr;   // not owned; outlives the dispatcher
  ce::DecodeOptions cloudevents;
  // When serving one function without a path of its own, it answers every path.
  bool single = true;
};

class Dispatcher {
 public:
  // Fails when a path pattern is invalid or two functions claim the same path.
  static Result<std::unique_ptr<Dispatcher>> Create(DispatcherOptions options);

  void Handle(HttpRequest& req, HttpResponse& resp) const;

  // Plugin names from FUNC_CONTEXT that no plugin answers to.
  const std::vector<std::string>& unknown_plugins() const { return unknown_plugins_; }

 private:
  explicit Dispatcher(DispatcherOptions o) : opts_(std::move(o)) {}
  void Call(const Function& fn, HttpRequest& req, HttpResponse& resp) const;
  void CallCloudEvent(const Function& fn, const HttpRequest& req, HttpResponse& resp) const;
  void CallOpenFunction(const Function& fn, const HttpRequest& req, HttpResponse& resp) const;

  DispatcherOptions opts_;
  Router router_;
  std::vector<std::shared_ptr<Plugin>> pre_, post_;
  std::vector<std::string> unknown_plugins_;
  std::unique_ptr<AsyncCallbacks> async_;  // set for runtime "Async"
};

}  // namespace ofn

// Function: a user function and how it is served, and the registry that a
// function binary serves from.
//
//   OFN_REGISTER(ofn::HttpFunction("hello", [](const ofn::HttpRequest&) {
//     return ofn::HttpResponse(200, "Hello, World!\n");
//   }));
//
// Three kinds: HTTP (request -> response), CloudEvent (event -> ok, error, or
// a reply event) and OpenFunction-style (Context&, input -> Out). Typed
// functions (ofn/typed_function.h) are HTTP functions with a codec. Handlers
// may be called from several threads at once and may block.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ofn/cloud_event.h"
#include "ofn/context.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"
#include "ofn/status.h"

namespace ofn {

// What a CloudEvent function produced: an error (500 unless the code says a
// client error), nothing (204), or an event to answer with.
using CloudEventResult = Result<std::optional<CloudEvent>>;

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using CloudEventHandler = std::function<CloudEventResult(const CloudEvent&)>;
using OpenFunctionHandler = std::function<Out(Context&, std::string_view)>;

enum class FunctionKind { kHttp, kCloudEvent, kOpenFunction };

class Function {
 public:
  const std::string& name() const { return name_; }
  FunctionKind kind() const { return kind_; }
  // Path pattern ("/hello/{name}", "/files/{rest...}"); empty = serve every path.
  const std::string& path() const { return path_; }
  // Allowed methods; empty = all.
  const std::vector<std::string>& methods() const { return methods_; }
  // For CloudEvent functions: answer reply events in structured mode.
  bool structured_reply() const { return structured_reply_; }

  Function WithPath(std::string p) && { path_ = std::move(p); return std::move(*this); }
  Function WithMethods(std::vector<std::string> m) && { methods_ = std::move(m); return std::move(*this); }
  Function WithStructuredReply() && { structured_reply_ = true; return std::move(*this); }

  const HttpHandler& http() const { return http_; }
  const CloudEventHandler& cloud_event() const { return cloud_event_; }
  const OpenFunctionHandler& open_function() const { return open_function_; }

  friend Function HttpFunction(std::string name, HttpHandler h);
  friend Function CloudEventFunctionOf(std::string name, CloudEventHandler h);
  friend Function OpenFunction(std::string name, OpenFunctionHandler h);

 private:
  std::string name_;
  FunctionKind kind_ = FunctionKind::kHttp;
  std::string path_;
  std::vector<std::string> methods_;
  bool structured_reply_ = false;
  HttpHandler http_;
  CloudEventHandler cloud_event_;
  OpenFunctionHandler open_function_;
};

Function HttpFunction(std::string name, HttpHandler h);
Function CloudEventFunctionOf(std::string name, CloudEventHandler h);
Function OpenFunction(std::string name, OpenFunctionHandler h);

// A CloudEvent function from any callable taking `const CloudEvent&` and
// returning void, Status, CloudEvent, std::optional<CloudEvent> or
// CloudEventResult.
template <typename F>
Function CloudEventFunction(std::string name, F f) {
  using R = std::invoke_result_t<F&, const CloudEvent&>;
  return CloudEventFunctionOf(std::move(name), [f = std::move(f)](const CloudEvent& e) mutable -> CloudEventResult {
    if constexpr (std::is_void_v<R>) {
      f(e);
      return std::optional<CloudEvent>();
    } else if constexpr (std::is_same_v<R, Status>) {
      Status s = f(e);
      if (!s.ok()) return s;
      return std::optional<CloudEvent>();
    } else if constexpr (std::is_same_v<R, CloudEvent>) {
      return std::optional<CloudEvent>(f(e));
    } else if constexpr (std::is_same_v<R, std::optional<CloudEvent>>) {
      return f(e);
    } else {
      static_assert(std::is_same_v<R, CloudEventResult>, "unsupported CloudEvent function return type");
      return f(e);
    }
  });
}

// The functions this binary can serve, in registration order.
void Register(Function f);
const std::vector<Function>& RegisteredFunctions();

namespace internal {
struct Registrar {
  explicit Registrar(Function f) { Register(std::move(f)); }
};
}  // namespace internal

}  // namespace ofn

#define OFN_CONCAT_INNER(a, b) a##b
#define OFN_CONCAT(a, b) OFN_CONCAT_INNER(a, b)
// Registers a function at static-initialization time.
#define OFN_REGISTER(...) \
  static const ::ofn::internal::Registrar OFN_CONCAT(ofn_registrar_, __COUNTER__) { __VA_ARGS__ }

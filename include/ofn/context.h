// Context and Out: the OpenFunction-style function signature
// `Out fn(Context& ctx, std::string_view input)`.
//
// The input is the CloudEvent's data when the request is a CloudEvent (binary
// or structured mode), else the raw request body. ctx.Send() reaches the
// outputs named in FUNC_CONTEXT. A Context lives for one call and is used from
// the calling thread only.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ofn/cloud_event.h"
#include "ofn/function_context.h"
#include "ofn/http_request.h"
#include "ofn/status.h"

namespace ofn {

struct Out {
  int code = 200;
  std::string data;
  std::map<std::string, std::string> metadata;  // returned as response headers

  Out& WithCode(int c) { code = c; return *this; }
  Out& WithData(std::string d) { data = std::move(d); return *this; }
};

// Delivers data to one output; the framework's implementation speaks HTTP
// (bindings.http directly, everything else through the Dapr-compatible API).
class OutputSender {
 public:
  virtual ~OutputSender() = default;
  virtual Result<std::string> Send(const Component& output, std::string_view data) = 0;
};

class Context {
 public:
  Context(const FunctionContext& fc, OutputSender* sender) : fc_(fc), sender_(sender) {}

  const FunctionContext& function_context() const { return fc_; }
  const std::string& name() const { return fc_.name; }

  // Sends data to the output of that name; returns the output's reply body.
  Result<std::string> Send(std::string_view output_name, std::string_view data);

  Out ReturnOnSuccess() const { return Out{200, {}, {}}; }
  Out ReturnOnInternalError() const { return Out{500, {}, {}}; }

  // The request being served (sync calls); null otherwise.
  const HttpRequest* http_request() const { return request_; }
  // The CloudEvent carried by the request, if it was one; null otherwise.
  const CloudEvent* cloud_event() const { return event_; }
  // Async runtime: the FUNC_CONTEXT input (its key in `inputs`) this event
  // came from; empty for sync calls.
  std::string_view input_name() const { return input_name_; }

  void set_http_request(const HttpRequest* r) { request_ = r; }
  void set_cloud_event(const CloudEvent* e) { event_ = e; }
  void set_input_name(std::string_view n) { input_name_ = n; }

 private:
  const FunctionContext& fc_;
  OutputSender* sender_;
  const HttpRequest* request_ = nullptr;
  const CloudEvent* event_ = nullptr;
  std::string_view input_name_;
};

}  // namespace ofn

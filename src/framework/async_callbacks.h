// AsyncCallbacks: the app-callback side of Dapr for a function whose
// FUNC_CONTEXT runtime is "Async" (see the Dapr fact sheet, §2 and §5.4).
//
// Events arrive over HTTP as Dapr (or Ofn's component host, which follows the
// same conventions) delivers them:
//   GET  /dapr/subscribe   the subscriptions, one per `pubsub.*` input:
//                          [{"pubsubname": componentName, "topic": uri,
//                            "route": "/<input name>"[, "metadata": {...}],
//                            "bulkSubscribe": {"enabled": true,
//                              "maxMessagesCount": 32, "maxAwaitDurationMs": 1}}]
//                          ([] when there is none; v1 `route` form, which
//                          every Dapr version accepts; Dapr < 1.10 ignores
//                          bulkSubscribe and sends single events).
//   POST /<input name>     a `bindings.*` input: the body is the event data.
//                          Also served at /<componentName> (or the
//                          component's `route` metadata), where Dapr itself
//                          posts binding events, unless another input claims
//                          that path. 200 when the function's Out code is
//                          2xx, else 500 (an error to the component, which
//                          retries or not per its own semantics).
//   POST /<input name>     a `pubsub.*` input: the body is a CloudEvent
//                          (structured JSON; binary mode is accepted too).
//                          Always HTTP 200 with {"status": ...}:
//                            Out 2xx                       -> SUCCESS
//                            Out error, or an exception    -> RETRY
//                            Out error with metadata
//                              retry: "false"              -> DROP
//                            envelope not a CloudEvent     -> DROP (a poison
//                              message must not come back forever)
//                          OpenFunction's Go framework drops on error unless
//                          the Out says retry: "true"; Ofn retries by default
//                          because delivery is at-least-once with bounded
//                          retries and a dead-letter topic, and honours an
//                          explicit retry: "false".
//                          A bulk delivery (a JSON object with an `entries`
//                          array, type com.dapr.event.sent.bulk; see
//                          dapr_bulk.h) calls the function once per entry,
//                          in order, each with its own CloudEvent and a
//                          request whose headers are the entry's metadata;
//                          a rawPayload entry's `event` is its bytes in
//                          Base64. HTTP 200 with {"statuses": [{"entryId",
//                          "status"}, ...]}: the statuses above per entry, in
//                          order; an entry without an entryId gets none
//                          (Dapr retries it).
//   OPTIONS on those routes 200 with Allow: POST, OPTIONS (Dapr's probe).
//   GET  /healthz          200.
// Anything else is 404. As in OpenFunction's Go framework (runtime/async),
// an Async function binary serves only these callbacks, not the function's
// own HTTP path: its events come from its inputs.
//
// The function called is the OpenFunction-style (`Out fn(Context&, input)`)
// function named by FUNC_CONTEXT's `name`, or the only one served. Its
// Context tells the input (input_name()), the request (headers carry the
// component's metadata) and, for pub/sub, the CloudEvent.
//
// Immutable after Create(); used concurrently from the server's threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framework/cloudevent_http.h"
#include "ofn/context.h"
#include "ofn/function.h"
#include "ofn/function_context.h"
#include "ofn/http_request.h"
#include "ofn/http_response.h"
#include "ofn/status.h"

namespace ofn {

namespace dapr {
struct Bulk;
}  // namespace dapr

class AsyncCallbacks {
 public:
  struct Route {
    std::string input;  // the key in FUNC_CONTEXT's inputs
    bool pubsub = false;
  };

  // `fc` and `sender` must outlive the result. Fails when no function can be
  // chosen, it is not OpenFunction-style, or a pub/sub input has no topic.
  static Result<std::unique_ptr<AsyncCallbacks>> Create(const FunctionContext& fc, const std::vector<Function>& fns,
                                                       OutputSender* sender, ce::DecodeOptions decode);

  const Function& function() const { return fn_; }

  // The input a request delivers an event to (a POST on an input's route);
  // null otherwise, with `resp` filled in (subscriptions, probes, 404...).
  const Route* Match(const HttpRequest& req, HttpResponse& resp) const;

  // Calls the function with the event and answers as Dapr expects.
  void Deliver(const Route& route, const HttpRequest& req, HttpResponse& resp) const;

  // The GET /dapr/subscribe body.
  const std::string& subscriptions() const { return subscriptions_; }

 private:
  AsyncCallbacks(const FunctionContext& fc, Function fn, OutputSender* sender, ce::DecodeOptions decode)
      : fc_(fc), fn_(std::move(fn)), sender_(sender), decode_(decode) {}
  void DeliverBinding(const Route& route, const HttpRequest& req, HttpResponse& resp) const;
  void DeliverPubSub(const Route& route, const HttpRequest& req, HttpResponse& resp) const;
  void DeliverBulk(const Route& route, const HttpRequest& req, dapr::Bulk& bulk, HttpResponse& resp) const;
  // The Dapr status (SUCCESS, RETRY, DROP) of one event, a single delivery or
  // a bulk entry (`entry_id` then names it in logs): calls the function
  // unless the event is not a CloudEvent.
  std::string_view HandleEvent(const Route& route, const HttpRequest& req, const Result<CloudEvent>& event,
                               std::string_view entry_id) const;

  const FunctionContext& fc_;
  Function fn_;
  OutputSender* sender_;
  ce::DecodeOptions decode_;
  std::map<std::string, Route, std::less<>> routes_;  // by path
  std::string subscriptions_;
};

}  // namespace ofn

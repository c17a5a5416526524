#include "framework/dispatcher.h"

#include <chrono>
#include <set>

#include "common/log.h"

namespace ofn {

bool TimingPluginLinked();

namespace {

// Client errors from a function's Status become 4xx; everything else is 500.
int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 412;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

void RunHooks(const std::vector<std::shared_ptr<Plugin>>& plugins, CallInfo& call, bool pre) {
  for (const auto& p : plugins) {
    try {
      if (pre) {
        p->Pre(call);
      } else {
        p->Post(call);
      }
    } catch (const std::exception& e) {
      log::Warn("plugin failed", {{"plugin", p->name()}, {"function", call.function}, {"error", e.what()}});
    } catch (...) {
      log::Warn("plugin failed", {{"plugin", p->name()}, {"function", call.function}});
    }
  }
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(DispatcherOptions options) {
  (void)TimingPluginLinked();
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(options)));
  std::set<std::string> seen;
  const auto& fns = d->opts_.functions;
  for (size_t i = 0; i < fns.size(); ++i) {
    std::string path = fns[i].path();
    if (path.empty() && !d->opts_.single) path = "/" + fns[i].name();
    auto pattern = PathPattern::Compile(path);
    if (!pattern.ok()) return Status::InvalidArgument("function \"" + fns[i].name() + "\": " + pattern.status().message());
    if (!seen.insert(path).second) {
      return Status::InvalidArgument("functions share the path \"" + path + "\"; give each its own WithPath()");
    }
    d->router_.Add(std::move(*pattern), fns[i].methods(), static_cast<int>(i));
  }
  auto resolve = [&](const std::vector<std::string>& names, std::vector<std::shared_ptr<Plugin>>& out) {
    for (const auto& n : names) {
      if (auto p = FindPlugin(n)) {
        out.push_back(std::move(p));
      } else {
        d->unknown_plugins_.push_back(n);
      }
    }
  };
  resolve(d->opts_.context.pre_plugins, d->pre_);
  resolve(d->opts_.context.post_plugins, d->post_);
  if (d->opts_.context.runtime == "Async") {
    auto async = AsyncCallbacks::Create(d->opts_.context, d->opts_.functions, d->opts_.sender, d->opts_.cloudevents);
    if (!async.ok()) return async.status();
    d->async_ = std::move(*async);
  }
  return d;
}

void Dispatcher::Handle(HttpRequest& req, HttpResponse& resp) const {
  if (async_) {
    const AsyncCallbacks::Route* route = async_->Match(req, resp);
    if (!route) return;
    CallInfo call;
    call.function = async_->function().name();
    call.request = &req;
    if (!pre_.empty() || !post_.empty()) {
      call.start = std::chrono::steady_clock::now();
      RunHooks(pre_, call, true);
    }
    async_->Deliver(*route, req, resp);
    if (!post_.empty()) {
      call.response = &resp;
      RunHooks(post_, call, false);
    }
    return;
  }
  std::string_view path = req.path();
  // Browsers' automatic requests never reach a function.
  if (path == "/robots.txt" || path == "/favicon.ico") {
    resp = HttpResponse(404, "not found\n");
    return;
  }
  Router::Match m = router_.Find(req.method(), path);
  if (m.outcome == Router::Outcome::kNotFound) {
    resp = HttpResponse(404, "no function serves this path\n");
    return;
  }
  if (m.outcome == Router::Outcome::kMethodNotAllowed) {
    resp = HttpResponse(405, "method not allowed\n");
    resp.set_header("Allow", m.allow);
    return;
  }
  std::vector<std::pair<std::string_view, std::string_view>> params;
  params.reserve(m.params.size());
  for (const auto& [k, v] : m.params) params.emplace_back(k, v);
  req.set_path_params(std::move(params));

  const Function& fn = opts_.functions[m.index];
  CallInfo call;
  call.function = fn.name();
  call.request = &req;
  if (!pre_.empty() || !post_.empty()) {
    call.start = std::chrono::steady_clock::now();
    RunHooks(pre_, call, true);
  }
  Call(fn, req, resp);
  if (!post_.empty()) {
    call.response = &resp;
    RunHooks(post_, call, false);
  }
  req.set_path_params({});
}

void Dispatcher::Call(const Function& fn, HttpRequest& req, HttpResponse& resp) const {
  try {
    switch (fn.kind()) {
      case FunctionKind::kHttp:
        resp = fn.http()(req);
        break;
      case FunctionKind::kCloudEvent:
        CallCloudEvent(fn, req, resp);
        break;
      case FunctionKind::kOpenFunction:
        CallOpenFunction(fn, req, resp);
        break;
    }
  } catch (const std::exception& e) {
    log::Error("function threw", {{"function", fn.name()}, {"error", e.what()}});
    resp = HttpResponse(500, "internal error\n");
    if (fn.kind() == FunctionKind::kOpenFunction) resp.set_header("X-OpenFunction-Status", "crash");
  } catch (...) {
    log::Error("function threw a non-exception", {{"function", fn.name()}});
    resp = HttpResponse(500, "internal error\n");
    if (fn.kind() == FunctionKind::kOpenFunction) resp.set_header("X-OpenFunction-Status", "crash");
  }
}

void Dispatcher::CallCloudEvent(const Function& fn, const HttpRequest& req, HttpResponse& resp) const {
  std::vector<CloudEvent> events;
  ce::Mode mode = ce::DetectMode(req);
  if (mode == ce::Mode::kNone) {
    resp = HttpResponse(400, "not a CloudEvent: expected ce-* headers (binary mode) or Content-Type "
                             "application/cloudevents+json (structured mode)\n");
    return;
  }
  if (mode == ce::Mode::kBatch) {
    auto batch = ce::DecodeBatch(req.body(), opts_.cloudevents);
    if (!batch.ok()) {
      resp = HttpResponse(400, "invalid CloudEvent batch: " + batch.status().message() + "\n");
      return;
    }
    events = std::move(*batch);
  } else {
    auto event = ce::DecodeRequest(req, opts_.cloudevents);
    if (!event.ok()) {
      resp = HttpResponse(400, "invalid CloudEvent: " + event.status().message() + "\n");
      return;
    }
    events.push_back(std::move(*event));
  }
  std::optional<CloudEvent> reply;
  for (const CloudEvent& e : events) {
    CloudEventResult r = fn.cloud_event()(e);
    if (!r.ok()) {
      log::Warn("function returned an error", {{"function", fn.name()}, {"error", r.status().ToString()}});
      resp = HttpResponse(HttpStatusFor(r.status()), r.status().message() + "\n");
      return;
    }
    if (r->has_value()) reply = std::move(**r);
  }
  if (!reply) {
    resp = HttpResponse(200);
    return;
  }
  Status valid = reply->Validate();
  if (!valid.ok()) {
    log::Error("function returned an invalid CloudEvent", {{"function", fn.name()}, {"error", valid.message()}});
    resp = HttpResponse(500, "function returned an invalid CloudEvent\n");
    return;
  }
  resp = HttpResponse(200);
  if (fn.structured_reply()) {
    ce::EncodeStructured(*reply, resp);
  } else {
    ce::EncodeBinary(*reply, resp);
  }
}

void Dispatcher::CallOpenFunction(const Function& fn, const HttpRequest& req, HttpResponse& resp) const {
  std::optional<CloudEvent> event;
  std::string_view input = req.body();
  ce::Mode mode = ce::DetectMode(req);
  if (mode == ce::Mode::kBinary || mode == ce::Mode::kStructured) {
    auto decoded = ce::DecodeRequest(req, opts_.cloudevents);
    if (!decoded.ok()) {
      resp = HttpResponse(400, "invalid CloudEvent: " + decoded.status().message() + "\n");
      return;
    }
    event = std::move(*decoded);
    input = event->data() ? std::string_view(*event->data()) : std::string_view();
  }
  Context ctx(opts_.context, opts_.sender);
  ctx.set_http_request(&req);
  if (event) ctx.set_cloud_event(&*event);
  Out out = fn.open_function()(ctx, input);
  resp = HttpResponse(out.code, std::move(out.data));
  for (const auto& [k, v] : out.metadata) resp.set_header(k, v);
  resp.set_header("X-OpenFunction-Status", out.code >= 200 && out.code < 300 ? "success" : "error");
}

}  // namespace ofn

#include "events/source_runner.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <filesystem>

#include "common/encoding.h"
#include "common/log.h"
#include "common/uuid.h"
#include "net/http_client.h"

namespace ofn::events {

using enc::ToLower;

using components::Outcome;
using nlohmann::json;

struct SourceRunner::Ev {
  api::SourceEvent spec;
  Origin origin;
  std::string topic;  // on the bus
  std::unique_ptr<components::Subscription> reader;
  std::atomic<uint64_t> received{0}, published{0}, publish_failed{0}, rejected{0};
  // The sink's outcomes per event (the Deliverer counts for the whole source).
  std::atomic<uint64_t> delivered{0}, dropped{0};
};

bool ValidSignature(std::string_view secret, std::string_view body, std::string_view signature) {
  constexpr std::string_view kPrefix = "sha256=";
  if (!signature.starts_with(kPrefix)) return false;
  signature.remove_prefix(kPrefix.size());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len) == nullptr) {
    return false;
  }
  static const char* hex = "0123456789abcdef";
  std::string want;
  for (unsigned i = 0; i < len; ++i) {
    want.push_back(hex[mac[i] >> 4]);
    want.push_back(hex[mac[i] & 15]);
  }
  std::string got = ToLower(signature);
  return got.size() == want.size() && CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

Result<std::unique_ptr<SourceRunner>> SourceRunner::Start(const api::EventSource& source, Options options) {
  std::unique_ptr<SourceRunner> r(new SourceRunner());
  r->spec_ = source;
  r->options_ = std::move(options);
  SourceRunner* self = r.get();
  if (!source.sink.empty()) {
    Result<std::string> url = !source.sink.uri.empty() ? Result<std::string>(source.sink.uri)
                              : r->options_.resolve    ? r->options_.resolve(*source.sink.ref)
                                                       : Result<std::string>(Status::FailedPrecondition("no resolver"));
    if (!url.ok()) return Status(url.status().code(), "sink: " + url.status().message());
    auto parsed = net::ParseUrl(*url);
    if (!parsed.ok()) return Status::InvalidArgument("sink: " + parsed.status().message());
    components::Deliverer::Options d;
    d.name = "eventsource " + source.ns + "/" + source.name;
    d.per_instance = 32;
    d.retry = r->options_.retry;
    d.call_timeout = r->options_.call_timeout;
    d.on_demand = [] {};
    d.unreachable_is_failure = true;
    if (source.sink.ref) {
      d.prepare = [self, route = parsed->target](components::Event& e) {
        auto now = self->options_.resolve(*self->spec_.sink.ref);
        auto p = now.ok() ? net::ParseUrl(*now) : Result<net::ParsedUrl>(now.status());
        e.route = p.ok() ? p->target : route;
      };
    } 
    r->sink_ = std::make_unique<components::Deliverer>(std::move(d));
    r->sink_->SetEndpoints({components::Endpoint{.id = "sink", .host = parsed->host, .port = parsed->port}});
  }
  for (const auto& spec : source.events) {
    auto ev = std::make_unique<Ev>();
    ev->spec = spec;
    ev->origin = Origin{source.ns, source.name, api::SourceKindName(spec.kind), spec.name};
    ev->topic = api::EventTopic(source.ns, source.name, spec.name);
    r->events_.push_back(std::move(ev));
  }
  for (auto& ev : r->events_) {
    if (ev->spec.kind == api::SourceKind::kWebhook) continue;
    const std::string what = ev->spec.field + " (" + ev->spec.component_type + ")";
    auto cs = components::ParseComponentSpec(ev->spec.ComponentSpecJson(), "eventsource-" + source.name + "-" + ev->spec.name,
                                             source.ns, "eventsource-" + source.ns + "-" + source.name);
    if (!cs.ok()) return Status(cs.status().code(), what + ": " + cs.status().message());
    cs->data_dir = r->options_.data_dir + "/eventsources/" + source.ns + "/" + source.name + "/" + ev->spec.name;
    std::error_code ec;
    std::filesystem::create_directories(cs->data_dir, ec);
    auto component = r->options_.registry->Create(*cs);
    if (!component.ok()) return Status(component.status().code(), what + ": " + component.status().message());
    Ev* e = ev.get();
    auto handler = [self, e](components::Message m, components::Ack ack) {
      ++e->received;
      auto content_type = m.metadata.find("content-type");
      json event = FromMessage(m.data, content_type == m.metadata.end() ? "" : content_type->second, e->origin,
                               NewUuid(), std::chrono::system_clock::now());
      self->Forward(*e, event, std::move(ack));
    };
    Result<std::unique_ptr<components::Subscription>> reader = Status::Internal("unset");
    if (component->input) {
      reader = component->input->Read({.max_in_flight = r->options_.max_in_flight}, handler);
    } else if (component->pubsub && !ev->spec.topic.empty()) {
      components::SubscribeRequest req;
      req.topic = ev->spec.topic;
      req.max_in_flight = r->options_.max_in_flight;
      reader = component->pubsub->Subscribe(req, handler);
    } else {
      return Status::InvalidArgument(what + ": the component cannot be read from");
    }
    if (!reader.ok()) return Status(reader.status().code(), what + ": " + reader.status().message());
    ev->reader = std::move(*reader);
  }
  return r;
}

SourceRunner::~SourceRunner() {
  for (auto& ev : events_) ev->reader.reset();
  sink_.reset();
}

Status SourceRunner::Publish(Ev& ev, const std::string& text) {
  Status s = options_.bus->Publish({.topic = ev.topic, .data = text, .metadata = {}});
  if (!s.ok()) {
    ++ev.publish_failed;
    log::Warn("eventsource: the bus refused an event; the source keeps it",
              {{"eventsource", spec_.ns + "/" + spec_.name}, {"topic", ev.topic}, {"error", s.message()}});
    return s;
  }
  ++ev.published;
  return s;
}

void SourceRunner::ToSink(Ev& ev, const json& event, components::Ack ack) {
  BinaryRequest req = ToBinary(event);
  components::Event e;
  e.kind = components::EventKind::kBinding;
  e.route = "/";
  e.content_type = req.content_type;
  e.message.topic = ev.topic;
  e.message.data = std::move(req.body);
  for (auto& [k, v] : req.headers) e.message.metadata.emplace(std::move(k), std::move(v));
  e.ack = [&ev, ack = std::move(ack)](Outcome o) {
    if (o == Outcome::kSuccess) ++ev.delivered;
    if (o == Outcome::kDrop) ++ev.dropped;
    // Given up on after every attempt: the source's broker must not bring it back forever.
    ack(o == Outcome::kRetry ? Outcome::kRetry : Outcome::kSuccess);
  };
  sink_->Submit(std::move(e));
}

void SourceRunner::Forward(Ev& ev, const json& event, components::Ack ack) {
  if (options_.bus && !Publish(ev, event.dump()).ok()) {
    ack(Outcome::kRetry);
    return;
  }
  if (!sink_) {
    ack(Outcome::kSuccess);
    return;
  }
  ToSink(ev, event, std::move(ack));
}

void SourceRunner::Accept(const std::string& event, const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body, std::function<void(int, std::string)> done) {
  Ev* ev = nullptr;
  for (auto& e : events_) {
    if (e->spec.name == event && e->spec.kind == api::SourceKind::kWebhook) ev = e.get();
  }
  if (ev == nullptr) {
    done(404, "no webhook event \"" + event + "\" in eventsource " + spec_.ns + "/" + spec_.name + "\n");
    return;
  }
  ++ev->received;
  if (!ev->spec.secret.empty()) {
    std::string header = ToLower(ev->spec.signature_header), signature;
    for (const auto& [k, v] : headers) {
      if (k == header) signature = v;
    }
    if (!ValidSignature(ev->spec.secret, body, signature)) {
      ++ev->rejected;
      done(401, signature.empty() ? "missing signature header " + ev->spec.signature_header + "\n"
                                  : "signature in " + ev->spec.signature_header + " does not match the body\n");
      return;
    }
  }
  auto ce = FromHttp(headers, body, ev->origin, NewUuid(), std::chrono::system_clock::now());
  if (!ce.ok()) {
    ++ev->rejected;
    done(400, ce.status().message() + "\n");
    return;
  }
  const std::string accepted = "{\"id\":" + json(ce->value("id", "")).dump() + "}\n";
  if (options_.bus) {
    // Accepted once the bus has it (durably, as the bus keeps messages); the sink follows.
    Status s = Publish(*ev, ce->dump());
    if (!s.ok()) {
      done(503, "the event bus refused the event: " + s.message() + "\n");
      return;
    }
    if (sink_) ToSink(*ev, *ce, [](Outcome) {});
    done(202, accepted);
    return;
  }
  // Without a bus nothing keeps the event: answer once the sink took it.
  ToSink(*ev, *ce, [done = std::move(done), accepted](Outcome o) {
    if (o == Outcome::kSuccess) {
      done(202, accepted);
    } else {
      done(502, "the sink did not take the event\n");
    }
  });
}

std::vector<SourceEventStats> SourceRunner::Stats() const {
  std::vector<SourceEventStats> out;
  for (const auto& ev : events_) {
    SourceEventStats s;
    s.event = ev->spec.name;
    s.kind = api::SourceKindName(ev->spec.kind);
    s.received = ev->received;
    s.published = ev->published;
    s.publish_failed = ev->publish_failed;
    s.delivered = ev->delivered;
    s.dropped = ev->dropped;
    s.rejected = ev->rejected;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ofn::events

// How the component host writes events for an app and reads its answers,
// the way a Dapr sidecar does (dapr-fact-sheet §2.3 pub/sub, §2.4 bindings):
// the rawPayload envelope, bulk delivery, and the verdicts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "components/pubsub.h"

namespace ofn::components {

enum class EventKind { kBinding, kPubSub };

// How an app's answer is read.
enum class Verdict { kSuccess, kRetry, kDrop };
Verdict Judge(EventKind kind, int status, std::string_view body);

// What Dapr delivers on a rawPayload subscription: a new CloudEvent around
// the broker's bytes, with a new id on every delivery.
std::string RawEnvelope(const Message& m);

// True when `data` is one JSON object: what a bulk call can carry as an
// entry's event (a CloudEvent) without breaking the whole body.
bool IsJsonObject(std::string_view data);

// One event of a bulk call (Dapr bulkSubscribe). A raw entry carries the
// message's bytes in base64 with contentType application/octet-stream;
// otherwise the message must be IsJsonObject and is spliced in as is.
struct BulkEntry {
  std::string entry_id;
  const Message* message = nullptr;
  bool raw = false;
};

// The body of one bulk call: {"id","type":"com.dapr.event.sent.bulk","topic",
// "pubsubname","metadata":{},"entries":[{"entryId","event","contentType","metadata"}]}.
// Each entry's metadata is its message's metadata (invalid UTF-8 replaced).
std::string BulkBody(std::string_view id, std::string_view topic, std::string_view pubsub,
                     const std::vector<BulkEntry>& entries);

// The verdict for each entry of a bulk call, in order: 404 drops all, any
// other non-2xx retries all; a 2xx answer {"statuses":[{"entryId","status"}]}
// gives each entry its status as Judge reads it, and an entry without a
// status is retried.
std::vector<Verdict> JudgeBulk(int status, std::string_view body, const std::vector<BulkEntry>& entries);

}  // namespace ofn::components

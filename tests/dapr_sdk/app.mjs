// An Ofn async function built on the official SDK's DaprServer (HTTP), as an
// OpenFunction Node function would be: it subscribes to $TOPIC on $PUBSUB (and
// to $RAW_TOPIC with rawPayload, if set), serves on $PORT, and reaches the Dapr
// API at DAPR_HOST/DAPR_HTTP_PORT with the DAPR_API_TOKEN the instance got (the
// SDK reads port and token from the environment itself). Every delivery is
// appended to $EVENTS_FILE as one JSON line {data, status, contentType,
// pubsubName, ce}; each instance adds {ready, appId, hasToken} once started.
// With $BULK_TOPIC (and $BULK_RAW_TOPIC, rawPayload) it also subscribes in
// bulk (SDK subscribeBulk: Dapr's bulkSubscribe); ce.bulk then tells how many
// entries the call that brought the event had.
//
// Its answers exercise Dapr's status protocol: data {kind: "retry"} gets RETRY
// on its first delivery (SUCCESS later), {kind: "drop"} always gets DROP; and
// {kind: "forward"} makes it publish {kind: "forwarded"} to the same topic.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer } from "@dapr/dapr";

const env = process.env;
const record = (line) => appendFileSync(env.EVENTS_FILE, JSON.stringify(line) + "\n");

const server = new DaprServer({
  serverHost: "127.0.0.1",
  serverPort: env.PORT,
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  clientOptions: { daprHost: env.DAPR_HOST },
});

// The SDK's callback gets the CloudEvent's data and the request headers only.
// To check the envelope Ofn built, a middleware on the SDK's Express app
// (added before any route, so it runs first) files the CloudEvent attributes
// under the request's headers object, which the callback receives as is.
const envelopes = new WeakMap();
const attributes = ({ id, source, type, specversion, datacontenttype, topic, pubsubname } = {}) =>
  ({ id, source, type, specversion, datacontenttype, topic, pubsubname });
server.daprServer.getServer().use((req, _res, next) => {
  const entries = req.body?.entries;
  if (Array.isArray(entries)) {
    // A bulk call: the SDK passes each entry's metadata object as the headers.
    for (const e of entries) {
      const ce = typeof e.event === "object" ? attributes(e.event) : { contentType: e.contentType };
      envelopes.set(e.metadata, { ...ce, bulk: entries.length });
    }
  } else {
    envelopes.set(req.headers, attributes(req.body ?? {}));
  }
  next();
});

// Instances may be several: whether the RETRY was given is read from the file.
const retried = () => existsSync(env.EVENTS_FILE) && readFileSync(env.EVENTS_FILE, "utf8").includes('"status":"RETRY"');
async function handle(data, headers) {
  let status = DaprPubSubStatusEnum.SUCCESS;
  if (data?.kind === "drop") status = DaprPubSubStatusEnum.DROP;
  if (data?.kind === "retry" && !retried()) status = DaprPubSubStatusEnum.RETRY;
  let error;
  if (data?.kind === "forward") {
    // Through the app's own client, i.e. with its DAPR_API_TOKEN.
    error = (await server.client.pubsub.publish(env.PUBSUB, env.TOPIC, { kind: "forwarded" })).error?.message;
    if (error) status = DaprPubSubStatusEnum.RETRY;
  }
  // Bulk entries carry the broker metadata as sent; HTTP headers arrive lower-cased.
  const line = { data, status, contentType: headers["content-type"], pubsubName: headers["pubsubname"] ?? headers["pubsubName"] };
  record({ ...line, ce: envelopes.get(headers), error });
  return status;
}
if (env.TOPIC) await server.pubsub.subscribe(env.PUBSUB, env.TOPIC, handle);
// A raw subscription: Dapr wraps each broker message in a new CloudEvent whose
// data_base64 the SDK decodes (fact sheet §2.3).
if (env.RAW_TOPIC) await server.pubsub.subscribe(env.PUBSUB, env.RAW_TOPIC, handle, "", { rawPayload: true });
if (env.BULK_TOPIC) await server.pubsub.subscribeBulk(env.PUBSUB, env.BULK_TOPIC, handle, { maxMessagesCount: 8 });
if (env.BULK_RAW_TOPIC) {
  await server.pubsub.subscribeBulk(env.PUBSUB, env.BULK_RAW_TOPIC, handle, { metadata: { rawPayload: true } });
}

// start() listens, then polls GET /v1.0/metadata until the sidecar answers.
await server.start();
const meta = await server.client.metadata.get();
record({ ready: true, appId: meta.id, hasToken: Boolean(env.DAPR_API_TOKEN) });

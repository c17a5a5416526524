// An Ofn async function built on the official SDK's DaprServer (HTTP), as an
// OpenFunction Node function would be: it subscribes to $TOPIC on $PUBSUB,
// serves on $PORT, and reaches the Dapr API at DAPR_HOST/DAPR_HTTP_PORT with
// the DAPR_API_TOKEN the instance got (the SDK reads port and token from the
// environment itself). Every delivery is appended to $EVENTS_FILE as one JSON
// line {data, status, contentType, pubsubName, ce}.
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
server.daprServer.getServer().use((req, _res, next) => {
  const { id, source, type, specversion, datacontenttype, topic, pubsubname } = req.body ?? {};
  envelopes.set(req.headers, { id, source, type, specversion, datacontenttype, topic, pubsubname });
  next();
});

// Instances may be several: whether the RETRY was given is read from the file.
const retried = () => existsSync(env.EVENTS_FILE) && readFileSync(env.EVENTS_FILE, "utf8").includes('"status":"RETRY"');
await server.pubsub.subscribe(env.PUBSUB, env.TOPIC, async (data, headers) => {
  let status = DaprPubSubStatusEnum.SUCCESS;
  if (data?.kind === "drop") status = DaprPubSubStatusEnum.DROP;
  if (data?.kind === "retry" && !retried()) status = DaprPubSubStatusEnum.RETRY;
  if (data?.kind === "forward") {
    // Through the app's own client, i.e. with its DAPR_API_TOKEN.
    const r = await server.client.pubsub.publish(env.PUBSUB, env.TOPIC, { kind: "forwarded" });
    if (r.error) status = DaprPubSubStatusEnum.RETRY;
  }
  record({ data, status, contentType: headers["content-type"], pubsubName: headers["pubsubname"], ce: envelopes.get(headers) });
  return status;
});

// start() listens, then polls GET /v1.0/metadata until the sidecar answers.
await server.start();
const meta = await server.client.metadata.get();
record({ ready: true, appId: meta.id, hasToken: Boolean(env.DAPR_API_TOKEN) });

// Raw payloads: published with metadata rawPayload=true (no CloudEvent on the
// broker) to a topic the DaprServer app subscribes to with rawPayload metadata
// in GET /dapr/subscribe. Dapr then delivers a CloudEvent it makes, with the
// raw bytes in data_base64 and datacontenttype application/octet-stream, which
// the SDK decodes for the callback (fact sheet §1.1, §2.2, §2.3).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { check, deployApp, testClient, waitFor } from "./lib.mjs";

const app = deployApp("sdk-raw", ["orders", "raw"], { TOPIC: "orders", RAW_TOPIC: "raw" });
const client = testClient();
const show = (x) => JSON.stringify(x);

const published = ["plain text", { a: 1 }];
for (const data of published) {
  const r = await client.pubsub.publish("bus", "raw", data, { metadata: { rawPayload: "true" } });
  check(show(r) === "{}", "publish raw " + show(data) + " -> " + (r.error?.message ?? show(r)));
}
// A CloudEvent on the normal topic: it tells when delivery runs at all.
await client.pubsub.publish("bus", "orders", { kind: "marker" });

// Ofn gives up on an event the app keeps refusing and logs "event dropped":
// that ends the wait at once.
const dropped = () => {
  const log = readFileSync(join(process.env.OFN_DATA, "server.log"), "utf8");
  return log.split("\n").filter((l) => l.includes("event dropped") && l.includes("function=default/sdk-raw"));
};
const got = await waitFor("the raw events", () => {
  const ls = app.lines();
  const done = new Set(ls.filter((l) => l.status === "SUCCESS").map((l) => show(l.data)));
  const all = done.has(show({ kind: "marker" })) && published.every((d) => done.has(show(d)));
  return (all || dropped().length > 0) && ls;
}, app.logs, 15000);
check(dropped().length === 0,
      "events dropped after the app refused them (the SDK's JSON parser rejects a body that is not a CloudEvent;" +
      " with rawPayload in /dapr/subscribe Dapr delivers a CloudEvent with data_base64):\n" + dropped().join("\n") +
      "\n" + app.logs());

for (const data of published) {
  const seen = got.filter((l) => show(l.data) === show(data));
  check(seen.length === 1, `${show(data)} delivered ${seen.length} times`);
  const ce = seen[0].ce;
  check(ce?.datacontenttype === "application/octet-stream" && ce.type === "com.dapr.event.sent" &&
        ce.topic === "raw" && ce.pubsubname === "bus" && ce.id,
        `${show(data)}: the app got CloudEvent attributes ${show(ce)}, want those of the CloudEvent Dapr makes` +
        " for a raw subscription (datacontenttype application/octet-stream, topic raw, pubsubname bus, an id)");
}
console.log("dapr sdk raw payloads: ok");

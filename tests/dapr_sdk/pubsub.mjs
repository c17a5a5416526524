// client.pubsub.publish to the pubsub.ofn Component "bus", consumed by an Ofn
// async Function whose program is app.mjs, a DaprServer subscriber: Ofn asks it
// GET /dapr/subscribe, POSTs CloudEvents to the SDK's route and acts on its
// {"status"} answers. The test waits (with a deadline) until the app recorded
// every event, and checks each arrived exactly once (the RETRY one twice).
import { check, deployApp, testClient, waitFor } from "./lib.mjs";

const app = deployApp("sdk-app", ["orders"], { TOPIC: "orders" });
const client = testClient();
const show = (x) => JSON.stringify(x);

// Errors come back as {error}, not thrown.
for (const bad of ["nope", "kv"]) {
  const r = await client.pubsub.publish(bad, "orders", { n: -1 });
  const status = r.error ? JSON.parse(r.error.message).status : undefined;
  check(status === 404, `publish to ${bad} -> ` + show(r) + " " + (r.error?.message ?? ""));
}

// What is published, and how each must reach the app: the data its callback
// gets, the statuses it answers in order, and CloudEvent attributes.
const sent = { type: "com.dapr.event.sent" };  // source: the publisher's app id (the test's client has none)
const cases = [
  { publish: "hello", statuses: ["SUCCESS"], ce: { ...sent, datacontenttype: "text/plain" } },
  ...Array.from({ length: 10 }, (_, i) => (
    { publish: { n: i }, statuses: ["SUCCESS"], ce: { ...sent, datacontenttype: "application/json" } })),
  { publish: { id: "ce-1", source: "sdk-test", type: "com.example.order", specversion: "1.0", data: { kind: "ce" } },
    data: { kind: "ce" }, statuses: ["SUCCESS"], ce: { id: "ce-1", source: "sdk-test", type: "com.example.order" } },
  { publish: { kind: "drop" }, statuses: ["DROP"], ce: sent },
  { publish: { kind: "retry" }, statuses: ["RETRY", "SUCCESS"], ce: sent },
  { publish: { kind: "forward" }, statuses: ["SUCCESS"], ce: sent },
  // Published by the app with its token: the source is its app id.
  { data: { kind: "forwarded" }, statuses: ["SUCCESS"], ce: { ...sent, source: "sdk-app" } },
];
for (const c of cases.filter((c) => "publish" in c)) {
  const r = await client.pubsub.publish("bus", "orders", c.publish);
  check(show(r) === "{}", "publish " + show(c.publish) + " -> " + (r.error?.message ?? show(r)));
}
const key = (c) => show("data" in c ? c.data : c.publish);

const settled = (ls) => {
  const done = new Set(ls.filter((l) => l.status === "SUCCESS" || l.status === "DROP").map((l) => show(l.data)));
  return ls.some((l) => l.ready) && cases.every((c) => done.has(key(c)));
};
const got = await waitFor("the app to record every event", () => {
  const ls = app.lines();
  return settled(ls) && ls;
}, app.logs, 30000);

for (const ready of got.filter((l) => l.ready)) {
  check(ready.appId === "sdk-app" && ready.hasToken, "the app's sidecar metadata with its token: " + show(ready));
}
const deliveries = got.filter((l) => !l.ready);
const ids = new Set();
for (const c of cases) {
  const seen = deliveries.filter((l) => show(l.data) === key(c));
  check(show(seen.map((l) => l.status)) === show(c.statuses), `deliveries of ${key(c)}: ${show(seen)}, want ${show(c.statuses)}`);
  for (const l of seen) {
    const want = { specversion: "1.0", topic: "orders", pubsubname: "bus", ...c.ce };
    for (const [k, v] of Object.entries(want)) check(l.ce?.[k] === v, `${key(c)}: CloudEvent ${k} ${show(l.ce)}, want ${show(v)}`);
    for (const k of ["id", "source"]) check(typeof l.ce[k] === "string" && l.ce[k] !== "", `${key(c)}: no CloudEvent ${k}`);
    check((l.contentType ?? "").startsWith("application/cloudevents+json"), `${key(c)}: content-type ${l.contentType}`);
    check(l.pubsubName === "bus", `${key(c)}: the pubsubName header ${show(l.pubsubName)}`);
  }
  check(new Set(seen.map((l) => l.ce.id)).size === 1, `${key(c)}: a redelivery changed the id ${show(seen)}`);
  check(!ids.has(seen[0].ce.id), `${key(c)}: id ${seen[0].ce.id} also names another event`);
  ids.add(seen[0].ce.id);
}
const stray = deliveries.filter((l) => !cases.some((c) => key(c) === show(l.data)));
check(stray.length === 0, "deliveries nobody published: " + show(stray));
console.log(`dapr sdk pubsub (DaprServer app): ok, ${deliveries.length} deliveries to ${got.length - deliveries.length} instance(s)`);

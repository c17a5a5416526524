// Bulk delivery: a DaprServer app subscribes with the SDK's subscribeBulk
// (Dapr's bulkSubscribe in GET /dapr/subscribe), so Ofn POSTs its events in
// Dapr's bulk format and reads one status per entry (fact sheet §2.3). 30
// events published at once, among them one the app answers RETRY once and one
// it DROPs; and raw payloads on a rawPayload bulk subscription (entries of
// contentType application/octet-stream, base64, which the SDK decodes).
import { check, deployApp, testClient, waitFor } from "./lib.mjs";

const app = deployApp("sdk-bulk", ["batch", "rawbatch"], { BULK_TOPIC: "batch", BULK_RAW_TOPIC: "rawbatch" });
const client = testClient();
const show = (x) => JSON.stringify(x);

const events = [...Array.from({ length: 28 }, (_, i) => ({ n: i })), { kind: "retry" }, { kind: "drop" }];
const r = await client.pubsub.publishBulk("bus", "batch", events);
check(r.failedMessages.length === 0, "bulk publish -> " + show(r));
const raws = ["raw text", "more raw"];
for (const data of raws) {
  const p = await client.pubsub.publish("bus", "rawbatch", data, { metadata: { rawPayload: "true" } });
  check(show(p) === "{}", "publish raw " + show(data) + " -> " + (p.error?.message ?? show(p)));
}

const want = (d) => (d.kind === "retry" ? ["RETRY", "SUCCESS"] : d.kind === "drop" ? ["DROP"] : ["SUCCESS"]);
const got = await waitFor("every bulk delivery", () => {
  const ls = app.lines().filter((l) => !l.ready);
  const all = [...events, ...raws].every((d) => {
    const statuses = ls.filter((l) => show(l.data) === show(d)).map((l) => l.status);
    return show(statuses) === show(want(d));
  });
  return all && ls;
}, app.logs, 30000);

for (const d of events) {
  const seen = got.filter((l) => show(l.data) === show(d));
  check(show(seen.map((l) => l.status)) === show(want(d)), `${show(d)}: ${show(seen)}, want ${show(want(d))}`);
  for (const l of seen) {
    check(l.ce?.bulk >= 1 && l.ce.bulk <= 8, `${show(d)} did not come in a bulk call of at most 8: ${show(l.ce)}`);
    check(l.ce.topic === "batch" && l.ce.pubsubname === "bus" && l.ce.id, `${show(d)}: CloudEvent ${show(l.ce)}`);
    check(l.pubsubName === "bus", `${show(d)}: entry metadata pubsubName ${show(l.pubsubName)}`);
  }
}
for (const d of raws) {
  const seen = got.filter((l) => show(l.data) === show(d));
  check(seen.length === 1 && seen[0].ce?.contentType === "application/octet-stream",
        `raw ${show(d)}: ${show(seen)}, want one delivery as an application/octet-stream entry`);
}
const sizes = got.map((l) => l.ce?.bulk ?? 0);
console.log(`dapr sdk bulk subscribe: ok, ${got.length} deliveries, largest call ${Math.max(...sizes)} entries`);

// client.binding.send to a bindings.http Component whose url is a small HTTP
// server run here: what the server receives (method, path, body, headers from
// uppercase metadata keys) and what the SDK returns or throws (fact sheet §1.3, §4.2).
import http from "node:http";
import { apply, check, sdkError, testClient } from "./lib.mjs";

const received = [];
const target = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
    if (req.url.endsWith("/fail")) {
      res.writeHead(503, { "Content-Type": "text/plain" }).end("down");
    } else {
      res.writeHead(201, { "Content-Type": "application/json", "X-Reply": "yes" }).end(JSON.stringify({ ok: true, n: received.length }));
    }
  });
});
await new Promise((r) => target.listen(0, "127.0.0.1", r));
const port = target.address().port;
apply(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: hook
spec:
  type: bindings.http
  version: v1
  metadata:
    - name: url
      value: http://127.0.0.1:${port}/api
`);

const client = testClient();
const show = (x) => JSON.stringify(x);
const last = () => received[received.length - 1];

// POST with a JSON object: Dapr re-encodes data compactly with sorted keys and
// turns metadata keys that start with an uppercase letter into headers.
const r1 = await client.binding.send("hook", "create", { order: 7, note: "x" },
                                     { path: "/orders", "X-Order-Source": "sdk", lower: "not-a-header" });
check(show(r1) === show({ ok: true, n: 1 }), "send create -> " + show(r1));
check(received.length === 1, "the target got " + received.length + " requests");
check(last().method === "POST" && last().url === "/api/orders", "create reached " + last().method + " " + last().url);
check(show(JSON.parse(last().body)) === show({ note: "x", order: 7 }), "create body " + last().body);
check(last().headers["x-order-source"] === "sdk", "uppercase metadata as header: " + show(last().headers));
check(!("lower" in last().headers), "lowercase metadata became a header: " + show(last().headers));
check((last().headers["content-type"] || "").startsWith("application/json"), "content-type " + last().headers["content-type"]);

// A JSON string reaches the target with its quotes (Dapr re-encodes `data`).
await client.binding.send("hook", "post", "hi", { path: "/text" });
check(last().method === "POST" && last().body === '"hi"', "post string body " + show(last().body));

// GET sends no body; the SDK returns the target's parsed JSON.
const r3 = await client.binding.send("hook", "get", undefined, { path: "/orders/7" });
check(last().method === "GET" && last().url === "/api/orders/7" && last().body === "", "get -> " + show(last()));
check(show(r3) === show({ ok: true, n: 3 }), "get returned " + show(r3));

// A non-2xx answer is a Dapr 500 ERR_INVOKE_OUTPUT_BINDING, which the SDK throws...
let threw;
try {
  await client.binding.send("hook", "post", { x: 1 }, { path: "/fail" });
} catch (e) {
  threw = sdkError(e);
}
check(threw && threw.status === 500 && threw.errorCode === "ERR_INVOKE_OUTPUT_BINDING", "/fail -> " + show(threw));
check(last().url === "/api/fail", "the failing call reached " + last().url);

// ...unless errorIfNot2XX is off for the call: then the body comes back.
const r5 = await client.binding.send("hook", "post", { x: 1 }, { path: "/fail", errorIfNot2XX: "false" });
check(r5 === "down", "errorIfNot2XX=false -> " + show(r5));

// Unknown binding and unsupported operation: 500 ERR_INVOKE_OUTPUT_BINDING, nothing sent.
const before = received.length;
for (const [name, op] of [["nope", "create"], ["hook", "explode"]]) {
  let err;
  try {
    await client.binding.send(name, op, { x: 1 });
  } catch (e) {
    err = sdkError(e);
  }
  check(err && err.status === 500 && err.errorCode === "ERR_INVOKE_OUTPUT_BINDING", `${name}/${op} -> ` + show(err));
}
check(received.length === before, "a rejected call reached the target");

target.closeAllConnections();
target.close();
console.log("dapr sdk bindings: ok");

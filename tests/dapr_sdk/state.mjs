// Runs the official Dapr JavaScript SDK (HTTP protocol) against Ofn's Dapr API.
// State save, get, bulk get, transaction and delete on the state.ofn store "kv".
import { check, testClient } from "./lib.mjs";

const store = "kv";
const client = testClient();

await client.state.save(store, [{ key: "k1", value: { n: 1 } }, { key: "k2", value: "two" }]);
const v1 = await client.state.get(store, "k1");
check(JSON.stringify(v1) === JSON.stringify({ n: 1 }), "get k1 -> " + JSON.stringify(v1));
const bulk = await client.state.getBulk(store, ["k1", "k2"]);
check(bulk.length === 2, "bulk -> " + JSON.stringify(bulk));
await client.state.transaction(store, [{ operation: "upsert", request: { key: "k3", value: 3 } }, { operation: "delete", request: { key: "k2" } }]);
check((await client.state.get(store, "k3")) === 3, "transaction upsert");
const gone = await client.state.get(store, "k2");
check(gone === "" || gone === undefined || gone === null, "transaction delete -> " + JSON.stringify(gone));
await client.state.delete(store, "k1");
const deleted = await client.state.get(store, "k1");
check(deleted === "" || deleted === undefined || deleted === null, "delete -> " + JSON.stringify(deleted));
console.log("dapr sdk state: ok");

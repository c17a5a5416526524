// Helpers shared by the SDK tests: checks that end the run, waiting on a
// condition with a deadline, a DaprClient for the test itself, and
// `ofn apply` of manifests (run.sh exports OFN, OFN_DATA and the Dapr address).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DaprClient, CommunicationProtocolEnum } from "@dapr/dapr";

export function check(cond, what) {
  if (!cond) {
    console.error("FAIL: " + what);
    process.exit(1);
  }
}

// The test's own client: no DAPR_API_TOKEN, so it sees the standalone
// Components of namespace "default".
export function testClient() {
  return new DaprClient({
    daprHost: process.env.DAPR_HOST,
    daprPort: process.env.DAPR_HTTP_PORT,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
  });
}

export function apply(yaml) {
  execFileSync(process.env.OFN, ["--data-dir", process.env.OFN_DATA, "apply", "-f", "-"], { input: yaml });
}

// Polls `probe` until it returns a truthy value; fails naming `what` and the
// last thing `describe` says when the deadline passes.
export async function waitFor(what, probe, describe = () => "", ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) check(false, `timed out waiting for ${what}; ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The {status, errorCode} of an SDK error (it throws Error(JSON {error, error_msg, status})).
export function sdkError(e) {
  let outer;
  try {
    outer = JSON.parse(e.message);
  } catch {
    return { status: undefined, errorCode: undefined, text: String(e) };
  }
  let errorCode;
  try {
    errorCode = JSON.parse(outer.error_msg).errorCode;
  } catch {
    errorCode = undefined;
  }
  return { status: outer.status, errorCode, text: outer.error_msg };
}

// Applies an async Function `name` whose program is app.mjs (next to this
// file), triggered by `topics` of the pubsub "bus"; `params` add to its
// environment. Returns what the app recorded and the instances' logs.
export function deployApp(name, topics, params = {}) {
  const dir = mkdtempSync(join(process.env.OFN_DATA, "app-"));  // run.sh removes it
  const events = join(dir, "events.jsonl");
  const app = join(import.meta.dirname, "app.mjs");
  const env = { EVENTS_FILE: events, PUBSUB: "bus", ...params };
  apply(`apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: ${name}
  annotations:
    ofn.io/readiness: tcp
    ofn.io/retry-backoff: 10ms
spec:
  version: v1.0.0
  image: example/${name}:v1
  serving:
    params:
${Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`).join("\n")}
    triggers:
      dapr:
${topics.map((t) => `        - {name: bus, type: pubsub.ofn, topic: ${t}}`).join("\n")}
    template:
      containers:
        - name: function
          command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(app)}]
`);
  const lines = () => {
    let text = "";
    try {
      text = readFileSync(events, "utf8");
    } catch {
      return [];
    }
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  };
  const logs = () => {
    const logDir = join(process.env.OFN_DATA, "logs/default", name);
    let text = "";
    try {
      for (const f of readdirSync(logDir)) text += `--- ${f}\n` + readFileSync(join(logDir, f), "utf8");
    } catch {
      text = "(no instance log)";
    }
    return "recorded: " + JSON.stringify(lines()) + "\ninstance logs:\n" + text;
  };
  return { lines, logs };
}

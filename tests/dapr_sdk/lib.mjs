// Helpers shared by the SDK tests: checks that end the run, waiting on a
// condition with a deadline, a DaprClient for the test itself, and
// `ofn apply` of manifests (run.sh exports OFN, OFN_DATA and the Dapr address).
import { execFileSync } from "node:child_process";
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

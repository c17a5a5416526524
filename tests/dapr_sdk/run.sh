#!/usr/bin/env bash
# The official Dapr JavaScript SDK (@dapr/dapr, HTTP protocol) against the
# Dapr API that `ofn server` serves to instances.
#   run.sh OFN_BINARY WORK_DIR [SCRIPT.mjs...]
# Installs the SDK into WORK_DIR (npm ci when the lock file changed), then, if scripts
# are named, starts a server with Components "kv" (state.ofn) and "bus"
# (pubsub.ofn) and runs each script in WORK_DIR with OFN, OFN_DATA,
# DAPR_HOST and DAPR_HTTP_PORT set.
set -euo pipefail
ofn=$(realpath "$1")
work=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed (the machine image ships it; apt-get install nodejs npm)"; exit 1; }
mkdir -p "$work"
if [[ ! -d $work/node_modules/@dapr/dapr ]] || ! cmp -s "$here/package-lock.json" "$work/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
(($# > 0)) || exit 0

# Scripts run from a directory of their own under WORK_DIR (node finds the
# SDK in WORK_DIR/node_modules), so parallel runs never see a half-copied file.
data=$(mktemp -d)
scripts=$(mktemp -d "$work/run.XXXXXX")
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$data" "$scripts"
}
trap cleanup EXIT
cp "$here"/*.mjs "$scripts/"
# Port 0 everywhere: the server logs the ports it chose. The log exists
# before the loop reads it (the background shell may not have opened it yet).
: >"$data/server.log"
"$ofn" server --data-dir "$data" --gateway 127.0.0.1:0 --dapr-addr 127.0.0.1:0 2>"$data/server.log" &
pid=$!
dapr_port=
for _ in $(seq 200); do
  dapr_port=$(sed -n 's/.*dapr_api=127.0.0.1:\([0-9]*\).*/\1/p' "$data/server.log")
  [[ -n $dapr_port ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $dapr_port ]] || { echo "ofn server did not start:"; cat "$data/server.log"; exit 1; }
for c in kv:state.ofn bus:pubsub.ofn; do
  printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: %s\n  version: v1\n  metadata: []\n' \
    "${c%%:*}" "${c#*:}" | "$ofn" --data-dir "$data" apply -f -
done
cd "$scripts"
export OFN=$ofn OFN_DATA=$data DAPR_HOST=127.0.0.1 DAPR_HTTP_PORT=$dapr_port
for script in "$@"; do
  node "$script" || { echo "--- server log"; tail -n 40 "$data/server.log"; exit 1; }
done

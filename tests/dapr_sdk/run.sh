#!/usr/bin/env bash
# The official Dapr JavaScript SDK (@dapr/dapr, HTTP protocol) against the
# Dapr API that `ofn server` serves to instances: state save, get, bulk get,
# transaction and delete on a state.ofn Component.
#   run.sh OFN_BINARY WORK_DIR
set -euo pipefail
ofn=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed (the machine image ships it; apt-get install nodejs npm)"; exit 1; }
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/state.mjs" "$work/"
if [[ ! -d $work/node_modules/@dapr/dapr ]]; then
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
data=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
# Port 0 everywhere: the server logs the ports it chose.
"$ofn" server --data-dir "$data" --gateway 127.0.0.1:0 --dapr-addr 127.0.0.1:0 2>"$data/server.log" &
pid=$!
dapr_port=
for _ in $(seq 200); do
  dapr_port=$(sed -n 's/.*dapr_api=127.0.0.1:\([0-9]*\).*/\1/p' "$data/server.log")
  [[ -n $dapr_port ]] && break
  sleep 0.05
done
[[ -n $dapr_port ]] || { echo "ofn server did not start:"; cat "$data/server.log"; exit 1; }
printf 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: kv\nspec:\n  type: state.ofn\n  version: v1\n  metadata: []\n' |
  "$ofn" --data-dir "$data" apply -f -
cd "$work"
DAPR_HOST=127.0.0.1 DAPR_HTTP_PORT=$dapr_port STORE=kv node state.mjs

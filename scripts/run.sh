#!/usr/bin/env bash
# `make run`: starts `ofn server` with the example functions applied and
# prints how to call them; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
PORT=${PORT:-8080}
DATA=${OFN_DATA_DIR:-$BUILD/run-data}
OFN="$BUILD/bin/ofn"

# The example manifests name their programs (`command: ["hello"]`); the
# server looks them up in its PATH, as a container runtime would in an image.
EXAMPLES=$(find "$(realpath "$BUILD/examples")" -maxdepth 1 -mindepth 1 -type d | tr '\n' ':')
export OFN_DATA_DIR=$DATA
# C++ functions build against Ofn's SDK: the server finds it beside its binary.
cmake --install "$BUILD" --prefix "$BUILD/sdk" >/dev/null
# Images of the async examples stand for the programs in examples/async.
PATH="$EXAMPLES$PATH" "$OFN" server --data-dir "$DATA" --gateway "127.0.0.1:$PORT" \
  --local-images "$(realpath "$BUILD/examples/async"):$(realpath "$BUILD/examples/events")" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM
for _ in $(seq 100); do [[ -S $DATA/ofn.sock ]] && break; sleep 0.05; done
"$OFN" apply -f examples/manifests
"$OFN" apply -f examples/events

# The hello example again, built from source into an image and served from it
# as containers.
sed "s|/path/to/ofn|$(pwd)|" examples/build/hello-from-source.yaml >"$DATA/hello-from-source.yaml"
"$OFN" build -f "$DATA/hello-from-source.yaml" || echo "(the build failed: see above)"

cat <<MSG

==> ofn server is running (data in $DATA, gateway on 127.0.0.1:$PORT). Try:

    curl http://127.0.0.1:$PORT/default/hello/
    curl http://127.0.0.1:$PORT/default/hello-from-source/  # built above, served as a container
    curl http://127.0.0.1:$PORT/default/multi/hello/Ann
    curl -X POST http://127.0.0.1:$PORT/default/multi/sum -d '{"numbers":[1,2,3]}'
    curl http://127.0.0.1:$PORT/default/greeter/ -H 'ce-specversion: 1.0' -H 'ce-id: 1' \\
         -H 'ce-source: /me' -H 'ce-type: com.example.person' -H 'Content-Type: application/json' -d '{"name":"Ada"}'

    curl "http://127.0.0.1:$PORT/default/producer/?count=3"   # publishes 3 events on the embedded bus;
    OFN_DATA_DIR=$DATA $OFN logs autoscaling-subscriber        # the async subscriber, started from zero, got them

    # Events: a webhook source, Ofn's embedded bus and a Trigger (examples/events/orders.yaml)
    curl -X POST http://127.0.0.1:$PORT/_eventsources/default/shop/orders \\
         -H 'Content-Type: application/json' -d '{"id":1,"total":250}'
    OFN_DATA_DIR=$DATA $OFN logs order-alert     # the sync function the Trigger called (total >= 100)
    OFN_DATA_DIR=$DATA $OFN logs order-audit     # the async function reading the Trigger's topic
    OFN_DATA_DIR=$DATA $OFN describe trigger orders   # per subscriber: delivered, retried, dead-lettered
    OFN_DATA_DIR=$DATA $OFN events tail orders-audit  # watch a bus topic (Ctrl-C to stop)

    OFN_DATA_DIR=$DATA $OFN get functions        # status, URLs
    OFN_DATA_DIR=$DATA $OFN logs hello           # an instance's log
    OFN_DATA_DIR=$DATA $OFN logs hello-from-source --build   # its build's log
    OFN_DATA_DIR=$DATA $OFN build hello-from-source         # again: unchanged source is a cache hit

Functions start on their first request and stop when idle. Ctrl-C stops the server.
MSG
wait $server || true  # Ctrl-C ends it: not an error

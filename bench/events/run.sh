#!/usr/bin/env bash
# The events benchmark: what the events path adds to a sync function's
# latency. The same function (bench-sink, served with one warm instance)
# records each event's send -> arrival time for three routes, in one run:
#   direct      POST to the function's URL on the gateway;
#   embedded    POST to a webhook EventSource -> Ofn's embedded bus -> Trigger -> the function;
#   jetstream   the same on an EventBus carried by NATS JetStream (OpenFunction's natsStreaming spec).
# The driver and nats-server run on CLIENT_CPU (1), `ofn server` and the function on SERVER_CPU (0).
# Env: BUILD_DIR (build), EVENTS (2000 per run), INTERVAL_US (2000), EVENT_SIZE (256), ROUNDS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
OFN_BIN=${OFN_BIN:-$BUILD_DIR/bin/ofn}
DRIVER=${DRIVER:-$BUILD_DIR/bench/chainbench}
IMAGES=$(realpath "$BUILD_DIR/bench/async")  # bench-sink, as image bench/bench-sink:v1
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
EVENTS=${EVENTS:-2000}
INTERVAL_US=${INTERVAL_US:-2000}
EVENT_SIZE=${EVENT_SIZE:-256}
ROUNDS=${ROUNDS:-2}
for f in "$OFN_BIN" "$DRIVER" "$IMAGES/bench-sink"; do
  [[ -x $f ]] || { echo "bench: $f not found (ninja -C $BUILD_DIR ofn_bin chainbench bench-sink)" >&2; exit 1; }
done
command -v nats-server >/dev/null || { echo "bench: nats-server not found" >&2; exit 1; }

source bench/lib.sh
mkdir -p "$work/nats" "$work/out"
nats_port=$(free_port)
taskset -c "$CLIENT_CPU" nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats/log" 2>&1 &
pids+=($!)
wait_port "$nats_port"
start_ofn_server --local-images "$IMAGES" >"$work/server.log" 2>&1
ofn() { "$OFN_BIN" --server "http://127.0.0.1:$api" --token "$token" "$@"; }

ofn apply -f - >/dev/null <<YAML
apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: bench-sink
spec:
  version: v1
  image: bench/bench-sink:v1
  serving:
    scaleOptions: {minReplicas: 1}
    params: {BENCH_OUT: "$work/out"}
    template:
      containers:
        - name: function
---
apiVersion: events.openfunction.io/v1alpha1
kind: EventBus
metadata:
  name: jetstream
spec:
  natsStreaming:
    natsURL: nats://127.0.0.1:$nats_port
    natsStreamingClusterID: stan
    subscriptionType: queue
    durableSubscriptionName: bench
YAML
for bus in default jetstream; do
  ofn apply -f - >/dev/null <<YAML
apiVersion: events.openfunction.io/v1alpha1
kind: EventSource
metadata:
  name: src-$bus
spec:
  eventBus: $bus
  webhook:
    hit: {}
---
apiVersion: events.openfunction.io/v1alpha1
kind: Trigger
metadata:
  name: to-sink-$bus
spec:
  eventBus: $bus
  inputs:
    hit: {eventSource: src-$bus, event: hit}
  subscribers:
    - condition: hit
      sink:
        ref: {apiVersion: core.openfunction.io/v1beta2, kind: Function, name: bench-sink}
YAML
done
for t in to-sink-default to-sink-jetstream; do
  for _ in $(seq 200); do
    ofn get trigger "$t" -o json | grep -q '"type": "Ready"' && break
    sleep 0.05
  done
done

# One run: its events through PATH, then its figures (count p50 p99 max first last) once all arrived.
run() {  # NAME PATH COUNT
  taskset -c "$CLIENT_CPU" "$DRIVER" "$gw" "$2" "$1" "$3" "$INTERVAL_US" "$EVENT_SIZE"
  for _ in $(seq 1000); do [[ -f $work/out/$1.txt ]] && break; sleep 0.02; done
  [[ -f $work/out/$1.txt ]] || { echo "bench: run $1 never completed; server log:" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }
  cat "$work/out/$1.txt"
}
declare -A route=([direct]=/default/bench-sink/ [embedded]=/_eventsources/default/src-default/hit
                  [jetstream]=/_eventsources/default/src-jetstream/hit)
for r in direct embedded jetstream; do run "warm-$r" "${route[$r]}" 100 >/dev/null; done

print_header "Ofn events benchmark: source -> bus -> trigger -> sync function" \
  "bench/events/run.sh (EVENTS=$EVENTS INTERVAL_US=$INTERVAL_US EVENT_SIZE=$EVENT_SIZE ROUNDS=$ROUNDS)"
echo "cores:    ofn server + function on $SERVER_CPU; driver + nats-server on $CLIENT_CPU"
echo
printf '%-6s %-10s %8s %8s %8s %14s\n' round route p50_us p99_us max_us added_p50_us
for round in $(seq "$ROUNDS"); do
  declare -A p50=()
  for r in direct embedded jetstream; do
    read -r n a b m _ _ < <(run "$r-$round" "${route[$r]}" "$EVENTS")
    p50[$r]=$a
    added=$([[ $r == direct ]] && echo "-" || awk -v x="$a" -v d="${p50[direct]}" 'BEGIN{printf "%.0f", (x-d)/1000}')
    awk -v r="$round" -v name="$r" -v n="$n" -v a="$a" -v b="$b" -v m="$m" -v add="$added" \
      'BEGIN{printf "%-6s %-10s %8.0f %8.0f %8.0f %14s\n", r, name, a/1000, b/1000, m/1000, add}'
  done
done
echo
echo "added_p50_us: the route's p50 minus the direct p50 of the same round (target: <= 1000 us)."

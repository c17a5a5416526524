#!/usr/bin/env bash
# The async-delivery benchmark: Ofn's event delivery beside a bare subscriber
# written with the same client library, for Redis Streams, NATS JetStream and
# MQTT, in one run (bench/async/eventbench.cc says what is measured).
#
# `ofn server`, its function instances and the bare subscribers run on
# SERVER_CPU (default 0): the subscriber side gets one core either way. The
# brokers and the publishing driver run on CLIENT_CPU (default 1).
#
# Env: BUILD_DIR (default build), BROKERS ("redis nats mqtt"), and the
# driver's LAT_EVENTS, LAT_INTERVAL_US, TPUT_EVENTS, COLD_ROUNDS,
# COLD_READINESS, EVENT_SIZE, BARE_BATCH (the bare subscribers' read batch).
# KEEP_WORK=1 keeps the logs (temporary directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
OFN_BIN=${OFN_BIN:-$BUILD_DIR/bin/ofn}
EVENTBENCH=${EVENTBENCH:-$BUILD_DIR/bench/async/eventbench}
IMAGES=$(realpath "$BUILD_DIR/bench/async")  # holds bench-sink, the image bench/bench-sink:v1
BROKERS=${BROKERS:-redis nats mqtt}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for f in "$OFN_BIN" "$EVENTBENCH" "$IMAGES/bench-sink"; do
  [[ -x $f ]] || { echo "bench: $f not found (ninja -C $BUILD_DIR ofn_bin eventbench bench-sink)" >&2; exit 1; }
done
for tool in redis-server nats-server mosquitto taskset; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "bench: $tool not found" >&2; exit 1; }
done

source bench/lib.sh

mkdir -p "$work/redis" "$work/nats" "$work/mqtt" "$work/out"
targets=()
for b in $BROKERS; do
  port=$(free_port)
  case $b in
    redis)
      taskset -c "$CLIENT_CPU" redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --save "" \
        --appendonly no --protected-mode no >"$work/redis/log" 2>&1 &
      targets+=("redis=127.0.0.1:$port") ;;
    nats)
      taskset -c "$CLIENT_CPU" nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/nats" >"$work/nats/log" 2>&1 &
      targets+=("nats=nats://127.0.0.1:$port") ;;
    mqtt)
      # Unlimited queues: the throughput run parks its events in offline persistent sessions.
      printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nuser root\n' "$port" \
        >"$work/mqtt/mosquitto.conf"
      PATH=$PATH:/usr/sbin taskset -c "$CLIENT_CPU" mosquitto -c "$work/mqtt/mosquitto.conf" >"$work/mqtt/log" 2>&1 &
      targets+=("mqtt=127.0.0.1:$port") ;;
    *) echo "bench: unknown broker $b" >&2; exit 1 ;;
  esac
  pids+=($!)
  wait_port "$port"
done

gw=$(free_port); api=$(free_port); dapr=$(free_port)
taskset -c "$SERVER_CPU" "$OFN_BIN" server --data-dir "$work/data" --gateway "127.0.0.1:$gw" \
  --api-addr "127.0.0.1:$api" --dapr-addr "127.0.0.1:$dapr" --local-images "$IMAGES" --log-level warn \
  >"$work/server.log" 2>&1 &
pids+=($!)
wait_port "$api"
token=$(head -n1 "$work/data/token")

echo "# Ofn async event delivery benchmark"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "command:  bench/async/run.sh (BROKERS=\"$BROKERS\" LAT_EVENTS=${LAT_EVENTS:-2000}" \
     "LAT_INTERVAL_US=${LAT_INTERVAL_US:-2000} TPUT_EVENTS=${TPUT_EVENTS:-20000} COLD_ROUNDS=${COLD_ROUNDS:-20}" \
     "EVENT_SIZE=${EVENT_SIZE:-1024} BARE_BATCH=${BARE_BATCH:-512})"
echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cores:    ofn server + instances, bare subscribers on $SERVER_CPU; brokers + publisher on $CLIENT_CPU"
echo
if ! taskset -c "$CLIENT_CPU" "$EVENTBENCH" run "$api" "$token" "$work/out" "$SERVER_CPU" "${targets[@]}"; then
  echo "bench: the driver failed; server log:" >&2
  tail -n 40 "$work/server.log" >&2
  exit 1
fi

#!/usr/bin/env bash
# The platform benchmark (issue 3), each figure beside its comparison in one run:
#   1. cold start: hello at zero instances, first request through the gateway
#      -> 200, over N rounds, beside the floor (spawn the same binary, poll
#      until it answers);
#   2. warm path: wrk through the gateway vs straight to an instance (added
#      latency at 1 connection) and vs nginx as a keep-alive reverse proxy to
#      the same kind of instance (req/s at 64 connections).
# `ofn server`, the instances and the proxies run on core 0; the clients on core 1.
#
# Env: OFN_BIN (default build/bin/ofn), HELLO (build/examples/hello/hello),
# COLD_ROUNDS (100), DURATION (10s).
set -euo pipefail
cd "$(dirname "$0")/../.."
OFN_BIN=${OFN_BIN:-build/bin/ofn}
HELLO=$(realpath "${HELLO:-build/examples/hello/hello}")
COLDSTART=${COLDSTART:-build/bench/coldstart}
ROUNDS=${COLD_ROUNDS:-100}
DURATION=${DURATION:-10s}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

source bench/lib.sh

direct=$(free_port); proxy=$(free_port)
start_ofn_server

print_header "Ofn platform benchmark" "bench/platform/run.sh (COLD_ROUNDS=$ROUNDS DURATION=$DURATION)"
echo
taskset -c "$CLIENT_CPU" "$COLDSTART" "$api" "$token" "$gw" "$HELLO" "$ROUNDS"

# Warm path: one function kept warm by the load itself.
manifest="apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: warm
  annotations:
    ofn.io/readiness: socket
spec:
  version: v1
  image: bench/hello
  serving:
    scaleOptions:
      minReplicas: 1
      maxReplicas: 1
    triggers:
      http:
        port: 8080
    template:
      containers:
        - name: function
          command: [\"$HELLO\"]"
curl -sf -H "Authorization: Bearer $token" --data-binary "$manifest" "http://127.0.0.1:$api/v1/apply" >/dev/null
curl -sf "http://127.0.0.1:$gw/default/warm/" >/dev/null

OFN_LOG_LEVEL=warn PORT=$direct taskset -c "$SERVER_CPU" "$HELLO" &
pids+=($!)
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1; daemon off; error_log $work/nginx/logs/error.log; pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http { access_log off;
  upstream fn { server 127.0.0.1:$direct; keepalive 128; keepalive_requests 100000000; }
  server { listen 127.0.0.1:$proxy; keepalive_requests 100000000;
    location /default/warm/ { proxy_pass http://fn/; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
taskset -c "$SERVER_CPU" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_port "$direct"; wait_port "$proxy"

measure() {  # name conns url
  local out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"$DURATION" --latency "$3")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf "| %-22s | %5s | %10.0f | %9s | %9s |\n" "$1" "$2" "$rps" "$p50" "$p99"
  eval "rps_${4}=$rps"
}
echo
echo "| warm path              | conns |      req/s |       p50 |       p99 |"
echo "|------------------------|------:|-----------:|----------:|----------:|"
measure "direct to instance" 1 "http://127.0.0.1:$direct/default/warm/" d1
measure "through ofn gateway" 1 "http://127.0.0.1:$gw/default/warm/" g1
measure "through nginx proxy" 1 "http://127.0.0.1:$proxy/default/warm/" n1
measure "through ofn gateway" 64 "http://127.0.0.1:$gw/default/warm/" g64
measure "through nginx proxy" 64 "http://127.0.0.1:$proxy/default/warm/" n64
echo
awk -v g="$rps_g64" -v n="$rps_n64" 'BEGIN { printf "ratio gateway/nginx req/s at 64 conns: %.2f\n", g / n }'
awk -v d="$rps_d1" -v g="$rps_g1" 'BEGIN { printf "added latency through the gateway at 1 conn (from req/s): %.1f us\n", (1e6 / g) - (1e6 / d) }'

# Autoscaling: a step from 0 to 64 concurrent clients (target concurrency 10).
SLEEPY=${SLEEPY:-$(realpath build/examples/conformance/conformance-sleep 2>/dev/null || true)}
step="apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: step
  annotations:
    ofn.io/readiness: socket
spec:
  version: v1
  image: bench/sleepy
  serving:
    scaleOptions:
      maxReplicas: 20
      knative:
        autoscaling.knative.dev/target: \"10\"
    triggers:
      http:
        port: 8080
    template:
      containers:
        - name: function
          command: [\"$SLEEPY\"]
          workingDir: $work"
echo
if [[ -x $SLEEPY ]]; then
  # conformance-sleep answers after 1 s, so 64 clients keep ~64 requests in flight.
  curl -sf -H "Authorization: Bearer $token" --data-binary "$step" "http://127.0.0.1:$api/v1/apply" >/dev/null
  start=$(date +%s.%N)
  taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d6s --timeout 10s "http://127.0.0.1:$gw/default/step/" > "$work/step.out" &
  wrkpid=$!
  reached=""
  while kill -0 $wrkpid 2>/dev/null; do
    ready=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$api/metrics" |
            awk -F'} ' '/^ofn_ready_replicas\{namespace="default",function="step"\}/ {print $2}')
    if [[ -z $reached && ${ready:-0} -ge 6 ]]; then reached=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}'); fi
    sleep 0.05
  done
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/step.out"); errors=$(awk '/Socket errors/ {print}' "$work/step.out")
  echo "autoscaling step 0 -> 64 clients (target 10): >= 6 ready instances after ${reached:-never} s;" \
       "non-2xx answers: ${non2xx:-0}; ${errors:-no socket errors}"
fi

# Footprint: an idle server with 100 functions applied, all at zero.
fp=$(free_port)
taskset -c "$SERVER_CPU" "$OFN_BIN" server --data-dir "$work/fp" --gateway "127.0.0.1:$fp" --log-level warn &
fppid=$!
pids+=($fppid)
for _ in $(seq 100); do [[ -S $work/fp/ofn.sock ]] && break; sleep 0.05; done
for i in $(seq 100); do printf -- '---\n%s\n' "${manifest//name: warm/name: fn$i}"; done > "$work/100.yaml"
sed -i 's/minReplicas: 1/minReplicas: 0/' "$work/100.yaml"
"$OFN_BIN" --data-dir "$work/fp" apply -f "$work/100.yaml" >/dev/null
sleep 1
echo "footprint: idle ofn server with 100 functions at zero: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$fppid/status)"

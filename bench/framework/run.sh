#!/usr/bin/env bash
# The framework benchmark: the hello function beside nginx, in one run.
#
# Both servers are pinned to one core (SERVER_CPU, default 0) and wrk to
# another (CLIENT_CPU, default 1); each is measured with `wrk --latency -t1` at
# every connection count in CONNS. Prints req/s, p50 and p99 per target and
# conns, the ratio hello/nginx req/s, and the hello process's idle RSS.
# Traffic goes to 127.0.0.1 only; everything started here is stopped on exit.
#
# Environment:
#   OFN_HELLO_BIN  server command for "hello", run with PORT set
#                  (default build/examples/hello/hello; "none" = nginx alone)
#   DURATION       wrk duration per measurement (default 10s)
#   WARMUP         wrk warm-up per target before measuring (default 2s; 0 = none)
#   CONNS          connection counts (default "1 64")
#   SERVER_CPU, CLIENT_CPU   cores for the servers and for wrk (default 0, 1)
#
# Absolute figures move ±10-50% between runs on a shared machine: compare the
# ratios, which are taken in the same run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HELLO_BIN=${OFN_HELLO_BIN:-$ROOT/build/examples/hello/hello}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-1 64}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

die() { echo "bench: $*" >&2; exit 1; }

for tool in wrk nginx taskset curl awk timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run: scripts/bootstrap.sh bench)"
done
if [[ $HELLO_BIN != none ]]; then
  read -r -a hello_cmd <<<"$HELLO_BIN"
  command -v "${hello_cmd[0]}" >/dev/null 2>&1 || [[ -x ${hello_cmd[0]} ]] ||
    die "hello server '${hello_cmd[0]}' not found (run: make build, or set OFN_HELLO_BIN)"
fi

# wrk's -d takes 10s, 1m, 500ms...; seconds for the safety timeout.
to_seconds() {
  awk -v d="$1" 'BEGIN {
    n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
    if (u == "ms") n /= 1000; else if (u == "m") n *= 60; else if (u == "h") n *= 3600
    printf "%d\n", n + 0.999 }'
}

TMP=$(mktemp -d /tmp/ofn-bench.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Give each a moment to drain, then insist.
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port nobody listens on (any address, IPv4 or IPv6) and that we have not
# handed out yet.
used_ports=" "
free_port() {
  local p hex
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    [[ $used_ports == *" $p "* ]] && continue
    hex=$(printf '%04X' "$p")
    if ! awk -v h="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) found = 1 }
                          END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# wait_ready NAME PORT PID: until GET / answers (5 s at most).
wait_ready() {
  local name=$1 port=$2 pid=$3
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { echo "bench: $name exited during start-up" >&2; return 1; }
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then return 0; fi
    sleep 0.05
  done
  echo "bench: $name did not answer on 127.0.0.1:$port within 5 s" >&2
  return 1
}

targets=()
declare -A port_of pid_of

# nginx: private prefix under $TMP, not a daemon, pinned like hello.
nginx_port=$(free_port)
mkdir -p "$TMP/nginx"
sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$nginx_port|g" \
  "$ROOT/bench/framework/nginx.conf.template" >"$TMP/nginx/nginx.conf"
taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
  >"$TMP/nginx/stdout.log" 2>&1 &
pid_of[nginx]=$!
pids+=("${pid_of[nginx]}")
port_of[nginx]=$nginx_port
wait_ready nginx "$nginx_port" "${pid_of[nginx]}" || { cat "$TMP/nginx/error.log" >&2; exit 1; }

hello_rss=""
if [[ $HELLO_BIN != none ]]; then
  hello_port=$(free_port)
  PORT=$hello_port taskset -c "$SERVER_CPU" "${hello_cmd[@]}" >"$TMP/hello.log" 2>&1 &
  pid_of[hello]=$!
  pids+=("${pid_of[hello]}")
  port_of[hello]=$hello_port
  wait_ready hello "$hello_port" "${pid_of[hello]}" || { cat "$TMP/hello.log" >&2; exit 1; }
  sleep 0.2
  hello_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${pid_of[hello]}/status")
  targets+=(hello)
fi
targets+=(nginx)

# run_wrk TARGET CONNS DURATION OUT
run_wrk() {
  local limit
  limit=$(($(to_seconds "$3") + 30))
  # In the background so that a signal reaches the traps at once.
  timeout -k 5 "$limit" taskset -c "$CLIENT_CPU" \
    wrk -t1 -c"$2" -d"$3" --latency "http://127.0.0.1:${port_of[$1]}/" >"$4" 2>&1 &
  wrk_pid=$!
  pids+=("$wrk_pid")
  if ! wait "$wrk_pid"; then
    cat "$4" >&2
    die "wrk against $1 failed"
  fi
  unset 'pids[-1]'
}

# parse_wrk FILE -> "req/s p50_ms p99_ms errors"
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/)  return v * 60000
      if (v ~ /s$/)  return v * 1000
      return v + 0
    }
    /^Requests\/sec:/          { rps = $2 }
    $1 == "50%"                { p50 = ms($2) }
    $1 == "99%"                { p99 = ms($2) }
    /Non-2xx or 3xx responses/ { err += $NF }
    /Socket errors:/           { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) err += v } }
    END {
      if (rps == "" || p50 == "" || p99 == "") exit 1
      printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err
    }' "$1"
}

echo "# Ofn framework benchmark"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "command:  ${0#"$ROOT"/} (DURATION=$DURATION CONNS=\"$CONNS\" SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU)"
echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
echo "servers:  ${targets[*]} on core $SERVER_CPU; wrk -t1 on core $CLIENT_CPU; ${DURATION} per measurement"
[[ $HELLO_BIN != none ]] && echo "hello:    ${HELLO_BIN#"$ROOT"/} (pid ${pid_of[hello]})"
echo

if [[ $WARMUP != 0 ]]; then
  for t in "${targets[@]}"; do
    run_wrk "$t" 64 "$WARMUP" "$TMP/warmup-$t.txt"
  done
fi

declare -A rps_of
rows=()
for c in $CONNS; do
  for t in "${targets[@]}"; do
    out="$TMP/wrk-$t-$c.txt"
    run_wrk "$t" "$c" "$DURATION" "$out"
    read -r rps p50 p99 err < <(parse_wrk "$out") || { cat "$out" >&2; die "cannot parse wrk output"; }
    rps_of[$t,$c]=$rps
    rows+=("$t $c $rps $p50 $p99 $err")
  done
done

printf '| %-6s | %5s | %10s | %9s | %9s | %6s |\n' target conns 'req/s' 'p50 (ms)' 'p99 (ms)' errors
printf '|%s|%s|%s|%s|%s|%s|\n' -------- ------: -----------: ----------: ----------: -------:
for r in "${rows[@]}"; do
  read -r t c rps p50 p99 err <<<"$r"
  printf '| %-6s | %5s | %10s | %9s | %9s | %6s |\n' "$t" "$c" "$rps" "$p50" "$p99" "$err"
done
echo

if [[ $HELLO_BIN != none ]]; then
  for c in $CONNS; do
    awk -v c="$c" -v h="${rps_of[hello,$c]}" -v n="${rps_of[nginx,$c]}" \
      'BEGIN { printf "ratio hello/nginx req/s at %3d conns: %.2f\n", c, (n > 0 ? h / n : 0) }'
  done
  awk -v kb="$hello_rss" 'BEGIN { printf "hello idle RSS (VmRSS after start): %d kB (%.1f MB)\n", kb, kb / 1024 }'
fi

for r in "${rows[@]}"; do
  read -r t c _ _ _ err <<<"$r"
  [[ $err -eq 0 ]] || echo "warning: $t at $c conns had $err errors (non-2xx or socket errors)" >&2
done

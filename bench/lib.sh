# What the bench/*/run.sh scripts share (sourced, not run): a work directory
# removed at exit (kept with KEEP_WORK=1), the background processes in `pids`
# killed at exit, and loopback port helpers.
work=$(mktemp -d /tmp/ofn-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP_WORK:-} ]]; then echo "bench: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
              shuf -i 20000-60000 -n 1; }
# Waits up to 10 s for something to listen on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 500); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.02; done
  echo "bench: nothing listens on port $1" >&2
  return 1
}

# Starts `ofn server` ($OFN_BIN) on core $SERVER_CPU, its data in $work/data,
# the API on TCP too; extra flags are passed on. Sets gw, api and token.
start_ofn_server() {
  gw=$(free_port); api=$(free_port)
  taskset -c "$SERVER_CPU" "$OFN_BIN" server --data-dir "$work/data" --gateway "127.0.0.1:$gw" \
    --api-addr "127.0.0.1:$api" --log-level warn "$@" &
  pids+=($!)
  wait_port "$api"; wait_port "$gw"
  token=$(cat "$work/data/token")
}

# The head of a benchmark's output: $1 its title, $2 how it was run.
print_header() {
  echo "# $1"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "command:  $2"
  echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
}

#!/usr/bin/env bash
# Installs Ofn from the build tree into a temporary prefix, builds a one-file
# function with find_package(ofn) + ofn_add_function, runs it and calls it.
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$src_dir/project" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null

# Port 0: the server picks a free port and logs it.
PORT=0 "$work/build/greet" 2>"$work/log" &
pid=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's/.*serving port=\([0-9]*\).*/\1/p' "$work/log")
  [[ -n $port ]] && break
  sleep 0.05
done
body=$(curl -sf --max-time 5 "http://127.0.0.1:${port:-0}/greet/installed" || true)
if [[ "${body:-}" != "hi installed" ]]; then
  echo "unexpected answer: '${body:-}'"; cat "$work/log"; exit 1
fi
echo "installed package works: $body"

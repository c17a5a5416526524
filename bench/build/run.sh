#!/usr/bin/env bash
# The build and container benchmark (issue 5), each figure beside its peer in one run:
#   1. builds through `ofn server`: the first (full) build of examples/hello
#      (`ofn build -f hello.yaml -q`, CLI included) beside REBUILDS unchanged
#      rebuilds (`ofn build hello -q`, cache hits); the image's compressed size;
#   2. cold starts: the built image at zero instances as an isolated container
#      (no command, readiness socket), first request through the gateway -> 200,
#      beside the same binary as a process Function and beside `crun run` of
#      the same rootfs (serving: spawn -> 200; and to exit), the floors'
#      containers also on the server's core (bench/build/imagebench.cc);
#   3. push of the image from the server's image store to a loopback
#      docker-registry: Ofn's registry client beside `skopeo copy`, each to
#      empty registries, and whether both give the same manifest digest.
# `ofn server` (and the builds it runs, and the registry) on core 0; the CLI,
# imagebench and skopeo on core 1.
#
# Env: BUILD_DIR (default build; its bin/ofn, bench/imagebench, and the SDK
# installed from it), COLD_ROUNDS (50), REBUILDS (20), PUSH_ROUNDS (5),
# SERVER_CPU (0), CLIENT_CPU (1). Needs crun, skopeo, docker-registry, jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
OFN_BIN=$(realpath "${OFN_BIN:-$BUILD_DIR/bin/ofn}")
IMAGEBENCH=$(realpath "${IMAGEBENCH:-$BUILD_DIR/bench/imagebench}")
ROUNDS=${COLD_ROUNDS:-50}
REBUILDS=${REBUILDS:-20}
PUSHES=${PUSH_ROUNDS:-5}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
IMAGE=local/hello:v1

source bench/lib.sh
now_us() { echo "${EPOCHREALTIME/./}"; }  # bash 5: no fork, so nothing added to what is timed
ms_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
# "p50 max min" of the numbers on stdin (p50: the upper median, as imagebench's).
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f %.1f\n", v[int(NR / 2) + 1], v[NR], v[1] }'; }
ofn() { taskset -c "$CLIENT_CPU" "$OFN_BIN" --data-dir "$work/data" "$@"; }

# The SDK C++ builds compile against, installed from the same build tree.
cmake --install "$BUILD_DIR" --prefix "$work/sdk" >/dev/null
cp -r examples/hello "$work/src"

start_ofn_server --sdk-prefix "$work/sdk"

print_header "Ofn build and container benchmark" \
  "bench/build/run.sh (REBUILDS=$REBUILDS COLD_ROUNDS=$ROUNDS PUSH_ROUNDS=$PUSHES)"
echo "tools:    $(crun --version | head -1), $(skopeo --version), docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')"
echo

# 1. Builds.
cat > "$work/hello.yaml" <<YAML
apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: hello
  annotations:
    ofn.io/readiness: socket
spec:
  version: v1
  image: $IMAGE
  build:
    builder: cpp
    srcRepo:
      url: $work/src
  serving:
    triggers:
      http:
        port: 8080
YAML
t0=$(now_us)
ofn build -f "$work/hello.yaml" -q > "$work/build.out"
full_ms=$(ms_since "$t0")
digest=$(jq -r --arg t "$IMAGE" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
           "$work/data/images/index.json")
: > "$work/rebuilds"
for _ in $(seq "$REBUILDS"); do
  t0=$(now_us)
  ofn build hello -q > "$work/rebuild.out"
  ms_since "$t0" >> "$work/rebuilds"; echo >> "$work/rebuilds"
  grep -q "@$digest" "$work/rebuild.out" || { echo "rebuild gave another image: $(cat "$work/rebuild.out")" >&2; exit 1; }
done
cached=$(ofn logs hello --build | grep -c '\[build\] cached image' || true)
read -r rb50 rbmax rbmin < <(stats < "$work/rebuilds")
manifest="$work/data/images/blobs/sha256/${digest#sha256:}"
layers=$(jq '.layers | length' "$manifest")
compressed=$(jq '[.layers[].size] | add' "$manifest")

echo "| build of examples/hello (ofn build, CLI included) |     n |  p50 (ms) |  max (ms) |"
echo "|---------------------------------------------------|------:|----------:|----------:|"
printf "| %-49s | %5d | %9.1f | %9s |\n" "first build (full: cmake + compile + image)" 1 "$full_ms" "-"
printf "| %-49s | %5d | %9.1f | %9.1f |\n" "unchanged rebuild (cache hit)" "$REBUILDS" "$rb50" "$rbmax"
echo
awk -v f="$full_ms" -v r="$rb50" 'BEGIN { printf "ratio full build / unchanged rebuild p50: %.0fx\n", f / r }'
echo "last rebuild's log says cached: $([[ $cached -gt 0 ]] && echo yes || echo no); image $IMAGE@$digest"
awk -v c="$compressed" -v l="$layers" 'BEGIN { printf "image compressed size (sum of %d layers in the manifest): %.2f MB (%d bytes)\n", l, c / 1048576, c }'
echo

# 2. Cold starts (imagebench prints the table and unpacks the rootfs into $work/rootfs).
taskset -c "$CLIENT_CPU" "$IMAGEBENCH" cold "$api" "$token" "$gw" "$work/data/images" "$IMAGE" "$ROUNDS" "$work" "$SERVER_CPU"
echo "image unpacked (rootfs on disk): $(du -sb "$work"/rootfs/*/rootfs | awk '{ printf "%.2f MB", $1 / 1048576 }')"
echo

# 3. Push vs skopeo. Each push goes to an empty repository of its own
# registry (docker-registry on a fresh port): skopeo remembers where it put
# blobs (its blob-info cache) and would otherwise mount them from an earlier
# repository instead of uploading; Ofn's client mounts only when told to.
registry=0
start_registry() {  # sets reg (its port) and reg_pid
  registry=$((registry + 1))
  local dir="$work/registry-$registry"
  reg=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/config.yml" <<CONF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$reg
CONF
  taskset -c "$SERVER_CPU" docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  reg_pid=$!
  pids+=($reg_pid)
  wait_port "$reg"
  until curl -sf "http://127.0.0.1:$reg/v2/" >/dev/null; do sleep 0.02; done
}
inspect() { taskset -c "$CLIENT_CPU" skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$reg/bench/$1:v1"; }
push_ofn() {
  start_registry
  local t0; t0=$(now_us)
  taskset -c "$CLIENT_CPU" "$IMAGEBENCH" push "$work/data/images" "$IMAGE" "127.0.0.1:$reg/bench/ofn:v1" > "$work/push.out"
  ms_since "$t0" >> "$work/push-ofn"; echo >> "$work/push-ofn"
  awk '{ print $4 }' "$work/push.out" >> "$work/push-ofn-inner"
  read -r _ ofn_blobs ofn_bytes _ < "$work/push.out"
  [[ $1 == 1 ]] && d_ofn=$(inspect ofn)
  kill "$reg_pid"
}
push_skopeo() {
  start_registry
  local t0; t0=$(now_us)
  taskset -c "$CLIENT_CPU" skopeo copy -q --dest-tls-verify=false "oci:$work/data/images:$IMAGE" \
    "docker://127.0.0.1:$reg/bench/skopeo:v1"
  ms_since "$t0" >> "$work/push-skopeo"; echo >> "$work/push-skopeo"
  [[ $1 == 1 ]] && d_skopeo=$(inspect skopeo)
  kill "$reg_pid"
}
: > "$work/push-ofn"; : > "$work/push-ofn-inner"; : > "$work/push-skopeo"
for i in $(seq "$PUSHES"); do  # alternate who goes first
  if (( i % 2 )); then push_ofn "$i"; push_skopeo "$i"; else push_skopeo "$i"; push_ofn "$i"; fi
done
read -r o50 omax omin < <(stats < "$work/push-ofn")
read -r i50 imax imin < <(stats < "$work/push-ofn-inner")
read -r s50 smax smin < <(stats < "$work/push-skopeo")

printf "| %-55s |     n |  p50 (ms) |  min (ms) |  max (ms) |\n" "push to an empty loopback registry (whole process)"
echo "|---------------------------------------------------------|------:|----------:|----------:|----------:|"
printf "| %-55s | %5d | %9.1f | %9.1f | %9.1f |\n" "ofn registry client (imagebench push)" "$PUSHES" "$o50" "$omin" "$omax"
printf "| %-55s | %5d | %9.1f | %9.1f | %9.1f |\n" "  of which inside build::Push" "$PUSHES" "$i50" "$imin" "$imax"
printf "| %-55s | %5d | %9.1f | %9.1f | %9.1f |\n" "skopeo copy oci:... docker://..." "$PUSHES" "$s50" "$smin" "$smax"
echo
awk -v o="$o50" -v s="$s50" 'BEGIN { printf "ratio ofn/skopeo push p50: %.2f\n", o / s }'
awk -v b="$ofn_blobs" -v n="$ofn_bytes" 'BEGIN { printf "each ofn push uploaded %d blobs, %.2f MB\n", b, n / 1048576 }'
echo "manifest digest: ofn push $d_ofn, skopeo copy $d_skopeo, local $digest"
echo "digests equal: $([[ $d_ofn == "$d_skopeo" && $d_ofn == "$digest" ]] && echo yes || echo no)"

#!/usr/bin/env bash
# Installs the Debian packages Ofn needs, and only those that are missing.
#
#   scripts/bootstrap.sh [GROUP...]     GROUP: build (default), fuzz, bench, all
#
#   build  compilers, CMake, Ninja and the libraries the build and tests need
#   fuzz   build + clang and its libFuzzer/sanitizer runtimes (make fuzz)
#   bench  build + wrk, nginx, taskset and ps (make bench)
#
# Idempotent and non-interactive: a package counts as present when dpkg says
# "install ok installed"; `apt-get update` runs at most once, and only when
# something is missing. Works as root; otherwise uses sudo if it is there.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev curl
  libhiredis-dev libnats-dev libmosquitto-dev librdkafka-dev
  redis-server nats-server mosquitto mosquitto-clients
  libssl-dev zlib1g-dev skopeo umoci docker-registry apache2-utils
  crun runc buildah nodejs util-linux
)
FUZZ_PKGS=(clang libclang-rt-14-dev)
BENCH_PKGS=(wrk nginx-light util-linux procps jq)

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

groups=("$@")
[[ ${#groups[@]} -eq 0 ]] && groups=(build)

wanted=()
for g in "${groups[@]}"; do
  case "$g" in
    build) wanted+=("${BUILD_PKGS[@]}") ;;
    fuzz) wanted+=("${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}") ;;
    bench) wanted+=("${BUILD_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    all) wanted+=("${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bootstrap: unknown group '$g' (build, fuzz, bench, all)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "bootstrap: not a Debian system (no dpkg-query); install these yourself:" >&2
  printf '  %s\n' "${wanted[@]}" | sort -u >&2
  exit 0
fi

missing=()
declare -A seen=()
for p in "${wanted[@]}"; do
  [[ -n ${seen[$p]:-} ]] && continue
  seen[$p]=1
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

# Debian's nodejs comes without npm (NodeSource's includes it): the node
# build strategy needs npm either way.
if [[ -n ${seen[nodejs]:-} ]] && ! command -v npm >/dev/null 2>&1; then
  status=$(dpkg-query -W -f='${Status}' nodejs 2>/dev/null || true)
  [[ $status == "install ok installed" && $(dpkg-query -W -f='${Version}' nodejs) == *nodesource* ]] || missing+=(npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "bootstrap: all packages present (${groups[*]})"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "bootstrap: not root and no sudo; as root, run: apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "bootstrap: done"

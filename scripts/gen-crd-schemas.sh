#!/usr/bin/env bash
# Regenerates src/api/embedded_crd_schemas.cc, the CRD schemas Ofn embeds,
# from OpenFunction's CRD files (default: ../shared/specs/openfunction-crds,
# whose SOURCE file names the upstream commit). The output is committed, so
# builds need neither the CRD files nor this script; ofn_api_test checks that
# the embedded schemas still match the files when they are present.
#
#   scripts/gen-crd-schemas.sh [CRD_DIR]
#
# The generator is C++ (src/api/tools/gen_crd_schemas.cc) on top of ofn_api,
# so it reads YAML exactly as Ofn does; it is built in build-gen/ (override
# with OFN_GEN_BUILD_DIR).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
crds=${1:-$root/../shared/specs/openfunction-crds}
build=${OFN_GEN_BUILD_DIR:-$root/build-gen}
out=$root/src/api/embedded_crd_schemas.cc

[[ -f $crds/SOURCE ]] || { echo "no CRDs at $crds (expected SOURCE and *.yaml)" >&2; exit 1; }

cmake -S "$root" -B "$build" -G Ninja -DOFN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target ofn_api ofn_common >/dev/null
lib_api=$(find "$build" -name libofn_api.a | head -n1)
lib_common=$(find "$build" -name libofn_common.a | head -n1)
# shellcheck disable=SC2046  # pkg-config prints several flags
"${CXX:-c++}" -std=c++20 -O1 -I"$root/include" -I"$root/src" \
  "$root/src/api/tools/gen_crd_schemas.cc" "$lib_api" "$lib_common" \
  $(pkg-config --cflags --libs yaml-cpp) -o "$build/gen-crd-schemas"

"$build/gen-crd-schemas" "$crds/SOURCE" "$crds"/*.yaml >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -c <"$out") bytes)"

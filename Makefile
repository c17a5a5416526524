# Ofn: the only set-up is `make run` or `make test`.
#
#   make build   install missing build packages, configure and build into build/
#   make test    build, then run every test with ctest
#   make run     build, then start ofn server with the examples applied on $(PORT) (default 8080)
#   make fuzz    clang build in build-fuzz/, each fuzzer for $(FUZZ_SECONDS) s
#   make bench   hello vs nginx (bench/framework), then the platform (bench/platform), async delivery (bench/async), builds (bench/build) and events (bench/events)
#   make clean   remove build/ and build-fuzz/
#
# CI=true (set by CI) turns warnings into errors. Extra CMake options:
# CMAKE_FLAGS='-D...'.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD_DIR    := build
FUZZ_DIR     := build-fuzz
BUILD_TYPE   ?= RelWithDebInfo
JOBS         ?= 2
PORT         ?= 8080
FUZZ_SECONDS ?= 60
CMAKE_FLAGS  ?=

# Warnings are errors in CI; OFN_WERROR is always passed so that a build dir
# configured by CI does not keep -Werror for a later local build.
OFN_WERROR := $(if $(filter true,$(CI)),ON,OFF)


.PHONY: all build test run fuzz bench clean

all: build

build:
	bash scripts/bootstrap.sh build
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DOFN_WERROR=$(OFN_WERROR) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) --timeout 300

run: build
	@PORT=$(PORT) BUILD_DIR=$(BUILD_DIR) bash scripts/run.sh

# OFN_FUZZ=ON instruments every target (see CMakeLists.txt). Crash
# reproducers go to build-fuzz/artifacts/.
fuzz:
	bash scripts/bootstrap.sh fuzz
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER=clang++ -DOFN_FUZZ=ON -DOFN_BUILD_TESTS=OFF -DOFN_WERROR=OFF \
	  $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j$(JOBS)
	shopt -s nullglob; fuzzers=($(FUZZ_DIR)/fuzz/*_fuzz); \
	if (( $${#fuzzers[@]} == 0 )); then echo "no fuzzers in $(FUZZ_DIR)/fuzz/" >&2; exit 1; fi; \
	mkdir -p $(FUZZ_DIR)/artifacts; \
	for f in "$${fuzzers[@]}"; do \
	  name=$$(basename "$$f"); corpus=$(FUZZ_DIR)/corpus/$$name; mkdir -p "$$corpus"; \
	  seeds=(); [[ -d fuzz/corpus/$$name ]] && seeds=(fuzz/corpus/$$name); \
	  echo "==> $$name for $(FUZZ_SECONDS) s (corpus $$corpus)"; \
	  "$$f" -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$name- "$$corpus" "$${seeds[@]}"; \
	done

bench: build
	bash scripts/bootstrap.sh bench
	bash bench/framework/run.sh
	bash bench/platform/run.sh
	bash bench/async/run.sh
	bash bench/build/run.sh
	bash bench/events/run.sh

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)

# compe: set-up and everyday commands. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# The sanitizer build (clang, ASan + UBSan, libFuzzer targets): a second build folder.
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 30
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: deps build test test-slow build-asan test-asan fuzz demo bench clean format python

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# Kill points (SIGKILL at many instants of compe run, tune, a host upload), then integrity checks.
test-slow: build
	cd $(BUILD) && ctest --output-on-failure -L slow

$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCOMPE_FUZZ=ON -DCOMPE_WERROR=OFF \
	  -DCOMPE_BUILD_PYTHON=OFF -DCOMPE_BUILD_BENCH=OFF $(CMAKE_FLAGS)

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The unit and CLI suites under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: build-asan
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) -LE slow -E '^browser_'

# Every fuzz target for FUZZ_SECONDS under ASan + UBSan (scripts/fuzz.sh; findings in
# $(ASAN_BUILD)/fuzz-artifacts).
fuzz: build-asan
	scripts/fuzz.sh $(abspath $(ASAN_BUILD)) $(FUZZ_SECONDS)

# The Python module: build/python holds the importable package `compe`
# (use it with PYTHONPATH=$(BUILD)/python /usr/bin/python3; docs/PYTHON.md).
python: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target python

demo: build
	@scripts/demo.sh $(BUILD)/compe

bench: build
	@COMPE_WITH_PEERS=1 scripts/install-deps.sh
	@scripts/bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

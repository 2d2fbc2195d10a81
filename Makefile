# compe: set-up and everyday commands. See README.md.
# Each target installs the Debian packages it needs first (scripts/install-deps.sh GROUP...).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DEPS := scripts/install-deps.sh

# Configures $(BUILD) when it has no cache yet, or when Debian packages were installed since the
# last configure here (dpkg's status file is newer than the stamp; CMake leaves an unchanged cache
# file alone): a build first configured by `make demo` then finds what `make test` or `make python`
# added (pybind11, node, ...).
define configure
	@if [ ! -f $(BUILD)/configured.stamp ] || [ /var/lib/dpkg/status -nt $(BUILD)/configured.stamp ]; then \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) && touch $(BUILD)/configured.stamp; fi
endef

# The sanitizer build (clang, ASan + UBSan, libFuzzer targets): a second build folder, kept lean
# for CI (-O1, line tables only, no Python module, no benchmarks) and built without precompiled
# headers, so that it also checks every file includes what it uses.
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 30
# Fuzz targets run at once (each on one core).
FUZZ_JOBS ?= 1
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: deps build test test-slow build-asan test-asan fuzz demo bench clean format python

# Everything `make test` and CI need.
deps:
	@$(DEPS) build test

build:
	@$(DEPS) build
	$(configure)
	cmake --build $(BUILD) -j $(JOBS)

test:
	@$(DEPS) build test
	$(configure)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# Kill points (SIGKILL at many instants of compe run, tune, a host upload) and the load test.
test-slow:
	@$(DEPS) build test sanitize
	$(configure)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -L slow

$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCOMPE_FUZZ=ON -DCOMPE_WERROR=OFF \
	  -DCOMPE_BUILD_PYTHON=OFF -DCOMPE_BUILD_BENCH=OFF -DCOMPE_PCH=OFF $(CMAKE_FLAGS)

build-asan:
	@$(DEPS) build test sanitize
	$(MAKE) $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The unit, store and CLI suites under AddressSanitizer and UndefinedBehaviorSanitizer; the browser
# tests and the image example (PyTorch's code, not compe's) run in the main build only.
test-asan: build-asan
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) -LE slow -E '^(browser|example)_'

# Every fuzz target for FUZZ_SECONDS under ASan + UBSan (scripts/fuzz.sh; findings in
# $(ASAN_BUILD)/fuzz-artifacts).
fuzz: build-asan
	FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz.sh $(abspath $(ASAN_BUILD)) $(FUZZ_SECONDS)

# The Python module: build/python holds the importable package `compe`
# (use it with PYTHONPATH=$(BUILD)/python /usr/bin/python3; docs/PYTHON.md).
python:
	@$(DEPS) build python
	$(configure)
	cmake --build $(BUILD) -j $(JOBS) --target python

# The Titanic demo needs the CLI alone: nothing else is installed or compiled.
demo:
	@$(DEPS) build demo
	$(configure)
	cmake --build $(BUILD) -j $(JOBS) --target compe
	@scripts/demo.sh $(BUILD)/compe

bench:
	@$(DEPS) build peers
	$(configure)
	cmake --build $(BUILD) -j $(JOBS)
	@FULL=$(or $(FULL),0) bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

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

.PHONY: deps build test demo bench clean format python

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
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

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
	@scripts/bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)

# Two commands for a fresh machine: `make demo` and `make test`. Each installs what it
# needs first: the Debian data packages (Fashion-MNIST, fonts) and the project venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Wheels of the codec's dependencies, as installed in .venv, for tests/test_install.py:
# it installs the built pladafmt wheel into a fresh venv offline, from local files only.
WHEELHOUSE := $(VENV)/wheelhouse
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEB_PACKAGES := dataset-fashion-mnist fonts-dejavu-core fonts-freefont-ttf fonts-liberation
FUZZ_SECONDS ?= 600

.PHONY: demo test bench bench-quick fuzz fuzz-nojit install data wheelhouse clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[pipeline,test]'
	rm -rf $(WHEELHOUSE)
	touch $(STAMP)

# Downloaded once (pip's ordinary client, exact versions); the test itself needs no network.
wheelhouse: $(WHEELHOUSE)/.done

$(WHEELHOUSE)/.done: $(STAMP)
	$(BIN)/pip download -q --no-deps --only-binary=:all: -d $(WHEELHOUSE) \
		$$($(BIN)/python tests/test_install.py --requirements)
	touch $@

# The Debian packages the pipeline and its tests read (installed once, as root).
data: $(FASHION)

$(FASHION):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(DEB_PACKAGES)

demo: install data
	$(BIN)/plada demo

test: install data wheelhouse
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks.run

bench-quick: install
	$(BIN)/python -m benchmarks.run --quick

# Coverage-guided fuzzing of decode under Numba bounds checks (the script picks its own
# NUMBA_CACHE_DIR: the cache does not key on the bounds-check setting). fuzz-nojit runs the
# kernels as Python (~6x slower) so the fuzzer sees coverage inside them. PLADAFMT_JIT_ALWAYS=1:
# small inputs too go through the kernels as Numba runs them (pladafmt/_jit.py).
FUZZ_ARGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix=tests/fuzz/ tests/fuzz/corpus tests/fuzz/seeds conformance/vectors

fuzz: install
	mkdir -p tests/fuzz/corpus tests/fuzz/seeds
	PLADAFMT_JIT_ALWAYS=1 NUMBA_BOUNDSCHECK=1 $(BIN)/python tests/fuzz/fuzz_decode.py $(FUZZ_ARGS)

fuzz-nojit: install
	mkdir -p tests/fuzz/corpus tests/fuzz/seeds
	PLADAFMT_JIT_ALWAYS=1 NUMBA_DISABLE_JIT=1 NUMBA_BOUNDSCHECK=0 $(BIN)/python tests/fuzz/fuzz_decode.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
